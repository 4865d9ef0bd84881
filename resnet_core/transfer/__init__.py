"""Transfer learning: scratch vs feature extraction vs partial / full / staged fine-tuning, side by side, on class
splits of Fashion-MNIST (or ImageNet weights onto CIFAR-10 / uploads).

The source is a CIFAR-style ResNet pretrained (``python -m resnet_core pretrain-source [--split-seed N]``) on six
Fashion-MNIST classes of the full dataset; the target task is the four held-out classes, with k labelled images per
class from the bundled subset. Modules: ``config`` (splits, strategies, TransferConfig), ``models`` (source,
adapter, freezing, BatchNorm drift), ``head`` (cached-feature head training, early stopping), ``target`` (the
target data), ``prefix`` and ``phases`` (how a run trains), ``run`` (one run, a comparison), ``result`` (numbers:
means, standard errors, paired intervals, per-seed parts merged), ``report`` (verdicts and words), ``plots``
(figures), ``gradcam`` (where feature extraction and fine-tuning look), ``source`` (pretraining), ``command``
(``python -m resnet_core transfer`` and ``pretrain-source``).
"""

from resnet_core.experiment import Experiment
from resnet_core.i18n import N_
from resnet_core.transfer import command
from resnet_core.transfer.config import (
    BN_TRAIN,
    IMAGENET_MEAN,
    IMAGENET_SOURCES,
    IMAGENET_STD,
    MAIN_STRATEGIES,
    PRETRAINED,
    SOURCE_CLASSES,
    SOURCE_NAME,
    SOURCE_PATH,
    SOURCES,
    STRATEGIES,
    STRATEGY_SHORT,
    STRATEGY_TITLES,
    TARGET_CLASSES,
    TARGETS,
    VAL_SPLIT_SEED,
    TransferConfig,
    checkpoints,
    describe_split,
    draw_split,
    source_name,
    split_label,
)
from resnet_core.transfer.head import EarlyStopper, cached_features, epoch_set, train_head_on_features
from resnet_core.transfer.models import (
    InputAdapter,
    SourceModel,
    TransferNet,
    bn_drift,
    bn_layers,
    bn_statistics,
    build_model,
    configure_strategy,
    load_source,
    trainable_parameter_count,
)
from resnet_core.transfer.report import (
    acc_se,
    config_notes,
    contract_dict,
    describe_bn_drift,
    describe_comparison,
    describe_pair,
    describe_parity,
    describe_sweep,
    lr_ratio_text,
    overall_verdict,
    pair_verdict,
    paired_table,
    progress_words,
    results_table,
    summary_table,
    verdicts,
)
from resnet_core.transfer.result import (
    PAIRS,
    SWEEP_PATH,
    RunResult,
    TransferResult,
    binomial_se,
    comparison_path,
    load_result,
    load_shipped_sweep,
    mean_interval,
    merge,
    paired_differences,
    shipped_comparisons,
    summarize,
)
from resnet_core.transfer.run import run_one, run_transfer
from resnet_core.transfer.source import pretrain_source
from resnet_core.transfer.target import TargetData, load_target

EXPERIMENT = Experiment(
    kind="transfer",
    title=N_("Transfer learning"),
    config_type=TransferConfig,
    result_type=TransferResult,
    run=run_transfer,
    register=command.register,
    headline=describe_comparison,
    progress=progress_words,
    merge=merge,
    checkpoints=checkpoints,
    payload=contract_dict,
    # partial fine-tuning trained through the frozen layers until ``cache_prefix`` appeared (default now True:
    # the frozen prefix computed once per view)
    legacy={"cache_prefix": False},
)

__all__ = [name for name in dir() if not name.startswith("__")]
