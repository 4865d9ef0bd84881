"""Block designs and their costs: basic vs bottleneck, downsampling shortcut A vs B on the lab's nets (shapes,
parameters, and a live gradient-flow measurement that reuses the Gradient flow experiment), and what replacing the
last layer costs for each transfer strategy (counted by the Transfer page's own functions)."""

from __future__ import annotations

import functools
from typing import Any

import torch
from torch import nn

from resnet_core.architectures.zoo import build_net, net_stats
from resnet_core.i18n import gettext as _
from resnet_core.macs import count_macs

# ----------------------------------------------------------------------------------- basic vs bottleneck


def block_costs(channels: int = 256, width: int = 64, size: int = 56) -> list[dict]:
    """Parameters and MACs of torchvision's own block modules on a ``size`` x ``size`` map (stride 1).

    Three designs: the paper's Fig. 5 pair (a basic block on ``width`` channels and a bottleneck
    ``channels`` -> 1x1 ``width`` -> 3x3 ``width`` -> 1x1 ``channels``, similar cost) and a basic block as wide as
    the bottleneck's input (what ResNet-50 would cost without bottlenecks).
    """
    from torchvision.models.resnet import BasicBlock, Bottleneck

    with torch.device("meta"):
        designs = [
            (
                "basic",
                _("basic block, {width}-d").format(width=width),
                BasicBlock(width, width),
                width,
                [f"3x3 {width}", f"3x3 {width}"],
            ),
            (
                "bottleneck",
                _("bottleneck, {width}-d").format(width=channels),
                Bottleneck(channels, width),
                channels,
                [f"1x1 {width}", f"3x3 {width}", f"1x1 {channels}"],
            ),
            (
                "basic_wide",
                _("basic block, {width}-d").format(width=channels),
                BasicBlock(channels, channels),
                channels,
                [f"3x3 {channels}", f"3x3 {channels}"],
            ),
        ]
    rows = []
    for key, title, block, c_in, convs in designs:
        with torch.no_grad(), count_macs(block) as counter:
            block.eval()(torch.empty(1, c_in, size, size, device="meta"))
        macs = counter.total
        conv_params = sum(m.weight.numel() for m in block.modules() if isinstance(m, nn.Conv2d))
        rows.append(
            {
                "design": key,
                "title": title,
                "in_channels": c_in,
                "convs": convs,
                "params": sum(p.numel() for p in block.parameters()),
                "conv_params": conv_params,
                "macs": macs,
                "map": [c_in, size, size],
            }
        )
    return rows


# ------------------------------------------------------------------------------- shortcut A vs B (lab nets)


def shortcut_shapes(depth: int = 20) -> list[dict]:
    """Per downsampling block of the lab's ResNet: input and output shapes and the parameters option B adds."""
    stats_a, stats_b = net_stats(f"resnet{depth}", shortcut="A"), net_stats(f"resnet{depth}", shortcut="B")
    rows, prev = [], None
    for la, lb in zip(stats_a.layers, stats_b.layers):
        if la["downsample"] and prev is not None:
            rows.append(
                {
                    "block": la["block"],
                    "input_shape": prev,
                    "output_shape": la["output_shape"],
                    "params_A": la["params"],
                    "params_B": lb["params"],
                    "added_by_B": lb["params"] - la["params"],
                }
            )
        prev = la["output_shape"]
    return rows


def shortcut_configs(depths: tuple[int, ...] = (20, 56), *, seed: int = 0, batch_size: int = 64) -> dict[str, Any]:
    """The Gradient flow experiment's configs for option A and B: residual nets at initialisation, same seed and
    batch (a page runs them as two runs of that experiment)."""
    from resnet_core.gradients import GradientConfig

    return {
        option: GradientConfig(
            depths=list(depths), variants=["residual"], shortcut=option, seeds=[seed], batch_size=batch_size
        )
        for option in ("A", "B")
    }


def shortcut_gradients(depths: tuple[int, ...] = (20, 56), *, seed: int = 0, batch_size: int = 64) -> dict[str, Any]:
    """Reuses the Gradient flow experiment: residual nets with option A vs B at initialisation, same seed and batch."""
    from resnet_core.gradients import run_gradients

    configs = shortcut_configs(depths, seed=seed, batch_size=batch_size)
    return {option: run_gradients(config, device="cpu").to_dict() for option, config in configs.items()}


# ------------------------------------------------------------------------------------ replace the last layer


def head_code(name: str, num_classes: int) -> str:
    """The exact line that replaces the classifier of ``name`` (its real in_features)."""
    with torch.device("meta"):
        model = build_net(name)
    if hasattr(model, "fc"):
        return f"model.fc = nn.Linear({model.fc.in_features}, {num_classes})"
    last = max(i for i, m in enumerate(model.classifier) if isinstance(m, nn.Linear))
    return f"model.classifier[{last}] = nn.Linear({model.classifier[last].in_features}, {num_classes})"


def strategy_counts(source: str, num_classes: int = 4) -> list[dict]:
    """Frozen and trainable parameters for each transfer strategy, from the Transfer page's own functions.

    ``source``: "fashion" (the shipped ResNet-20 source) or "resnet18/34/50" (random ImageNet-shaped body: the
    counts do not depend on the weights, so nothing has to be downloaded).
    """
    from resnet_core import transfer

    config = transfer.TransferConfig()
    if source == "fashion":
        src = transfer.load_source(config)
        channels, size = 1, 28
    else:
        src = transfer.SourceModel(
            source,
            functools.partial(_torchvision_body, source),
            3,
            64,
            (transfer.IMAGENET_MEAN, transfer.IMAGENET_STD),
            {},
        )
        channels, size = 3, 64
    model = transfer.build_model(src, channels, size, num_classes, pretrained=False, seed=0, dropout=0.0)
    total = sum(p.numel() for p in model.parameters())
    rows = []
    for strategy in ("feature_extraction", "partial_finetune", "full_finetune"):
        trainable = transfer.trainable_parameter_count(model, strategy, config)
        rows.append({"strategy": strategy, "trainable": trainable, "frozen": total - trainable, "total": total})
    return rows


def _torchvision_body(arch: str, pretrained: bool) -> tuple[nn.Module, list[nn.Module], int]:
    """The same body layout the Transfer page uses for ImageNet sources: stem, layer1..4; fc removed."""
    import torchvision.models as tvm

    net = getattr(tvm, arch)(weights=None)
    dim = net.fc.in_features
    net.fc = nn.Identity()
    return net, [nn.ModuleList([net.conv1, net.bn1]), net.layer1, net.layer2, net.layer3, net.layer4], dim
