"""Block ablation (Veit, Wilber & Belongie 2016): delete or reorder blocks of a trained residual and plain net at
test time; a ResNet behaves like an ensemble of shallow paths, a plain net does not.

Parts: ``config`` (AblationConfig, the checkpoints it reads), ``run`` (the lesion sweeps), ``lesions`` (which
blocks can go, random draws, BatchNorm statistics re-estimated after a lesion, path-length arithmetic), ``pair``
(the two nets: shipped checkpoints or a pair trained on the page), ``result`` (AblationResult), ``report``
(verdicts, none from a partial run), ``plots``, ``command`` (``python -m resnet_core ablation``).
"""

from resnet_core.ablation import command, report
from resnet_core.ablation.config import AblationConfig, checkpoints
from resnet_core.ablation.result import AblationResult, ModelAblation
from resnet_core.ablation.run import run_ablation
from resnet_core.experiment import Experiment
from resnet_core.i18n import N_

EXPERIMENT = Experiment(
    kind="ablation",
    title=N_("Block ablation"),
    config_type=AblationConfig,
    result_type=AblationResult,
    run=run_ablation,
    register=command.register,
    headline=report.headline,
    progress=report.progress_words,
    checkpoints=checkpoints,
    # evaluated with the engine's fast numerics until ``fast`` appeared (default now False: fp32, comparable with
    # the manifest's accuracies)
    legacy={"fast": True},
)

__all__ = ["EXPERIMENT", "AblationConfig", "AblationResult", "ModelAblation", "run_ablation"]
