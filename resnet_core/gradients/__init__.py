"""Gradient flow: how much gradient reaches each block of plain vs residual nets, by depth (He et al. 2016;
Balduzzi et al. 2017), measured on real images.

Parts: ``config`` (GradientConfig), ``run`` (the measurement), ``result`` (GradientRun, GradientResult, merge),
``report`` (verdicts that hold on every seed), ``plots`` (figures), ``command`` (``python -m resnet_core
gradients``), and ``identity`` (the Home page's one-block demonstration of dy/dx = dF/dx + I).
"""

from resnet_core.experiment import Experiment
from resnet_core.gradients import command, report
from resnet_core.gradients.config import DEFAULT_GRADIENT_DEPTHS, GradientConfig
from resnet_core.gradients.result import GradientResult, GradientRun, merge
from resnet_core.gradients.run import measure_gradients, run_gradients
from resnet_core.i18n import N_

EXPERIMENT = Experiment(
    kind="gradients",
    title=N_("Gradient flow"),
    config_type=GradientConfig,
    result_type=GradientResult,
    run=run_gradients,
    register=command.register,
    headline=report.headline,
    progress=report.progress_words,
    merge=merge,
    # measured in fp32 until ``fast`` appeared (default now True: the fast numerics)
    legacy={"fast": False},
)

__all__ = [
    "DEFAULT_GRADIENT_DEPTHS",
    "EXPERIMENT",
    "GradientConfig",
    "GradientResult",
    "GradientRun",
    "measure_gradients",
    "run_gradients",
]
