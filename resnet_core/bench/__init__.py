"""The bench: the project's engine against a tutorial-style loop, side by side, in one run, and the page defaults'
wall times (``python -m resnet_core bench``).

Parts: ``config`` (BenchConfig), ``run`` (the rows), ``tutorial`` (the tutorial-style loop and the peak-memory
meter), ``pages`` (the page defaults, through the same functions the pages call), ``result`` (BenchResult),
``command`` (the table and the CLI).
"""
