"""Training curves from a job's progress events (any run of the engine)."""

from __future__ import annotations

import plotly.graph_objects as go

from resnet_core.figures import COLORWAY, LAYOUT, tick_policy
from resnet_core.i18n import N_
from resnet_core.i18n import gettext as _
from resnet_core.training.engine import ProgressEvent


def training_curve(events: list[ProgressEvent], *, title: str = N_("Training loss")) -> go.Figure:
    """Running training loss vs step (one line per tag), with test accuracy per epoch on a second axis: one colour per
    tag, loss solid with circles, accuracy dotted with diamonds; the accuracy axis in round percents (0 %, 20 %, …)."""
    fig = go.Figure()
    tags = sorted({e.tag for e in events})
    for i, tag in enumerate(tags):
        color = COLORWAY[i % len(COLORWAY)]
        steps = [e for e in events if e.kind == "step" and e.tag == tag]
        fig.add_trace(
            go.Scatter(
                x=[e.step for e in steps],
                y=[e.loss for e in steps],
                mode="lines+markers",
                name=f"{tag + ' ' if tag else ''}" + _("train loss"),
                line=dict(color=color, width=2),
                marker=dict(size=5, symbol="circle", maxdisplayed=30),
                hovertemplate=_("step %{x}<br>loss %{y:.4f}") + "<extra></extra>",
            )
        )
        epochs = [e for e in events if e.kind == "epoch" and e.tag == tag and "test_acc" in e.metrics]
        if epochs:
            fig.add_trace(
                go.Scatter(
                    x=[e.step for e in epochs],
                    y=[e.metrics["test_acc"] for e in epochs],
                    mode="lines+markers",
                    name=f"{tag + ' ' if tag else ''}" + _("test accuracy"),
                    line=dict(color=color, width=2, dash="dot"),
                    marker=dict(size=9, symbol="diamond"),
                    yaxis="y2",
                    hovertemplate=_("step %{x}<br>test acc %{y:.2%}") + "<extra></extra>",
                )
            )
    fig.update_layout(
        title=_(title),
        xaxis_title=_("step"),
        yaxis_title=_("loss"),
        # its own round ticks: an overlaying axis would otherwise align to the loss grid (97 %, 85 %, 73 %)
        yaxis2=dict(
            title=_("accuracy"), overlaying="y", side="right", range=[0, 1], tickformat=".0%", tickmode="linear"
        ),
        **LAYOUT,
    )
    return tick_policy(fig, copy=False)
