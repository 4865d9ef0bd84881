"""Transfer-learning figures: live curves per strategy, the label-budget sweep, confusion matrix, misclassified gallery.

Pure functions: results (or plain dicts) in, plotly figures out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from resnet_core.figures import GREY, LAYOUT, OKABE_ITO, tick_policy
from resnet_core.i18n import N_
from resnet_core.i18n import gettext as _

# Okabe–Ito colours, and a marker symbol each, so strategies are told apart without colour too.
STRATEGY_COLORS = {
    "scratch": GREY,
    "feature_extraction": OKABE_ITO["blue"],
    "partial_finetune": OKABE_ITO["green"],
    "full_finetune": OKABE_ITO["vermillion"],
    "staged": OKABE_ITO["purple"],
    "feature_extraction_bn_train": OKABE_ITO["orange"],
}
STRATEGY_SYMBOLS = {
    "scratch": "x",
    "feature_extraction": "circle",
    "partial_finetune": "square",
    "full_finetune": "diamond",
    "staged": "triangle-up",
    "feature_extraction_bn_train": "circle-open",
}
# Paired differences: the interval above zero, below zero, or across it (a tie).
VERDICT_COLORS = {"above": OKABE_ITO["green"], "below": OKABE_ITO["vermillion"], "tie": GREY}
STRATEGY_LABELS = {
    "scratch": N_("scratch"),
    "feature_extraction": N_("feature extraction"),
    "partial_finetune": N_("partial fine-tune"),
    "full_finetune": N_("full fine-tune"),
    "staged": N_("staged fine-tune"),
    "feature_extraction_bn_train": N_("feature extraction, BN in train mode"),
}
DASHES = ["solid", "dash", "dot", "dashdot", "longdash"]


def _get(run, key, default=None):
    return run.get(key, default) if isinstance(run, dict) else getattr(run, key, default)


def curves_figure(runs: Sequence, *, title: str = N_("Validation accuracy and loss per strategy")) -> go.Figure:
    """2x2: validation accuracy / loss against epoch and against seconds. ``runs``: RunResult objects or dicts with
    strategy, seed, history (rows with epoch, val_acc, val_loss, seconds). One colour and marker per strategy (one
    legend entry each, toggling all its seeds), one dash per seed (named in the hover text)."""
    fig = make_subplots(
        rows=2,
        cols=2,
        shared_yaxes=False,
        horizontal_spacing=0.08,
        vertical_spacing=0.14,
        subplot_titles=(
            _("Validation accuracy vs epoch"),
            _("Validation accuracy vs seconds"),
            _("Validation loss vs epoch"),
            _("Validation loss vs seconds"),
        ),
    )
    seeds = sorted({_get(r, "seed", 0) for r in runs})
    shown: set[str] = set()
    for run in runs:
        strategy, seed = _get(run, "strategy"), _get(run, "seed", 0)
        hist = [h for h in (_get(run, "history") or []) if h.get("val_acc") is not None]
        if not hist:
            continue
        color = STRATEGY_COLORS.get(strategy, "#333")
        dash = DASHES[seeds.index(seed) % len(DASHES)] if seed in seeds else "solid"
        label = _(STRATEGY_LABELS.get(strategy, strategy)) + (
            _(" (seed {seed})").format(seed=seed) if len(seeds) > 1 else ""
        )
        ep = [h["epoch"] for h in hist]
        sec = [h["seconds"] for h in hist]
        for row, key, fmt, yname in (
            (1, "val_acc", ".1%", _("validation accuracy")),
            (2, "val_loss", ".3f", _("validation loss")),
        ):
            ys = [h[key] for h in hist]
            for col, xs, xname in ((1, ep, _("epoch")), (2, sec, _("seconds"))):
                fig.add_trace(
                    go.Scatter(
                        x=xs,
                        y=ys,
                        mode="lines+markers",
                        name=_(STRATEGY_LABELS.get(strategy, strategy)),
                        legendgroup=strategy,
                        showlegend=strategy not in shown,
                        line=dict(color=color, dash=dash, width=2),
                        marker=dict(size=6, symbol=STRATEGY_SYMBOLS.get(strategy, "circle")),
                        hovertemplate=f"{label}<br>{xname} %{{x:.3g}}<br>{yname} %{{y:{fmt}}}<extra></extra>",
                    ),
                    row=row,
                    col=col,
                )
                shown.add(strategy)
    fig.update_yaxes(tickformat=".0%", row=1)
    fig.update_yaxes(type="log", row=2)  # one diverging epoch (scratch at a high rate) must not flatten the rest
    fig.update_xaxes(title_text=_("epoch"), col=1, row=2)
    fig.update_xaxes(title_text=_("seconds since the run started"), col=2, row=2)
    legend = dict(orientation="h", y=-0.12, title=_("one line per seed") if len(seeds) > 1 else None)
    fig.update_layout(title=_(title), height=620, **{**LAYOUT, "legend": legend})
    return tick_policy(fig, copy=False)  # losses in powers of ten, accuracies in round percents


def sweep_figure(
    summary: Sequence[dict], *, title: str = N_("Test accuracy vs labelled images per class")
) -> go.Figure:
    """Mean test accuracy over seeds against shots per class (log axis), one line per strategy, ±1 std error bars
    and the individual seeds as faint dots when given (rows of ``summarize``)."""
    fig = go.Figure()
    strategies = [s for s in STRATEGY_COLORS if any(r["strategy"] == s for r in summary)]
    strategies += sorted({r["strategy"] for r in summary} - set(strategies))
    max_shots = max((r["shots"] for r in summary if r["shots"]), default=1)
    for s in strategies:
        rows = sorted([r for r in summary if r["strategy"] == s], key=lambda r: r["shots"] or 10 * max_shots)
        xs = [r["shots"] or 10 * max_shots for r in rows]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[r["test_acc_mean"] for r in rows],
                mode="lines+markers",
                name=_(STRATEGY_LABELS.get(s, s)),
                line=dict(color=STRATEGY_COLORS.get(s), width=2),
                marker=dict(size=8, symbol=STRATEGY_SYMBOLS.get(s, "circle")),
                error_y=dict(type="data", array=[r["test_acc_std"] for r in rows], visible=True),
                customdata=[[r["test_acc_std"], r["n_seeds"], r["train_seconds_mean"]] for r in rows],
                hovertemplate=_(
                    "{strategy}<br>{shots} per class<br>test acc {acc} ± {std}<br>{seeds} seeds, {seconds} s per run"
                ).format(
                    strategy=_(STRATEGY_LABELS.get(s, s)),
                    shots="%{x}",
                    acc="%{y:.1%}",
                    std="%{customdata[0]:.1%}",
                    seeds="%{customdata[1]}",
                    seconds="%{customdata[2]:.1f}",
                )
                + "<extra></extra>",
            )
        )
    ticks = sorted({r["shots"] or 10 * max_shots for r in summary})
    fig.update_xaxes(
        tickvals=ticks,
        ticktext=[str(t) if t != 10 * max_shots or any(r["shots"] == t for r in summary) else _("all") for t in ticks],
    )
    fig.update_layout(
        title=_(title),
        xaxis_title=_("labelled training images per class (log scale)"),
        yaxis_title=_("test accuracy (mean ± std over seeds)"),
        xaxis_type="log",
        yaxis_tickformat=".0%",
        **LAYOUT,
    )
    return tick_policy(fig, copy=False)


def confusion_figure(confusion: Sequence[Sequence[int]], class_names: Sequence[str], *, title: str = "") -> go.Figure:
    """Rows: true class; columns: predicted class; cell text: count (colour: share of the true class)."""
    m = np.asarray(confusion, dtype=float)
    share = m / np.maximum(1, m.sum(1, keepdims=True))
    fig = go.Figure(
        go.Heatmap(
            z=share,
            x=list(class_names),
            y=list(class_names),
            colorscale="Blues",
            zmin=0,
            zmax=1,
            text=m.astype(int),
            texttemplate="%{text}",
            colorbar=dict(title=_("share"), tickformat=".0%"),
            hovertemplate=_("true %{y}<br>predicted %{x}<br>%{text} images (%{z:.1%} of the class)")
            + "<extra></extra>",
        )
    )
    fig.update_layout(
        title=_(title) if title else _("Confusion matrix on the test set"),
        xaxis_title=_("predicted"),
        yaxis_title=_("true"),
        yaxis_autorange="reversed",
        height=460,
        **{**LAYOUT, "legend": {}},
    )
    return tick_policy(fig, copy=False)


def gallery_figure(
    images: np.ndarray,
    true: Sequence[int],
    pred: Sequence[int],
    class_names: Sequence[str],
    *,
    columns: int = 6,
    title: str = N_("Misclassified test images"),
) -> go.Figure:
    """A grid of uint8 images [N, C, H, W] labelled 'true → predicted'."""
    images = np.asarray(images)
    n = len(images)
    if n == 0:
        fig = go.Figure()
        fig.update_layout(title=_(title) + _(" (none)"), **LAYOUT)
        return fig
    rows = (n + columns - 1) // columns
    titles = [f"{class_names[t][:10]}→{class_names[p][:10]}" for t, p in zip(true, pred)]
    fig = make_subplots(
        rows=rows, cols=columns, subplot_titles=titles, horizontal_spacing=0.01, vertical_spacing=0.3 / max(1, rows)
    )
    for i in range(n):
        img = images[i]
        rgb = np.repeat(img, 3, axis=0) if img.shape[0] == 1 else img[:3]
        fig.add_trace(go.Image(z=rgb.transpose(1, 2, 0), hoverinfo="skip"), row=i // columns + 1, col=i % columns + 1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_annotations(font_size=9)
    fig.update_layout(
        title=_(title), height=130 * rows + 70, margin=dict(l=10, r=10, t=60, b=10), template="plotly_white"
    )
    return fig


def paired_figure(
    rows: Sequence[dict], *, title: str = N_("Paired differences: mean, 95% interval, each seed (grey bar = tie)")
) -> go.Figure:
    """One horizontal bar per paired difference a − b (rows of ``paired_differences``): the mean in points, a 95%
    t-interval as the error bar, each seed's difference as a dot, and the zero line a verdict must clear."""
    fig = go.Figure()
    labels = [" − ".join(_(STRATEGY_LABELS.get(s, s)) for s in (r["a"], r["b"])) for r in rows]
    means = [100 * r["mean"] for r in rows]
    plus = [100 * (r["high"] - r["mean"]) if r.get("high") is not None else 0 for r in rows]
    minus = [100 * (r["mean"] - r["low"]) if r.get("low") is not None else 0 for r in rows]
    colors = [
        VERDICT_COLORS["above"]
        if r.get("low") is not None and r["low"] > 0
        else VERDICT_COLORS["below"]
        if r.get("high") is not None and r["high"] < 0
        else VERDICT_COLORS["tie"]
        for r in rows
    ]
    fig.add_trace(
        go.Bar(
            x=means,
            y=labels,
            orientation="h",
            marker_color=colors,
            name=_("mean"),
            error_x=dict(type="data", array=plus, arrayminus=minus, visible=True, color="#333"),
            hovertemplate=_("%{y}<br>mean %{x:+.1f} points") + "<extra></extra>",
        )
    )
    xs = [100 * d for r in rows for d in r["diffs"]]
    ys = [lab for lab, r in zip(labels, rows) for _ in r["diffs"]]
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="markers",
            name=_("one seed"),
            marker=dict(color="#111", size=6, symbol="circle-open"),
            hovertemplate=_("%{y}<br>one seed: %{x:+.1f} points") + "<extra></extra>",
        )
    )
    fig.add_vline(x=0, line_color="#333", line_width=1)
    fig.update_layout(
        title=_(title),
        xaxis_title=_("a − b, test accuracy points (green / red: the interval excludes 0)"),
        yaxis_autorange="reversed",
        height=120 + 45 * len(rows),
        **{**LAYOUT, "margin": dict(l=20, r=20, t=50, b=50)},
    )
    fig.update_yaxes(automargin=True)
    return tick_policy(fig, copy=False)


def bn_drift_figure(
    layer_shift: Sequence[float],
    layer_var: Sequence[float],
    *,
    title: str = N_("How far each BatchNorm layer's running statistics moved"),
) -> go.Figure:
    """Per BatchNorm layer of the backbone (input side first): mean |Δ running mean| in source standard
    deviations, and mean |log(running var after / before)|."""
    fig = go.Figure()
    xs = list(range(len(layer_shift)))
    fig.add_trace(go.Bar(x=xs, y=list(layer_shift), name=_("mean |Δμ| / σ_source"), marker_color=OKABE_ITO["orange"]))
    fig.add_trace(
        go.Bar(x=xs, y=list(layer_var), name=_("mean |log(σ²_after / σ²_source)|"), marker_color=OKABE_ITO["blue"])
    )
    fig.update_layout(
        title=_(title),
        xaxis_title=_("BatchNorm layer (0 = stem, input side)"),
        yaxis_title=_("drift"),
        barmode="group",
        height=360,
        **LAYOUT,
    )
    return tick_policy(fig, copy=False)
