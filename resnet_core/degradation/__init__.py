"""The degradation problem (He et al. 2016, Fig. 1 and 6): deeper plain nets train *worse*; residual nets do not.

Parts: ``config`` (DegradationConfig), ``run`` (train every seed, depth and variant on the same data and recipe),
``result`` (errors per epoch, per-seed results merged), ``report`` (verdicts that hold on every seed, or "tie"),
``plots`` (figures, table, budget), ``command`` (``python -m resnet_core degradation``).
"""

from resnet_core.degradation import command, report
from resnet_core.degradation.config import DEFAULT_DEGRADATION_DEPTHS, DegradationConfig
from resnet_core.degradation.result import DegradationResult, DegradationRun, merge_results
from resnet_core.degradation.run import run_degradation
from resnet_core.experiment import Experiment
from resnet_core.i18n import N_


def merge(config: dict, parts: list[DegradationResult]) -> DegradationResult:
    return merge_results(parts)


EXPERIMENT = Experiment(
    kind="degradation",
    title=N_("Degradation problem"),
    config_type=DegradationConfig,
    result_type=DegradationResult,
    run=run_degradation,
    register=command.register,
    headline=report.headline,
    progress=report.progress_words,
    merge=merge,
)

__all__ = [
    "DEFAULT_DEGRADATION_DEPTHS",
    "EXPERIMENT",
    "DegradationConfig",
    "DegradationResult",
    "DegradationRun",
    "merge_results",
    "run_degradation",
]
