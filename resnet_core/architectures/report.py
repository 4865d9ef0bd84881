"""What the architecture figures show, in words drawn from the counted numbers: where the parameters sit, why
bottlenecks, what shortcut option B adds and what it changes in the measured gradient flow."""

from __future__ import annotations

from resnet_core.architectures.zoo import NetStats
from resnet_core.i18n import gettext as _


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
                "Measured at initialisation on one batch of 64 bundled images (‖∂L/∂x‖ at block 0's input ÷ at the "
                "last block's input; 1 = the same gradient at both ends): {parts}."
            ).format(parts="; ".join(parts))
    return text
