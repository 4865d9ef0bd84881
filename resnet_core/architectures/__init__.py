"""Inside the networks: parameters, MACs/FLOPs, activation memory and depth of VGG, ResNet-18...152 and the lab's
nets; basic vs bottleneck blocks; shortcut option A vs B; what replacing the last layer costs per transfer strategy.

Parts: ``config`` (which nets), ``zoo`` (counting the real modules on the meta device; its docstring states the
conventions: MACs, FLOPs = 2 x MACs, activation memory, depth), ``designs`` (block costs, shortcut shapes and
gradients, head replacement), ``run`` (the whole count), ``result``, ``report`` (words from the counts),
``plots``, ``command`` (``python -m resnet_core architectures``).
"""

from resnet_core.architectures import command
from resnet_core.architectures.config import ArchitecturesConfig
from resnet_core.architectures.designs import (
    block_costs,
    head_code,
    shortcut_configs,
    shortcut_gradients,
    shortcut_shapes,
    strategy_counts,
)
from resnet_core.architectures.report import describe_blocks, describe_params, describe_shortcuts
from resnet_core.architectures.result import ArchitecturesResult
from resnet_core.architectures.run import run_architectures
from resnet_core.architectures.zoo import (
    ALL_NETS,
    IMAGENET_INPUT,
    LAB_INPUT,
    LAB_NETS,
    TITLES,
    TORCHVISION_NETS,
    NetStats,
    Unit,
    build_net,
    imagenet_meta,
    layer_units,
    measure,
    native_input,
    net_stats,
    zoo,
)
from resnet_core.experiment import Experiment
from resnet_core.i18n import N_

EXPERIMENT = Experiment(
    kind="architectures",
    title=N_("Architectures"),
    config_type=ArchitecturesConfig,
    result_type=ArchitecturesResult,
    run=run_architectures,
    register=command.register,
)

__all__ = [
    "ALL_NETS",
    "EXPERIMENT",
    "IMAGENET_INPUT",
    "LAB_INPUT",
    "LAB_NETS",
    "TITLES",
    "TORCHVISION_NETS",
    "ArchitecturesConfig",
    "ArchitecturesResult",
    "NetStats",
    "Unit",
    "block_costs",
    "build_net",
    "describe_blocks",
    "describe_params",
    "describe_shortcuts",
    "head_code",
    "imagenet_meta",
    "layer_units",
    "measure",
    "native_input",
    "net_stats",
    "run_architectures",
    "shortcut_configs",
    "shortcut_gradients",
    "shortcut_shapes",
    "strategy_counts",
    "zoo",
]
