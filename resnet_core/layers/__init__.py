"""What the layers see: an image through preprocessing (ImageNet's pipeline and the lab's 28x28 one), then through
a trained network, stage by stage, with the first layer's filters and Grad-CAM.

Parts: ``config`` (LayersConfig: which image through which net), ``preprocess`` (the pipelines step by step),
``run`` (the networks, forward hooks on each stage, Grad-CAM via captum), ``result`` (FeatureMaps in memory,
LayersResult as JSON), ``report`` (a sentence per stage from the maps), ``plots`` (mosaics, overlays),
``command`` (``python -m resnet_core layers``).
"""

from resnet_core.experiment import Experiment
from resnet_core.i18n import N_
from resnet_core.layers import command
from resnet_core.layers.config import LayersConfig
from resnet_core.layers.plots import gradcam_figure, heat_rgb, overlay
from resnet_core.layers.report import describe_all, describe_stage
from resnet_core.layers.result import FeatureMaps, LayersResult
from resnet_core.layers.run import feature_maps, gradcam, run_layers, stage_modules

EXPERIMENT = Experiment(
    kind="layers",
    title=N_("What the layers see"),
    config_type=LayersConfig,
    result_type=LayersResult,
    run=run_layers,
    register=command.register,
)

__all__ = [
    "EXPERIMENT",
    "FeatureMaps",
    "LayersConfig",
    "LayersResult",
    "describe_all",
    "describe_stage",
    "feature_maps",
    "gradcam",
    "gradcam_figure",
    "heat_rgb",
    "overlay",
    "run_layers",
    "stage_modules",
]
