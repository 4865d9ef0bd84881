"""Plotly figures and generated explanations for the gradient-flow and degradation experiments.

Pure functions: a result (or its dict) in, a figure or a string out. The explanations are written from the
measured numbers, so they say what this run showed — including when the literature's effect does not show.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from resnet_core.degradation import DegradationResult, DegradationRun
from resnet_core.gradient_result import GradientResult, GradientRun
from resnet_core.i18n import N_, ngettext
from resnet_core.i18n import gettext as _
from resnet_core.models import variant_name
from resnet_core.numbers import fmt_number
from resnet_core.plots.common import VARIANT_COLORS as COMMON_COLORS

# One colour per depth (same in every figure), dashed = plain, solid = residual.
DEPTH_COLORS = ["#636efa", "#00a676", "#ef553b", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880"]

GRADIENT_METRICS = {
    "block_input": ("block_input_grad_norms", N_("‖∂L/∂x‖ at each block's input")),
    "relative": ("layer_relative_grads", N_("‖∂L/∂W‖ ÷ ‖W‖ per conv layer")),
    "layer": ("layer_grad_norms", N_("‖∂L/∂W‖ per conv layer")),
    "jacobian": ("block_jacobian_gain", N_("block gain ‖∂y/∂x‖ (RMS over random v)")),
}
VARIANT_COLORS = {False: COMMON_COLORS["plain"], True: COMMON_COLORS["residual"]}  # plain red, residual blue


def _as_gradient_result(result: GradientResult | dict) -> GradientResult:
    return result if isinstance(result, GradientResult) else GradientResult.from_dict(result)


def _as_degradation_result(result: DegradationResult | dict) -> DegradationResult:
    return result if isinstance(result, DegradationResult) else DegradationResult.from_dict(result)


def depth_color(depth: int, depths: list[int]) -> str:
    order = sorted(set(depths))
    return DEPTH_COLORS[order.index(depth) % len(DEPTH_COLORS)] if depth in order else DEPTH_COLORS[0]


def variant_label(residual: bool, depth: int) -> str:
    """:func:`resnet_core.models.variant_name` as shown to the reader ("residual-20" is "잔차-20" in Korean)."""
    return (_("residual-{depth}") if residual else _("plain-{depth}")).format(depth=depth)


def fmt_ratio(x: float | None) -> str:
    """A ratio for hover labels: :func:`resnet_core.numbers.fmt_number` with three significant digits."""
    return fmt_number(x, digits=3)


def _positions(run: GradientRun, metric: str) -> tuple[list[float | None], list[str]]:
    values = list(getattr(run, GRADIENT_METRICS[metric][0]))
    if metric in ("layer", "relative"):
        labels = run.layer_names or [_("layer {i}").format(i=i) for i in range(len(values))]
    else:
        labels = [_("block {i}").format(i=i) for i in range(len(values))]
    return values, labels


def _band(runs: list[GradientRun], metric: str) -> tuple[list[float], list[float], list[float], list[float], list[str]]:
    """Per position (relative depth 0..1): geometric mean, min and max over seeds (non-finite / zero dropped)."""
    per_seed = [_positions(r, metric) for r in runs]
    n = max(len(v) for v, _ in per_seed)
    labels = per_seed[0][1]
    xs, mid, lo, hi, names = [], [], [], [], []
    for i in range(n):
        vals = [v[i] for v, _ in per_seed if i < len(v) and v[i] is not None and v[i] > 0]
        if not vals:
            continue
        xs.append(i / max(1, n - 1))
        mid.append(math.exp(sum(math.log(v) for v in vals) / len(vals)))
        lo.append(min(vals))
        hi.append(max(vals))
        names.append(labels[i] if i < len(labels) else str(i))
    return xs, mid, lo, hi, names


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def gradient_norms_figure(result: GradientResult | dict, metric: str = "block_input") -> go.Figure:
    """Norm vs relative depth (log y), one line per depth (geometric mean over seeds) with its min–max band;
    plain and residual side by side on a shared y axis."""
    res = _as_gradient_result(result)
    depths = sorted({r.depth for r in res.runs})
    variants = [v for v in (False, True) if any(r.residual == v for r in res.runs)] or [False, True]
    n_seeds = len(res.seeds)
    titles = [(_("residual") if v else _("plain")) for v in variants]
    fig = make_subplots(rows=1, cols=len(variants), shared_yaxes=True, subplot_titles=titles, horizontal_spacing=0.04)
    for col, residual in enumerate(variants, start=1):
        for depth in depths:
            runs = res.runs_of(depth, residual)
            if not runs:
                continue
            xs, mid, lo, hi, names = _band(runs, metric)
            color = depth_color(depth, depths)
            if n_seeds > 1 and xs:
                fig.add_trace(
                    go.Scatter(
                        x=xs + xs[::-1],
                        y=hi + lo[::-1],
                        fill="toself",
                        fillcolor=_rgba(color, 0.18),
                        line=dict(width=0),
                        hoverinfo="skip",
                        showlegend=False,
                        legendgroup=str(depth),
                    ),
                    row=1,
                    col=col,
                )
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=mid,
                    mode="lines+markers",
                    name=_("depth {depth}").format(depth=depth),
                    legendgroup=str(depth),
                    showlegend=col == 1,
                    line=dict(color=color, width=2),
                    marker=dict(size=4),
                    customdata=names,
                    hovertemplate=f"{variant_label(residual, depth)}<br>%{{customdata}}<br>"
                    + _("relative depth %{x:.2f}")
                    + "<br>%{y:.2e}<extra></extra>",
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(
            title_text=_("relative depth (0 = input side, 1 = output side)"), range=[-0.03, 1.03], row=1, col=col
        )
    fig.update_yaxes(type="log", dtick=1, exponentformat="power")  # every panel: the axes are shared
    fig.update_yaxes(title_text=_(GRADIENT_METRICS[metric][1]), row=1, col=1)
    band = _(" · band: min–max over {n} seeds").format(n=n_seeds) if n_seeds > 1 else ""
    fig.update_layout(
        height=430, margin=dict(l=10, r=10, t=40, b=10), hovermode="closest", legend=dict(title=_("depth") + band)
    )
    return fig


def ratio_figure(result: GradientResult | dict) -> go.Figure:
    """‖∂L/∂x‖ at block 0 ÷ at the last block vs depth, plain and residual: geometric mean over seeds, bars min–max."""
    res = _as_gradient_result(result)
    fig = go.Figure()
    depths = sorted({r.depth for r in res.runs})
    for residual, dash, symbol in ((False, "dash", "circle-open"), (True, "solid", "circle")):
        xs, mid, lo, hi = [], [], [], []
        for depth in depths:
            vals = [r.first_last_ratio for r in res.runs_of(depth, residual) if r.first_last_ratio]
            if not vals:  # 0 (underflow) or None (not finite) cannot sit on a log axis
                continue
            xs.append(depth)
            mid.append(math.exp(sum(math.log(v) for v in vals) / len(vals)))
            lo.append(min(vals))
            hi.append(max(vals))
        if not xs:
            continue
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=mid,
                mode="lines+markers",
                name=_("residual") if residual else _("plain"),
                line=dict(dash=dash, width=2, color=VARIANT_COLORS[residual]),
                marker=dict(size=9, symbol=symbol),
                error_y=dict(
                    type="data",
                    symmetric=False,
                    array=[h - m for h, m in zip(hi, mid)],
                    arrayminus=[m - low for m, low in zip(mid, lo)],
                    thickness=1.5,
                ),
                customdata=[f"{fmt_ratio(low)} – {fmt_ratio(h)}" for low, h in zip(lo, hi)],
                hovertemplate="%{fullData.name}-%{x}<br>"
                + _("ratio %{y:.3g} (range over seeds %{customdata})")
                + "<extra></extra>",
            )
        )
    fig.add_hline(y=1, line=dict(color="grey", dash="dot"))
    fig.update_xaxes(title_text=_("depth (weighted layers)"))
    fig.update_yaxes(type="log", dtick=1, exponentformat="power", title_text=_("‖∂L/∂x‖ block 0 ÷ last block"))
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=30, b=10))
    return fig


def gradient_table(result: GradientResult | dict) -> list[dict]:
    """One row per run (net and seed) for a table / CSV download."""
    res = _as_gradient_result(result)
    rows = []
    for r in sorted(res.runs, key=lambda r: (r.depth, r.residual, r.seed)):
        rows.append(
            {
                "net": r.name,
                "seed": r.seed,
                "input-gradient ratio (block 0 ÷ last)": r.first_last_ratio,
                "relative weight-gradient ratio": r.weight_first_last_ratio,
                "‖∂L/∂x‖ block 0": r.block_input_grad_norms[0] if r.block_input_grad_norms else None,
                "‖∂L/∂x‖ last block": r.block_input_grad_norms[-1] if r.block_input_grad_norms else None,
                "loss": r.loss,
                "training steps": r.train_steps,
                "seconds": round(r.seconds, 2),
            }
        )
    return rows


def setting_text(config: dict) -> str:
    norm = _("with BatchNorm") if config.get("norm", "batch") == "batch" else _("without normalisation")
    act = config.get("activation", "relu")
    steps = int(config.get("train_steps", 0) or 0)
    when = _("at initialisation") if steps == 0 else _("after {steps} training steps").format(steps=steps)
    # Results written before the field existed were measured in float32 (resnet_core.library.kinds.LEGACY).
    numerics = (
        _("engine's fast numerics (bf16 where the device has it, channels-last)")
        if config.get("fast", False)
        else _("float32")
    )
    return _("{norm}, {activation} activations, {when}, {numerics}").format(
        norm=norm, activation=act, when=when, numerics=numerics
    )


# ========================================================================================== degradation


def _mean_curve(runs: list[DegradationRun], key: str) -> tuple[list[float], list[float], list[float], list[float]]:
    """Per epoch: mean, min and max over the seeds' runs (in %), epochs where any seed has a value."""
    by_epoch: dict[int, list[float]] = {}
    for run in runs:
        for h in run.history:
            if h.get(key) is not None:
                by_epoch.setdefault(int(h["epoch"]), []).append(100 * h[key])
    epochs = sorted(by_epoch)
    return (
        epochs,
        [sum(by_epoch[e]) / len(by_epoch[e]) for e in epochs],
        [min(by_epoch[e]) for e in epochs],
        [max(by_epoch[e]) for e in epochs],
    )


def degradation_figure(result: DegradationResult | dict) -> go.Figure:
    """Training error (eval mode, fixed training subset) and test error (%) per epoch: one curve per (depth,
    variant), the mean over seeds with a min–max band; dashed = plain."""
    res = _as_degradation_result(result)
    depths = sorted({r.depth for r in res.runs})
    multi = len(res.seeds) > 1
    fig = make_subplots(rows=1, cols=2, subplot_titles=[_("training error"), _("test error")], horizontal_spacing=0.08)
    for col, key in ((1, "train_err"), (2, "test_err")):
        for depth in depths:
            for residual in (False, True):
                runs = [r for r in res.runs if r.depth == depth and r.residual == residual and r.status != "diverged"]
                if not runs:
                    continue
                name = variant_label(residual, depth)
                xs, mean, lo, hi = _mean_curve(runs, key)
                color = depth_color(depth, depths)
                if multi and xs:
                    fig.add_trace(
                        go.Scatter(
                            x=xs + xs[::-1],
                            y=hi + lo[::-1],
                            fill="toself",
                            showlegend=False,
                            fillcolor=_rgba(color, 0.15),
                            line=dict(width=0),
                            hoverinfo="skip",
                            legendgroup=name,
                        ),
                        row=1,
                        col=col,
                    )
                fig.add_trace(
                    go.Scatter(
                        x=xs,
                        y=mean,
                        mode="lines+markers",
                        name=name,
                        legendgroup=name,
                        showlegend=col == 1,
                        line=dict(color=color, dash="solid" if residual else "dash", width=2),
                        marker=dict(symbol="circle" if residual else "circle-open", size=6),
                        hovertemplate=f"{name}<br>"
                        + (_("epoch %{x}<br>%{y:.1f}% (mean over seeds)") if multi else _("epoch %{x}<br>%{y:.1f}%"))
                        + "<extra></extra>",
                    ),
                    row=1,
                    col=col,
                )
        fig.update_xaxes(title_text=_("epoch"), row=1, col=col)
        fig.update_yaxes(title_text=_("error (%)"), rangemode="tozero", row=1, col=col)
    fig.update_layout(
        height=420,
        margin=dict(l=10, r=10, t=40, b=10),
        legend=dict(title=_("band: min–max over seeds") if multi else None),
    )
    return fig


def degradation_live_figure(events: list, *, metric: str = "loss") -> go.Figure:
    """Live training loss per step from a job's progress events (tag = run name)."""
    fig = go.Figure()
    by_tag: dict[str, tuple[list, list]] = {}
    for e in events:
        if getattr(e, "kind", None) != "step":
            continue
        xs, ys = by_tag.setdefault(e.tag or "run", ([], []))
        xs.append(e.epoch)
        ys.append(e.loss if metric == "loss" else 100 * (1 - (e.acc or 0)))
    for tag, (xs, ys) in by_tag.items():
        fig.add_trace(
            go.Scatter(
                x=xs, y=ys, mode="lines", name=tag, line=dict(dash="dash" if tag.startswith("plain") else "solid")
            )
        )
    fig.update_xaxes(title_text=_("epoch"))
    fig.update_yaxes(
        title_text=_("training loss (running)") if metric == "loss" else _("training error (%)"), rangemode="tozero"
    )
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=20, b=10))
    return fig


def degradation_table(result: DegradationResult | dict) -> list[dict]:
    """One row per net: final errors as mean and range over seeds (finished runs only)."""
    res = _as_degradation_result(result)
    rows = []
    for depth in sorted({r.depth for r in res.runs}):
        for residual in (False, True):
            runs = [r for r in res.runs if r.depth == depth and r.residual == residual]
            if not runs:
                continue
            done = [r for r in runs if r.status == "done" and r.history]
            row = {"net": variant_name(residual, depth), "seeds": len(done)}
            for key, label in (
                ("train_err", "train error (%)"),
                ("test_err", "test error (%)"),
                ("running_train_err", "running train error (%)"),
            ):
                vals = [100 * r.final[key] for r in done if r.final.get(key) is not None]
                row[label] = round(sum(vals) / len(vals), 1) if vals else None
                row[label.replace("(%)", "range")] = f"{min(vals):.1f}–{max(vals):.1f}" if len(vals) > 1 else ""
            row["epochs"] = max((r.final.get("epoch", 0) for r in runs), default=0)
            row["status"] = ", ".join(sorted({r.status for r in runs}))
            rows.append(row)
    return rows


def budget_text(result: DegradationResult | dict) -> str:
    """The data and compute budget that produced a degradation result, in one sentence."""
    res = _as_degradation_result(result)
    c = res.config
    prov = res.provenance or {}
    data = {
        "fashion": _("full Fashion-MNIST"),
        "bundled": _("the bundled Fashion-MNIST subset"),
        "cifar10": "CIFAR-10",
    }.get(c.get("dataset", ""), c.get("dataset", "?"))
    parts = [
        _("{data}: {n:,} training images").format(data=data, n=res.train_images)
        + (_(" (stratified subset)") if c.get("train_size") else "")
    ]
    if res.train_eval_images:
        parts.append(_("training error on a fixed {n:,} of them in eval mode").format(n=res.train_eval_images))
    parts.append(_("test error on {n:,} test images").format(n=res.test_images))
    seeds = res.seeds or c.get("seeds", [])
    parts.append(
        _("{epochs} epochs, batch {batch}, SGD lr {lr} {schedule}, weight decay {wd}, {augment}").format(
            epochs=c.get("epochs"),
            batch=c.get("batch_size"),
            lr=c.get("lr"),
            schedule=c.get("schedule"),
            wd=c.get("weight_decay"),
            augment=_("augmented") if c.get("augment") else _("no augmentation"),
        )
        + ", "
        + ngettext("seed {seeds}", "seeds {seeds}", len(seeds)).format(seeds=", ".join(map(str, seeds)))
    )
    if c.get("max_steps"):
        parts.append(_("at most {n} steps").format(n=c["max_steps"]))
    if res.seconds:
        parts.append(
            _("{minutes:.0f} CPU-minutes in all").format(minutes=res.seconds / 60)
            if "parts" in prov
            else _("{minutes:.1f} min").format(minutes=res.seconds / 60)
        )
    return _("; ").join(parts) + "."
