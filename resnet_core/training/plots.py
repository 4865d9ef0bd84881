"""Training curves from a job's progress events (any run of the engine)."""

from __future__ import annotations

import plotly.graph_objects as go

from resnet_core.figures import LAYOUT
from resnet_core.i18n import N_
from resnet_core.i18n import gettext as _
from resnet_core.training.engine import ProgressEvent


def training_curve(events: list[ProgressEvent], *, title: str = N_("Training loss")) -> go.Figure:
    """Running training loss vs step (one line per tag), with test accuracy per epoch on a second axis."""
    fig = go.Figure()
    tags = sorted({e.tag for e in events})
    for tag in tags:
        steps = [e for e in events if e.kind == "step" and e.tag == tag]
        fig.add_trace(
            go.Scatter(
                x=[e.step for e in steps],
                y=[e.loss for e in steps],
                mode="lines+markers",
                name=f"{tag + ' ' if tag else ''}" + _("train loss"),
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
                    yaxis="y2",
                    hovertemplate=_("step %{x}<br>test acc %{y:.2%}") + "<extra></extra>",
                )
            )
    fig.update_layout(
        title=_(title),
        xaxis_title=_("step"),
        yaxis_title=_("loss"),
        yaxis2=dict(title=_("accuracy"), overlaying="y", side="right", range=[0, 1], tickformat=".0%"),
        **LAYOUT,
    )
    return fig
