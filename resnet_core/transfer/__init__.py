"""Transfer learning: scratch vs feature extraction vs partial / full / staged fine-tuning, side by side, on class
splits of Fashion-MNIST (or ImageNet weights onto CIFAR-10 / uploads).

The source is a CIFAR-style ResNet pretrained (``python -m resnet_core pretrain-source [--split-seed N]``) on six
Fashion-MNIST classes of the full dataset; the target task is the four held-out classes, with k labelled images per
class from the bundled subset. Modules: ``config`` (splits, strategies, TransferConfig), ``models`` (source,
adapter, freezing, BatchNorm drift), ``head`` (cached-feature head training, early stopping), ``target`` (the
target data), ``run`` (one run, a comparison), ``results`` (numbers: means, standard errors, paired intervals),
``report`` (verdicts and words), ``source`` (pretraining). Command-line code is in ``resnet_core.commands.transfer``; nothing here imports it.
"""

# ruff: noqa: F401  (this module re-exports the package's names)
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
    results_table,
    summary_table,
    verdicts,
)
from resnet_core.transfer.results import (
    PAIRS,
    SWEEP_PATH,
    RunResult,
    TransferResult,
    binomial_se,
    comparison_path,
    load_result,
    load_shipped_sweep,
    mean_interval,
    paired_differences,
    shipped_comparisons,
    summarize,
)
from resnet_core.transfer.run import run_one, run_transfer
from resnet_core.transfer.source import pretrain_source
from resnet_core.transfer.target import TargetData, load_target

# Names of the single-module version (before issue 10), kept for code that imported them.
_EarlyStopper, _bn_layers, _train_head_on_features = EarlyStopper, bn_layers, train_head_on_features

__all__ = [name for name in dir() if not name.startswith("__")]
