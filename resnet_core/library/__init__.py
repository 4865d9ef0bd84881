"""The results library: every shipped result declared once, rebuilt as independent runs, indexed on disk.

Modules: ``entries`` (the catalogue: name, file, configuration, seeds as runs, budget, config hash), ``kinds``
(how one run of each experiment executes and how per-seed runs merge; the public functions of the experiment
modules), ``executors`` (local in-process, or Ray tasks; Ray is imported only there), ``store`` (the index
``library.json`` in the library folder, atomic writes), ``build`` (plan, resume, run, merge, record).
The command line is ``python -m resnet_core library build|list|adopt`` (``resnet_core/commands/library.py``).
"""
