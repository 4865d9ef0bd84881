"""Figures for the block-ablation experiment: pure functions, AblationResult (or its dict) in, plotly figure out."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from resnet_core.ablation.lesions import path_length_distribution
from resnet_core.ablation.result import AblationResult
from resnet_core.figures import LAYOUT, OKABE_ITO, VARIANT_COLORS, VARIANT_DASH, shade, tick_policy
from resnet_core.i18n import N_
from resnet_core.i18n import gettext as _

COLORS = VARIANT_COLORS  # plain vermillion, residual blue, as on every chart
SYMBOLS = {"residual": "circle", "plain": "circle-open"}
DOWNSAMPLE_COLOR = OKABE_ITO["purple"]


def _result(result: AblationResult | dict) -> AblationResult:
    return AblationResult.from_dict(result) if isinstance(result, dict) else result


def delete_one_figure(result: AblationResult | dict) -> go.Figure:
    """Accuracy after deleting block i, residual and plain side by side, with intact and chance lines.

    Downsampling blocks are drawn as diamonds (a residual one keeps its shortcut's pad); blocks of the plain
    net that cannot be deleted (their shapes change) are marked with an ✕ on the axis and no accuracy."""
    result = _result(result)
    kinds = [k for k in ("residual", "plain") if k in result.models]
    fig = make_subplots(
        rows=1,
        cols=max(1, len(kinds)),
        shared_yaxes=True,
        horizontal_spacing=0.06,
        subplot_titles=[_("{net}: delete one block").format(net=result.models[k].name) for k in kinds],
    )
    for col, kind in enumerate(kinds, start=1):
        m = result.models[kind]
        n = len(m.blocks)
        rows = m.delete_one
        normal = [r for r in rows if r["acc"] is not None and not r["downsample"]]
        down = [r for r in rows if r["acc"] is not None and r["downsample"]]
        blocked = [r for r in rows if r["acc"] is None]
        fig.add_trace(
            go.Bar(
                x=[r["block"] for r in normal],
                y=[r["acc"] for r in normal],
                name=_("{kind}: block deleted").format(kind=_(kind)),
                width=0.8,
                marker_color=COLORS[kind],
                showlegend=col == 1 or kind == "plain",
                hovertemplate=_("block %{x}<br>acc %{y:.2%}") + "<extra></extra>",
            ),
            row=1,
            col=col,
        )
        if down:
            fig.add_trace(
                go.Bar(
                    x=[r["block"] for r in down],
                    y=[r["acc"] for r in down],
                    name=_("downsampling block (shortcut kept)"),
                    marker_color=DOWNSAMPLE_COLOR,
                    width=0.8,
                    hovertemplate=_("block %{x} (downsampling)<br>acc %{y:.2%}") + "<extra></extra>",
                ),
                row=1,
                col=col,
            )
        if blocked:
            fig.add_trace(
                go.Scatter(
                    x=[r["block"] for r in blocked],
                    y=[0.0] * len(blocked),
                    mode="markers",
                    marker=dict(symbol="x", size=11, color="black"),
                    name=_("not removable (shape changes)"),
                    hovertemplate=_("block %{x}: changes the shape, cannot be deleted") + "<extra></extra>",
                ),
                row=1,
                col=col,
            )
        fig.add_trace(
            go.Scatter(
                x=[-0.5, n - 0.5],
                y=[m.baseline_acc] * 2,
                mode="lines",
                line=dict(color=COLORS[kind], dash="dash"),
                name=_("{net} intact ({acc:.1%})").format(net=m.name, acc=m.baseline_acc),
                hoverinfo="skip",
            ),
            row=1,
            col=col,
        )
        fig.add_trace(
            go.Scatter(
                x=[-0.5, n - 0.5],
                y=[m.chance_acc] * 2,
                mode="lines",
                line=dict(color="gray", dash="dot"),
                name=_("chance ({acc:.0%})").format(acc=m.chance_acc),
                showlegend=col == 1,
                hoverinfo="skip",
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(title_text=_("deleted block (0 = nearest the input)"), range=[-0.6, n - 0.4], row=1, col=col)
    fig.update_yaxes(title_text=_("test accuracy"), range=[0, 1.02], tickformat=".0%", row=1, col=1)
    fig.update_layout(barmode="overlay", height=420, **LAYOUT)
    return tick_policy(fig, copy=False)


def _curve_figure(result: AblationResult, key: str, x_key: str, title: str, x_title: str) -> go.Figure:
    fig = go.Figure()
    xmax = 1
    for kind in ("residual", "plain"):
        m = result.models.get(kind)
        if m is None:
            continue
        rows = getattr(m, key)
        xs = [0] + [r[x_key] for r in rows]
        ys = [m.baseline_acc] + [r["mean_acc"] for r in rows]
        sd = [0.0] + [r["std_acc"] for r in rows]
        xmax = max(xmax, max(xs))
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                error_y=dict(type="data", array=sd, visible=True),
                mode="lines+markers",
                name=_("{net} (mean ± std over trials)").format(net=m.name),
                line=dict(color=COLORS[kind], dash=VARIANT_DASH[kind], width=2),
                marker=dict(symbol=SYMBOLS[kind], size=8),
                hovertemplate=f"{_(x_title)} %{{x}}<br>" + _("acc %{y:.2%}") + f"<extra>{m.name}</extra>",
            )
        )
    chance = next((m.chance_acc for m in result.models.values()), 0.1)
    fig.add_hline(
        y=chance,
        line=dict(color="gray", dash="dot"),
        annotation_text=_("chance {acc:.0%}").format(acc=chance),
        annotation_position="bottom right",
    )
    fig.update_layout(
        title=_(title),
        xaxis_title=_(x_title),
        yaxis=dict(title=_("test accuracy"), range=[0, 1.02], tickformat=".0%"),
        xaxis=dict(range=[-0.3, xmax + 0.3]),
        height=400,
        **LAYOUT,
    )
    return tick_policy(fig, copy=False)


def delete_k_figure(result: AblationResult | dict) -> go.Figure:
    """Mean ± std accuracy vs the number k of deleted blocks (k = 0: intact), both nets."""
    return _curve_figure(
        _result(result), "delete_k", "k", N_("Delete k random blocks (shape-keeping blocks)"), N_("blocks deleted (k)")
    )


def reorder_figure(result: AblationResult | dict) -> go.Figure:
    """Mean ± std accuracy vs the number of random swaps of same-stage blocks (0: original order)."""
    return _curve_figure(
        _result(result), "reorder", "swaps", N_("Reorder: swap random pairs of same-shape blocks"), N_("random swaps")
    )


def paths_figure(n_blocks: int, *, name: str = "") -> go.Figure:
    """Binomial distribution of path lengths through ``n_blocks`` residual blocks (2^n paths)."""
    d = path_length_distribution(n_blocks)
    lo, hi = d["central95"]
    light = shade(VARIANT_COLORS["residual"], -0.6)
    colors = [VARIANT_COLORS["residual"] if lo <= k <= hi else light for k in d["lengths"]]
    fig = go.Figure(
        go.Bar(
            x=d["lengths"],
            y=d["fractions"],
            marker_color=colors,
            customdata=d["counts"],
            hovertemplate=_("paths through %{x} blocks: %{customdata:,}<br>%{y:.2%} of all") + "<extra></extra>",
        )
    )
    fig.update_layout(
        title=(f"{name}: " if name else "")
        + _("{blocks} blocks → 2^{blocks} = {paths:,} paths").format(blocks=n_blocks, paths=d["n_paths"]),
        xaxis_title=_("path length (blocks whose convs the path goes through)"),
        yaxis=dict(title=_("fraction of paths"), tickformat=".0%"),
        height=360,
        **LAYOUT,
    )
    return tick_policy(fig, copy=False)
