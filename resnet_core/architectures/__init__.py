"""Inside the networks: model-zoo figures (``zoo``), block designs and their costs (``designs``), and the
``architectures`` CLI command (``cli``). Everything is counted from the real modules; see ``zoo``'s docstring for
the conventions (MACs, FLOPs = 2 x MACs, activation memory, depth)."""

from resnet_core.architectures.designs import (
    block_costs,
    describe_blocks,
    describe_params,
    describe_shortcuts,
    head_code,
    shortcut_gradients,
    shortcut_shapes,
    strategy_counts,
)
from resnet_core.architectures.summary import architectures_json
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

__all__ = [
    "ALL_NETS",
    "IMAGENET_INPUT",
    "LAB_INPUT",
    "LAB_NETS",
    "TITLES",
    "TORCHVISION_NETS",
    "NetStats",
    "Unit",
    "architectures_json",
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
    "shortcut_gradients",
    "shortcut_shapes",
    "strategy_counts",
    "zoo",
]
