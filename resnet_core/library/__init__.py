"""The results library: every shipped result declared once, rebuilt as independent runs, indexed on disk.

Modules: ``entries`` (the catalogue: name, file, configuration, seeds as runs, budget, config hash), ``executors``
(local in-process, or Ray tasks; Ray is imported only there), ``store`` (the index ``library.json`` in the library
folder, atomic writes), ``build`` (plan, resume, run, merge, record), ``command`` (``python -m resnet_core library
build|list|adopt``). How one run executes and how per-seed runs merge is each experiment's own
(:mod:`resnet_core.registry`, :class:`resnet_core.experiment.Experiment`).
"""
