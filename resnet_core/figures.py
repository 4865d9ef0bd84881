"""What every figure of the lab shares: the layout, one colour per kind of network and per depth, and how a
network is named on a chart."""

from __future__ import annotations

import plotly.graph_objects as go

from resnet_core.i18n import gettext as _

LAYOUT = dict(template="plotly_white", margin=dict(l=60, r=20, t=50, b=50), legend=dict(orientation="h", y=-0.2))


# One colour per kind of network on every chart of the app: plain red, residual blue.
VARIANT_COLORS = {"plain": "#d62728", "residual": "#1f77b4"}

# One colour per depth (same in every figure), dashed = plain, solid = residual.
DEPTH_COLORS = ["#636efa", "#00a676", "#ef553b", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880"]


def depth_color(depth: int, depths: list[int]) -> str:
    order = sorted(set(depths))
    return DEPTH_COLORS[order.index(depth) % len(DEPTH_COLORS)] if depth in order else DEPTH_COLORS[0]


def variant_label(residual: bool, depth: int) -> str:
    """:func:`resnet_core.models.variant_name` as shown to the reader ("residual-20" is "잔차-20" in Korean)."""
    return (_("residual-{depth}") if residual else _("plain-{depth}")).format(depth=depth)


def rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def votes_figure(options: dict[str, str], rounds: list[dict[str, int]], answer: str | None = None) -> go.Figure:
    """How a class voted: one horizontal bar per option and round (round 2 after the discussion), the measured
    answer marked. ``options``: option id -> words; ``rounds``: per round, option id -> votes."""
    fig = go.Figure()
    labels = [("✓ " if key == answer else "") + text for key, text in options.items()]
    names = [_("first vote"), _("after discussion")]
    for i, counts in enumerate(rounds):
        total = max(1, sum(counts.values()))
        values = [counts.get(key, 0) for key in options]
        fig.add_trace(
            go.Bar(
                y=labels,
                x=values,
                orientation="h",
                name=names[i] if i < len(names) else str(i + 1),
                text=[f"{v} ({100 * v / total:.0f}%)" for v in values],
                textposition="auto",
                marker_color=VARIANT_COLORS["residual"] if i else "#9ecae1",
                hovertemplate="%{y}: %{x}<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="group",
        height=120 + 60 * len(options),
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(title=_("votes"), dtick=1 if max((sum(r.values()) for r in rounds), default=0) <= 10 else None),
        yaxis=dict(autorange="reversed", automargin=True),
        legend=dict(orientation="h", y=-0.25),
        template="plotly_white",
    )
    return fig
