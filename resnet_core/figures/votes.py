"""How a class voted, beside the measured answer (class mode's reveal)."""

from __future__ import annotations

import plotly.graph_objects as go

from resnet_core.figures.style import OKABE_ITO, VARIANT_COLORS
from resnet_core.figures.ticks import tick_policy
from resnet_core.i18n import gettext as _


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
                marker_color=VARIANT_COLORS["residual"] if i else OKABE_ITO["sky_blue"],
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
    return tick_policy(fig, copy=False)
