"""Figures for gradient flow: norms by relative depth, the first/last ratio by depth, a table per run, and the
Home page's identity demonstration.

Pure functions: a result (or its dict) in, a figure or a string out. The explanations are written from the
measured numbers, so they say what this run showed — including when the literature's effect does not show.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from resnet_core.figures import LAYOUT, VARIANT_DASH, band, tick_policy, variant_label, variant_style
from resnet_core.figures import VARIANT_COLORS as COMMON_COLORS
from resnet_core.gradients.result import GradientResult, GradientRun
from resnet_core.i18n import N_
from resnet_core.i18n import gettext as _
from resnet_core.numbers import fmt_number

GRADIENT_METRICS = {
    "block_input": ("block_input_grad_norms", N_("‖∂L/∂x‖ at each block's input")),
    "relative": ("layer_relative_grads", N_("‖∂L/∂W‖ ÷ ‖W‖ per conv layer")),
    "layer": ("layer_grad_norms", N_("‖∂L/∂W‖ per conv layer")),
    "jacobian": ("block_jacobian_gain", N_("block gain ‖∂y/∂x‖ (RMS over random v)")),
}
VARIANT_COLORS = {False: COMMON_COLORS["plain"], True: COMMON_COLORS["residual"]}  # plain vermillion, residual blue


def _as_gradient_result(result: GradientResult | dict) -> GradientResult:
    return result if isinstance(result, GradientResult) else GradientResult.from_dict(result)


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


def gradient_norms_figure(result: GradientResult | dict, metric: str = "block_input") -> go.Figure:
    """Norm vs relative depth (log y), one line per net (geometric mean over seeds) with its min–max band; plain and
    residual side by side on a shared y axis. Plain vermillion and dashed, residual blue and solid; depths by marker
    symbol and shade (the legend groups a depth's two nets)."""
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
            style = variant_style(residual, depth, depths)
            if n_seeds > 1 and xs:
                fig.add_trace(band(xs, lo, hi, style["color"], group=str(depth)), row=1, col=col)
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=mid,
                    mode="lines+markers",
                    name=variant_label(residual, depth),
                    legendgroup=str(depth),
                    line=dict(color=style["color"], dash=style["dash"], width=2),
                    marker=dict(size=7, symbol=style["symbol"], maxdisplayed=12),
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
    fig.update_yaxes(type="log")  # every panel: the axes are shared
    fig.update_yaxes(title_text=_(GRADIENT_METRICS[metric][1]), row=1, col=1)
    band_note = _(" · band: min–max over {n} seeds").format(n=n_seeds) if n_seeds > 1 else ""
    fig.update_layout(
        height=430,
        margin=dict(l=10, r=10, t=40, b=10),
        hovermode="closest",
        legend=dict(title=_("depth") + band_note),
        template="plotly_white",
    )
    return tick_policy(fig, copy=False)


def ratio_figure(result: GradientResult | dict) -> go.Figure:
    """‖∂L/∂x‖ at block 0 ÷ at the last block vs depth, plain and residual: geometric mean over seeds, bars min–max."""
    res = _as_gradient_result(result)
    fig = go.Figure()
    depths = sorted({r.depth for r in res.runs})
    for residual, symbol in ((False, "circle-open"), (True, "circle")):
        dash = VARIANT_DASH["residual" if residual else "plain"]
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
    fig.update_xaxes(title_text=_("depth (weighted layers)"), tickvals=depths)  # one tick per measured depth
    fig.update_yaxes(type="log", title_text=_("‖∂L/∂x‖ block 0 ÷ last block"))
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=30, b=10), template="plotly_white")
    return tick_policy(fig, copy=False)


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
    # Results written before the field existed were measured in float32 (the ``legacy`` of resnet_core.gradients.EXPERIMENT).
    numerics = (
        _("engine's fast numerics (bf16 where the device has it, channels-last)")
        if config.get("fast", False)
        else _("float32")
    )
    return _("{norm}, {activation} activations, {when}, {numerics}").format(
        norm=norm, activation=act, when=when, numerics=numerics
    )


def identity_demo_figure(result) -> go.Figure:
    """Gradient norm at each block's input, plain vs residual, log scale."""
    blocks = list(range(1, result.num_blocks + 1))
    fig = go.Figure()
    traces = ((_("plain: y = F(x)"), result.plain, False), (_("residual: y = F(x) + x"), result.residual, True))
    for name, values, residual in traces:
        fig.add_trace(
            go.Scatter(
                x=blocks,
                y=values,
                mode="lines+markers",
                name=name,
                line=dict(color=VARIANT_COLORS[residual], dash=VARIANT_DASH["residual" if residual else "plain"]),
                marker=dict(symbol="circle" if residual else "circle-open", size=6),
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
    return tick_policy(fig, copy=False)
