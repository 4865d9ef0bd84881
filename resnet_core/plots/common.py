"""Figures shared by several pages: training curves from progress events, the Home page's identity demo."""

from __future__ import annotations

import plotly.graph_objects as go

from resnet_core.engine import ProgressEvent
from resnet_core.i18n import N_
from resnet_core.i18n import gettext as _

LAYOUT = dict(template="plotly_white", margin=dict(l=60, r=20, t=50, b=50), legend=dict(orientation="h", y=-0.2))


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


# One colour per kind of network on every chart of the app: plain red, residual blue.
VARIANT_COLORS = {"plain": "#d62728", "residual": "#1f77b4"}


def identity_demo_figure(result) -> go.Figure:
    """Gradient norm at each block's input, plain vs residual, log scale."""
    blocks = list(range(1, result.num_blocks + 1))
    fig = go.Figure()
    traces = (
        (_("plain: y = F(x)"), result.plain, VARIANT_COLORS["plain"]),
        (_("residual: y = F(x) + x"), result.residual, VARIANT_COLORS["residual"]),
    )
    for name, values, color in traces:
        fig.add_trace(
            go.Scatter(
                x=blocks,
                y=values,
                mode="lines+markers",
                name=name,
                line=dict(color=color),
                hovertemplate=_("block %{x}") + "<br>‖∂/∂x‖ = %{y:.3e}<extra></extra>",
            )
        )
    fig.update_layout(
        title=_("Gradient reaching each block (unit gradient at the output)"),
        xaxis_title=_("block (1 = nearest the input)"),
        yaxis_title=_("gradient norm (log scale)"),
        yaxis_type="log",
        **LAYOUT,
    )
    return fig
