"""ResNet Lab backend: models, data, the shared training engine, experiments and jobs.

Pure Python + torch. Nothing in this package imports streamlit: the app (``app.py``, ``lab_pages/``) and the
command line (``python -m resnet_core``) are two thin front ends over the same functions.
"""

__version__ = "0.1.0"
