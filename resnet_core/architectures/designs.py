"""Block designs and their costs: basic vs bottleneck, downsampling shortcut A vs B on the lab's nets (shapes,
parameters, and a live gradient-flow measurement that reuses the Gradient flow experiment), and what replacing the
last layer costs for each transfer strategy (counted by the Transfer page's own functions)."""

from __future__ import annotations

import functools
from typing import Any

import torch
from torch import nn

from resnet_core.architectures.zoo import NetStats, build_net, net_stats
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


def describe_params(stats: list[NetStats]) -> str:
    """Where each net's parameters sit, in words: the share in fully-connected layers."""
    parts = []
    for s in stats:
        fc = s.params_by_kind["linear"]
        parts.append(
            _(
                "**{net}**: {share:.0%} of its {total:.1f} M parameters are in fully-connected layers ({fc:.1f} M), "
                "{conv:.1f} M in convolutions"
            ).format(
                net=s.title, share=fc / s.params, total=s.params / 1e6, fc=fc / 1e6, conv=s.params_by_kind["conv"] / 1e6
            )
        )
    return _("; ").join(parts) + "."


def describe_blocks(rows: list[dict]) -> str:
    """Why ResNet-50+ use bottlenecks, from the measured costs."""
    basic, bottleneck, wide = (next(r for r in rows if r["design"] == k) for k in ("basic", "bottleneck", "basic_wide"))
    return _(
        "A bottleneck keeps a **{width}-d** representation for {params:,} parameters and {mmacs:,.0f} M MACs, about "
        "what a basic block on only {basic_width}-d costs ({basic_params:,}; {basic_mmacs:,.0f} M MACs). A basic "
        "block as wide as the bottleneck would cost {param_ratio:.0f}× the parameters and {mac_ratio:.0f}× the MACs: "
        "the 1×1 convs shrink the channels before the expensive 3×3 and restore them after, which is how "
        "ResNet-50/101/152 get deep and wide at once."
    ).format(
        width=bottleneck["in_channels"],
        params=bottleneck["params"],
        mmacs=bottleneck["macs"] / 1e6,
        basic_width=basic["in_channels"],
        basic_params=basic["params"],
        basic_mmacs=basic["macs"] / 1e6,
        param_ratio=wide["params"] / bottleneck["params"],
        mac_ratio=wide["macs"] / bottleneck["macs"],
    )


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


def shortcut_gradients(depths: tuple[int, ...] = (20, 56), *, seed: int = 0, batch_size: int = 64) -> dict[str, Any]:
    """Reuses the Gradient flow experiment: residual nets with option A vs B at initialisation, same seed and batch."""
    from resnet_core.gradients import GradientConfig, run_gradients

    out = {}
    for option in ("A", "B"):
        config = GradientConfig(
            depths=list(depths), variants=["residual"], shortcut=option, seeds=[seed], batch_size=batch_size
        )
        out[option] = run_gradients(config, device="cpu").to_dict()
    return out


def describe_shortcuts(rows: list[dict], grads: dict | None = None) -> str:
    """Words from the numbers: what option B adds and what it changes in the measured gradient flow."""
    added = sum(r["added_by_B"] for r in rows)
    text = _(
        "Option B adds **{added:,} parameters** ({n} projections); option A adds none: it subsamples with stride 2 "
        "and zero-pads the new channels."
    ).format(added=added, n=len(rows))
    if grads:
        parts = []
        for ra, rb in zip(grads["A"]["runs"], grads["B"]["runs"]):
            a, b = ra.get("first_last_ratio"), rb.get("first_last_ratio")
            if a and b:
                parts.append(f"ResNet-{ra['depth']}: ‖∂L/∂x‖ block 0 ÷ last block {a:.2f} (A) vs {b:.2f} (B)")
        if parts:
            text += " " + _(
                "Measured at initialisation on one batch of 64 bundled images (‖∂L/∂W‖ of the first block's first "
                "conv ÷ that of the last block's; 1 = the same gradient at both ends): {parts}."
            ).format(parts="; ".join(parts))
    return text


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
