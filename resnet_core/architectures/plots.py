"""Figures for the Architectures page: model-zoo bubble chart, where the parameters sit, basic vs bottleneck
diagram, shortcut A vs B gradients. Pure functions: numbers in, plotly figures out."""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go

from resnet_core.figures import LAYOUT, OKABE_ITO, VARIANT_COLORS, shade, tick_policy, variant_style
from resnet_core.i18n import gettext as _

# VGG is a plain net (the plain colour), the ResNets residual (blue; bottlenecks a darker blue), each its own symbol.
FAMILY_COLORS = {
    "vgg": VARIANT_COLORS["plain"],
    "resnet_basic": VARIANT_COLORS["residual"],
    "resnet_bottleneck": shade(VARIANT_COLORS["residual"], 0.45),
}
FAMILY_SYMBOLS = {"vgg": "square", "resnet_basic": "circle", "resnet_bottleneck": "diamond"}
HEAD_COLOR, STAGE_COLORS = OKABE_ITO["orange"], ["#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c"]
# Shortcut options: A (parameter-free, the lab's) in the residual blue, B (1×1 projection) bluish green.
OPTION_STYLES = {"A": (VARIANT_COLORS["residual"], "solid"), "B": (OKABE_ITO["green"], "dash")}


def _family(stats) -> str:
    if stats.name.startswith("vgg"):
        return "vgg"
    return "resnet_bottleneck" if int(stats.name.removeprefix("resnet")) >= 50 else "resnet_basic"


def zoo_bubble_figure(stats: Sequence) -> go.Figure:
    """ImageNet top-1 vs GMACs, bubble area proportional to parameters (nets with published accuracy only)."""
    fig = go.Figure()
    labels = {
        "vgg": _("VGG (plain)"),
        "resnet_basic": _("ResNet, basic blocks"),
        "resnet_bottleneck": _("ResNet, bottlenecks"),
    }
    for family, label in labels.items():
        rows = [s for s in stats if s.imagenet_top1 is not None and _family(s) == family]
        if not rows:
            continue
        fig.add_trace(
            go.Scatter(
                x=[s.macs / 1e9 for s in rows],
                y=[s.imagenet_top1 for s in rows],
                mode="markers+text",
                name=label,
                text=[s.title for s in rows],
                textposition="top center",
                marker=dict(
                    size=[math.sqrt(s.params / 1e6) * 7 for s in rows],
                    color=FAMILY_COLORS[family],
                    symbol=FAMILY_SYMBOLS[family],
                    opacity=0.7,
                    line=dict(width=1, color="#333"),
                ),
                customdata=[[s.params / 1e6, s.depth, s.activation_mb] for s in rows],
                hovertemplate=_(
                    "{net}<br>{macs} GMACs<br>top-1 {top1}%<br>{params} M params<br>depth {depth}<br>{mb} MB activations"
                ).format(
                    net="%{text}",
                    macs="%{x:.2f}",
                    top1="%{y:.1f}",
                    params="%{customdata[0]:.1f}",
                    depth="%{customdata[1]}",
                    mb="%{customdata[2]:.0f}",
                )
                + "<extra></extra>",
            )
        )
    fig.update_xaxes(tickvals=[1, 2, 5, 10, 20], ticktext=["1", "2", "5", "10", "20"])
    fig.update_layout(
        title=_("ImageNet top-1 vs compute (bubble area ∝ parameters)"),
        xaxis_title=_("GMACs per 224×224 image (log)"),
        yaxis_title=_("top-1 accuracy (%)"),
        xaxis_type="log",
        height=460,
        **LAYOUT,
    )
    return tick_policy(fig, copy=False)


def params_where_figure(stats: Sequence) -> go.Figure:
    """One stacked horizontal bar per net: parameters per stage, the fully-connected head in orange."""
    fig = go.Figure()
    max_params = max(s.params for s in stats)
    for s in stats:
        conv_stages = [st for st in s.stages if st["name"] not in ("head", "classifier")]
        for i, st in enumerate(s.stages):
            is_head = st["name"] in ("head", "classifier")
            color = (
                HEAD_COLOR if is_head else STAGE_COLORS[min(i, len(STAGE_COLORS) - 1) if len(conv_stages) < 7 else -1]
            )
            label = _("fully connected") if is_head else st["name"]
            fig.add_trace(
                go.Bar(
                    y=[s.title],
                    x=[st["params"] / 1e6],
                    orientation="h",
                    name=label,
                    marker_color=color,
                    showlegend=False,
                    text=f"{label} {st['params'] / 1e6:.1f} M" if st["params"] > 0.06 * max_params else "",
                    textposition="inside",
                    insidetextanchor="middle",
                    textangle=0,
                    hovertemplate=f"{s.title} {label}<br>"
                    + _("{params} M parameters ({share:.0%})").format(params="%{x:.2f}", share=st["params"] / s.params)
                    + "<extra></extra>",
                )
            )
    fig.update_layout(
        barmode="stack",
        title=_("Where the parameters sit, stage by stage (orange: fully-connected layers)"),
        xaxis_title=_("parameters (millions)"),
        height=150 + 70 * len(stats),
        uniformtext_minsize=10,
        uniformtext_mode="hide",
        **LAYOUT,
    )
    return tick_policy(fig, copy=False)


def _box(fig: go.Figure, x: float, y: float, text: str, color: str) -> None:
    fig.add_shape(type="rect", x0=x - 0.42, x1=x + 0.42, y0=y - 0.32, y1=y + 0.32, fillcolor=color, line_color="#333")
    fig.add_annotation(x=x, y=y, text=text, showarrow=False, font=dict(size=13, color="#222"))


def _arrow(fig: go.Figure, x: float, y0: float, y1: float) -> None:
    fig.add_annotation(
        x=x,
        y=y1 + 0.33,
        ax=x,
        ay=y0 - 0.33,
        xref="x",
        yref="y",
        axref="x",
        ayref="y",
        text="",
        showarrow=True,
        arrowhead=2,
        arrowwidth=1.5,
        arrowcolor="#333",
    )


def block_diagram_figure(designs: Sequence[dict]) -> go.Figure:
    """Each block design drawn top to bottom (input, convs, add), with its parameters and MACs underneath."""
    fig = go.Figure()
    colors = {"1x1": "#fdd0a2", "3x3": "#c6dbef"}
    for col, d in enumerate(designs):
        x = col * 1.6
        y = 0.0
        _box(fig, x, y, _("input: {channels}-d").format(channels=d["in_channels"]), "#eeeeee")
        for conv in d["convs"]:
            kernel, width = conv.split()
            _arrow(fig, x, y, y - 1)
            y -= 1
            _box(fig, x, y, f"{kernel} conv, {width}", colors[kernel])
        _arrow(fig, x, y, y - 1)
        y -= 1
        _box(fig, x, y, "⊕ + ReLU", "#e5f5e0")
        # the identity shortcut, drawn as a line on the right from input to the addition
        fig.add_shape(
            type="path",
            path=f"M {x + 0.42},0 L {x + 0.62},0 L {x + 0.62},{y} L {x + 0.42},{y}",
            line=dict(color=OKABE_ITO["green"], width=2, dash="dot"),
        )
        fig.add_annotation(
            x=x + 0.66, y=y / 2, text=_("identity"), textangle=-90, showarrow=False, font=dict(color=OKABE_ITO["green"])
        )
        fig.add_annotation(x=x, y=0.75, text=f"<b>{d['title']}</b>", showarrow=False, font=dict(size=14, color="#222"))
        fig.add_annotation(
            x=x,
            y=y - 0.75,
            showarrow=False,
            align="center",
            font=dict(size=13, color="#222"),
            text=_("{params:,} parameters<br>{mmacs:,.0f} M MACs on {h}×{w}").format(
                params=d["params"], mmacs=d["macs"] / 1e6, h=d["map"][1], w=d["map"][2]
            ),
        )
    fig.update_xaxes(visible=False, range=[-0.6, 1.6 * len(designs) - 0.6])
    fig.update_yaxes(visible=False, range=[-5.3, 1.0])
    fig.update_layout(height=470, template="plotly_white", margin=dict(l=10, r=10, t=20, b=10), showlegend=False)
    return fig


def shortcut_gradient_figure(grads: dict) -> go.Figure:
    """‖∂L/∂x‖ at each block's input for option A vs B (from Gradient flow's ``run_gradients`` results): option by
    colour and dash (A blue solid, B green dashed), depth by marker symbol; log y in powers of ten."""
    fig = go.Figure()
    depths = sorted({run["depth"] for payload in grads.values() for run in payload["runs"]})
    for option, payload in grads.items():
        color, dash = OPTION_STYLES.get(option, (OKABE_ITO["black"], "dot"))
        for run in payload["runs"]:
            ys = run["block_input_grad_norms"]
            symbol = variant_style(True, run["depth"], depths)["symbol"]
            fig.add_trace(
                go.Scatter(
                    x=list(range(1, len(ys) + 1)),
                    y=ys,
                    mode="lines+markers",
                    marker=dict(size=7, symbol=symbol if option == "A" else f"{symbol}-open", maxdisplayed=14),
                    name=_("ResNet-{depth}, option {option}").format(depth=run["depth"], option=option),
                    line=dict(dash=dash, color=color, width=2),
                    hovertemplate=_("block %{x}") + "<br>‖∂L/∂x‖ %{y:.3e}<extra></extra>",
                )
            )
    fig.update_layout(
        title=_("Gradient reaching each block's input, shortcut A vs B (at initialisation)"),
        xaxis_title=_("block (1 = nearest the input)"),
        yaxis_title=_("‖∂L/∂x‖ (log)"),
        yaxis_type="log",
        height=380,
        **LAYOUT,
    )
    return tick_policy(fig, copy=False)
