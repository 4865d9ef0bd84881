"""Plotly figures and generated explanations for the gradient-flow and degradation experiments.

Pure functions: a result (or its dict) in, a figure or a string out. The explanations are written from the
measured numbers, so they say what this run showed — including when the literature's effect does not show.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from resnet_core.gradients import (
    DegradationResult,
    DegradationRun,
    GradientResult,
    GradientRun,
)

# One colour per depth (same in every figure), dashed = plain, solid = residual.
DEPTH_COLORS = ["#636efa", "#00a676", "#ef553b", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880"]

GRADIENT_METRICS = {
    "layer": ("layer_grad_norms", "‖∂L/∂W‖ per conv layer"),
    "block_input": ("block_input_grad_norms", "‖∂L/∂x‖ at each block's input"),
    "jacobian": ("block_jacobian_gain", "block gain ‖∂y/∂x‖ (RMS over random v)"),
}


def _as_gradient_result(result: GradientResult | dict) -> GradientResult:
    return result if isinstance(result, GradientResult) else GradientResult.from_dict(result)


def _as_degradation_result(result: DegradationResult | dict) -> DegradationResult:
    return result if isinstance(result, DegradationResult) else DegradationResult.from_dict(result)


def depth_color(depth: int, depths: list[int]) -> str:
    order = sorted(set(depths))
    return DEPTH_COLORS[order.index(depth) % len(DEPTH_COLORS)] if depth in order else DEPTH_COLORS[0]


def fmt_ratio(x: float | None) -> str:
    """10⁶-style for big ratios, plain digits for small ones."""
    if x is None or not math.isfinite(x):
        return "not finite"
    if x == 0:
        return "0"
    if x >= 1000 or x < 0.01:
        exp = math.floor(math.log10(abs(x)))
        mant = x / 10**exp
        sup = str(exp).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
        return f"{mant:.1f}×10{sup}" if round(mant, 1) != 1.0 else f"10{sup}"
    return f"{x:.3g}"


def _points(run: GradientRun, metric: str) -> tuple[list[float], list[float], list[str]]:
    """x = relative depth 0..1 (input to output), y = the measured norm (non-finite and zero values dropped)."""
    values = getattr(run, GRADIENT_METRICS[metric][0])
    if metric == "layer":
        labels = run.layer_names or [f"layer {i}" for i in range(len(values))]
    else:
        labels = [f"block {i}" for i in range(len(values))]
    n = len(values)
    xs, ys, names = [], [], []
    for i, (v, lab) in enumerate(zip(values, labels)):
        if v is None or v <= 0:
            continue
        xs.append(i / max(1, n - 1))
        ys.append(v)
        names.append(lab)
    return xs, ys, names


def gradient_norms_figure(result: GradientResult | dict, metric: str = "layer") -> go.Figure:
    """Norm vs relative depth (log y), one line per depth; plain and residual side by side, shared y axis."""
    res = _as_gradient_result(result)
    depths = sorted({r.depth for r in res.runs})
    variants = [v for v in (False, True) if any(r.residual == v for r in res.runs)] or [False, True]
    titles = [("residual" if v else "plain") for v in variants]
    fig = make_subplots(rows=1, cols=len(variants), shared_yaxes=True, subplot_titles=titles,
                        horizontal_spacing=0.04)  # fmt: skip
    for col, residual in enumerate(variants, start=1):
        for depth in depths:
            run = res.run(depth, residual)
            if run is None:
                continue
            xs, ys, names = _points(run, metric)
            fig.add_trace(
                go.Scatter(
                    x=xs, y=ys, mode="lines+markers", name=f"depth {depth}", legendgroup=str(depth),
                    showlegend=col == 1, line=dict(color=depth_color(depth, depths), width=2),
                    marker=dict(size=4), customdata=names,
                    hovertemplate=f"{run.name}<br>%{{customdata}}<br>relative depth %{{x:.2f}}<br>"
                                  "norm %{y:.4e}<extra></extra>",
                ),  # fmt: skip
                row=1, col=col,
            )  # fmt: skip
        fig.update_xaxes(title_text="relative depth (0 = input side, 1 = output side)", range=[-0.03, 1.03],
                         row=1, col=col)  # fmt: skip
    fig.update_yaxes(type="log", dtick=1, exponentformat="power")  # every panel: the axes are shared
    fig.update_yaxes(title_text=GRADIENT_METRICS[metric][1], row=1, col=1)
    fig.update_layout(height=430, margin=dict(l=10, r=10, t=40, b=10), hovermode="closest",
                      legend=dict(title="depth"))  # fmt: skip
    return fig


def ratio_figure(result: GradientResult | dict) -> go.Figure:
    """First/last ratio of ||dL/dW|| (first block's conv1 over last block's conv1) vs depth, plain and residual."""
    res = _as_gradient_result(result)
    fig = go.Figure()
    for residual, dash, symbol in ((False, "dash", "circle-open"), (True, "solid", "circle")):
        # A ratio of 0 (the first block's gradient underflowed) or None (not finite) cannot sit on a log axis.
        runs = sorted((r for r in res.runs if r.residual == residual and r.first_last_ratio), key=lambda r: r.depth)
        if not runs:
            continue
        fig.add_trace(go.Scatter(
            x=[r.depth for r in runs], y=[r.first_last_ratio for r in runs], mode="lines+markers",
            name="residual" if residual else "plain", line=dict(dash=dash, width=2), marker=dict(size=9, symbol=symbol),
            customdata=[fmt_ratio(r.first_last_ratio) for r in runs],
            hovertemplate="%{fullData.name}-%{x}<br>first/last = %{y:.4g} (%{customdata})<extra></extra>",
        ))  # fmt: skip
    fig.add_hline(y=1, line=dict(color="grey", dash="dot"), annotation_text="equal gradients",
                  annotation_position="bottom left")  # fmt: skip
    fig.update_xaxes(title_text="depth (weighted layers)")
    fig.update_yaxes(type="log", dtick=1, exponentformat="power", title_text="‖∂L/∂W‖ first block ÷ last block")
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=30, b=10))
    return fig


def gradient_table(result: GradientResult | dict) -> list[dict]:
    """One row per run for a table / CSV download."""
    res = _as_gradient_result(result)
    rows = []
    for r in sorted(res.runs, key=lambda r: (r.depth, r.residual)):
        gains = [g for g in r.block_jacobian_gain if g is not None]
        rows.append({
            "net": r.name,
            "first/last ‖∂L/∂W‖": r.first_last_ratio,
            "‖∂L/∂x‖ block 0": r.block_input_grad_norms[0] if r.block_input_grad_norms else None,
            "‖∂L/∂x‖ last block": r.block_input_grad_norms[-1] if r.block_input_grad_norms else None,
            "mean block gain ‖∂y/∂x‖": sum(gains) / len(gains) if gains else None,
            "loss": r.loss,
            "training steps": r.train_steps,
            "seconds": round(r.seconds, 2),
        })  # fmt: skip
    return rows


def _setting_text(config: dict) -> str:
    norm = "with BatchNorm" if config.get("norm", "batch") == "batch" else "without normalisation"
    act = config.get("activation", "relu")
    steps = int(config.get("train_steps", 0) or 0)
    when = "at initialisation" if steps == 0 else f"after {steps} training steps"
    return f"{norm}, {act} activations, {when}"


def _change(a: float, b: float) -> str:
    """'grows 40×' / 'shrinks 1.2×10³×' / 'stays within 3×' from a to b."""
    if not a or not b:
        return "cannot be compared: one value is zero or not finite"
    f = b / a
    if 1 / 3 <= f <= 3:
        return "stays within 3×"
    return f"grows {fmt_ratio(f)}-fold" if f > 1 else f"shrinks {fmt_ratio(1 / f)}-fold"


def explain_gradients(result: GradientResult | dict) -> str:
    """A few sentences (markdown) generated from the measured numbers, with a check against the literature."""
    res = _as_gradient_result(result)
    if not res.runs:
        return "No measurements yet."
    lines = []
    depths = sorted({r.depth for r in res.runs})
    deepest = depths[-1]
    plain, resid = res.run(deepest, False), res.run(deepest, True)
    head = f"**Measured {_setting_text(res.config)}.** "
    if plain and resid:
        head += (f"Plain-{deepest}'s first block gets {fmt_ratio(plain.first_last_ratio)} times the weight gradient "
                 f"of its last block; residual-{deepest}: {fmt_ratio(resid.first_last_ratio)} times.")  # fmt: skip
    else:
        r = plain or resid
        head += (f"{r.name.capitalize()}'s first block gets {fmt_ratio(r.first_last_ratio)} times the weight gradient "
                 "of its last block.")  # fmt: skip
    lines.append(head)

    for residual in (False, True):
        kind = "Residual" if residual else "Plain"
        runs = sorted((r for r in res.runs if r.residual == residual), key=lambda r: r.depth)
        ratios = [(r.depth, r.first_last_ratio) for r in runs if r.first_last_ratio is not None]
        if len(ratios) >= 2:
            (d0, r0), (d1, r1) = ratios[0], ratios[-1]
            where = "the input side" if r1 > 1 else "the output side"
            if r1 == 0:
                where = "the output side: the first block's gradient underflowed to exactly 0 in float32"
            lines.append(f"- {kind}, first/last weight-gradient ratio from depth {d0} to {d1}: {fmt_ratio(r0)} → "
                         f"{fmt_ratio(r1)}; at depth {d1} the larger gradients sit on {where}.")  # fmt: skip
        inputs = [(r.depth, r.block_input_grad_norms[0]) for r in runs if r.block_input_grad_norms]
        if len(inputs) >= 2:
            (d0, g0), (d1, g1) = inputs[0], inputs[-1]
            lines.append(f"- {kind}, ‖∂L/∂x‖ reaching the first block: {fmt_ratio(g0)} at depth {d0}, {fmt_ratio(g1)} "
                         f"at depth {d1} (it {_change(g0, g1)}).")  # fmt: skip
        missing = [r.depth for r in runs if r.first_last_ratio is None]
        if missing:
            lines.append(f"- {kind} depth {', '.join(map(str, missing))}: the ratio is not finite (a gradient "
                         "vanished to zero or overflowed).")  # fmt: skip

    if plain and resid:
        pg = [g for g in plain.block_jacobian_gain if g is not None]
        rg = [g for g in resid.block_jacobian_gain if g is not None]
        if pg and rg:
            pm = math.exp(sum(math.log(max(g, 1e-30)) for g in pg) / len(pg))
            rm = math.exp(sum(math.log(max(g, 1e-30)) for g in rg) / len(rg))
            lines.append(f"- Block gain ‖∂y/∂x‖ at depth {deepest} (geometric mean over blocks): plain {pm:.3g}, "
                         f"residual {rm:.3g}; compounded over {len(pg)} blocks ≈ {fmt_ratio(pm ** len(pg))} vs "
                         f"≈ {fmt_ratio(rm ** len(rg))}.")  # fmt: skip
    lines.append(_literature_check(res))
    return "\n".join(line for line in lines if line)


def _literature_check(res: GradientResult) -> str:
    """Compare with what the literature predicts for this setting (REFERENCES.md), from the numbers."""
    depths = sorted({r.depth for r in res.runs})
    if len(depths) < 2 or res.config.get("activation", "relu") != "relu" or res.config.get("train_steps"):
        return ""
    d0, d1 = depths[0], depths[-1]
    p0, p1, r0, r1 = res.run(d0, False), res.run(d1, False), res.run(d0, True), res.run(d1, True)
    if not all((p0, p1, r0, r1)):
        return ""
    if res.config.get("norm", "batch") == "batch":
        pr, rr = p1.first_last_ratio, r1.first_last_ratio
        if not pr or not rr:
            return ""
        ok = pr > 10 and pr > 10 * rr
        return ("- *Literature (Yang et al. 2019): with BatchNorm, plain nets' gradients explode towards the input at "
                "initialisation, residual nets' far less.* " + (f"Seen here: {fmt_ratio(pr)} vs {fmt_ratio(rr)} at "
                f"depth {d1}." if ok else f"Not seen here: {fmt_ratio(pr)} vs {fmt_ratio(rr)} at depth {d1}."))  # fmt: skip
    gp0, gp1 = p0.block_input_grad_norms[0], p1.block_input_grad_norms[0]
    gr0, gr1 = r0.block_input_grad_norms[0], r1.block_input_grad_norms[0]
    if not all((gp0, gp1, gr0, gr1)):
        return ""
    plain_vanishes = gp1 < gp0 / 3
    resid_kept = gr1 >= gr0 / 3
    text = ("- *Literature: without normalisation, the gradient reaching the first layers of a plain net vanishes "
            "with depth, while the identity path keeps it usable.* ")  # fmt: skip
    text += (f"Plain: {'seen' if plain_vanishes else 'not seen'} here (it {_change(gp0, gp1)} from depth {d0} to "
             f"{d1}). Residual: {'it does not vanish' if resid_kept else 'it vanishes too'} (it {_change(gr0, gr1)})")
    if gr1 > 100 * gr0:
        text += (" — it *explodes* instead: with He initialisation and no normalisation every residual block adds "
                 "its branch's variance to the signal")  # fmt: skip
    return text + "."


# ========================================================================================== degradation


def _run_points(run: DegradationRun, key: str) -> tuple[list[float], list[float]]:
    rows = [h for h in run.history if h.get(key) is not None]
    return [h["epoch"] for h in rows], [100 * h[key] for h in rows]


def degradation_figure(result: DegradationResult | dict) -> go.Figure:
    """Training error and test error (%) per epoch: one curve per (depth, variant); dashed = plain."""
    res = _as_degradation_result(result)
    depths = sorted({r.depth for r in res.runs})
    fig = make_subplots(rows=1, cols=2, subplot_titles=["training error", "test error"], horizontal_spacing=0.08)
    for col, key in ((1, "train_err"), (2, "test_err")):
        for run in sorted(res.runs, key=lambda r: (r.depth, r.residual)):
            xs, ys = _run_points(run, key)
            fig.add_trace(go.Scatter(
                x=xs, y=ys, mode="lines+markers", name=run.name, legendgroup=run.name, showlegend=col == 1,
                line=dict(color=depth_color(run.depth, depths), dash="solid" if run.residual else "dash", width=2),
                marker=dict(symbol="circle" if run.residual else "circle-open", size=7),
                hovertemplate=f"{run.name}<br>epoch %{{x}}<br>{key.replace('_', ' ')} %{{y:.2f}}%<extra></extra>",
            ), row=1, col=col)  # fmt: skip
        fig.update_xaxes(title_text="epoch", row=1, col=col)
        fig.update_yaxes(title_text="error (%)", row=1, col=col)
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=40, b=10))
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
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=tag, line=dict(dash="dash" if tag.startswith("plain")
                                                                                     else "solid")))  # fmt: skip
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(title_text="training loss (running)" if metric == "loss" else "training error (%)")
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=20, b=10))
    return fig


def degradation_table(result: DegradationResult | dict) -> list[dict]:
    res = _as_degradation_result(result)
    rows = []
    for run in sorted(res.runs, key=lambda r: (r.depth, r.residual)):
        f = run.final
        rows.append({
            "net": run.name,
            "epochs": f.get("epoch", 0),
            "final train error (%)": round(100 * f["train_err"], 2) if "train_err" in f else None,
            "final test error (%)": round(100 * f["test_err"], 2) if f.get("test_err") is not None else None,
            "final train loss": round(f["train_loss"], 4) if "train_loss" in f else None,
            "parameters": run.parameters,
            "status": run.status,
            "seconds": round(run.seconds, 1),
        })  # fmt: skip
    return rows


def budget_text(result: DegradationResult | dict) -> str:
    """The data and compute budget that produced a degradation result, in one sentence."""
    res = _as_degradation_result(result)
    c = res.config
    prov = res.provenance or {}
    data = {"fashion": "full Fashion-MNIST", "bundled": "the bundled Fashion-MNIST subset",
            "cifar10": "CIFAR-10"}.get(c.get("dataset", ""), c.get("dataset", "?"))  # fmt: skip
    parts = [f"{data}: {res.train_images:,} training images"]
    if c.get("train_size"):
        parts[0] += " (stratified subset)"
    parts.append(f"test error on {res.test_images:,} test images" + (" (stratified subset)" if c.get("test_size") else ""))
    parts.append(f"{c.get('epochs')} epochs, batch {c.get('batch_size')}, SGD lr {c.get('lr')} {c.get('schedule')}, "
                 f"weight decay {c.get('weight_decay')}, {'augmented' if c.get('augment') else 'no augmentation'}, "
                 f"seed {c.get('seed')}")  # fmt: skip
    if c.get("max_steps"):
        parts.append(f"at most {c['max_steps']} steps")
    if prov:
        parts.append(f"{prov.get('device', '?')}, {res.seconds / 60:.1f} min, {prov.get('date', '?')[:10]}")
    return "; ".join(parts) + "."


def explain_degradation(result: DegradationResult | dict) -> str:
    """What the curves show, from the numbers: does deeper plain train worse than shallower plain? Residual?"""
    res = _as_degradation_result(result)
    finished = [r for r in res.runs if r.history]
    if not finished:
        return "No finished epochs yet."
    depths = sorted({r.depth for r in finished})
    lines = []
    if len(depths) < 2:
        lines.append("Only one depth so far: the comparison needs two.")
    shallow, deep = depths[0], depths[-1]

    def err(run: DegradationRun | None, key: str) -> float | None:
        return run.final.get(key) if run and run.history else None

    found_degradation = None
    gaps: dict[bool, float] = {}
    for residual in (False, True):
        a, b = res.run(shallow, residual), res.run(deep, residual)
        kind = "residual" if residual else "plain"
        ta, tb = err(a, "train_err"), err(b, "train_err")
        if ta is None or tb is None or shallow == deep:
            continue
        ea, eb = err(a, "test_err"), err(b, "test_err")
        test = (f" (test error {100 * eb:.1f}% vs {100 * ea:.1f}%)" if ea is not None and eb is not None else "")
        diff = 100 * (tb - ta)
        gaps[residual] = diff
        if diff > 0.5:
            verdict = "ends with higher training error than"
        elif diff < -0.5:
            verdict = "ends with lower training error than"
        else:
            verdict = "ends with about the same training error as"
        lines.append(f"- {kind.capitalize()}-{deep} {verdict} {kind}-{shallow}: {100 * tb:.1f}% vs {100 * ta:.1f}%"
                     f"{test}.")  # fmt: skip
        if not residual:
            found_degradation = diff > 0.5
        else:
            resid_ok = diff <= 0.5
    plain_deep, resid_deep = res.run(deep, False), res.run(deep, True)
    if err(plain_deep, "train_err") is not None and err(resid_deep, "train_err") is not None:
        lines.append(f"- At depth {deep}, residual vs plain training error: {100 * err(resid_deep, 'train_err'):.1f}% vs "
                     f"{100 * err(plain_deep, 'train_err'):.1f}%.")  # fmt: skip
    if found_degradation is True:
        summary = ("**The degradation problem shows on this budget:** the deeper plain net trains worse than the "
                   "shallower one — an optimisation difficulty, since the deeper net could copy the shallower one "
                   "and add identity layers.")  # fmt: skip
        if True in gaps:
            if resid_ok:
                summary += " The residual nets do not degrade."
            else:
                summary += (f" The deeper residual net also ends behind its shallower twin on this short budget, by "
                            f"{gaps[True]:.1f} points against {gaps[False]:.1f} for plain"
                            + (": the shortcuts remove most of the gap." if gaps[True] < gaps[False] / 2 else "."))  # fmt: skip
    elif found_degradation is False:
        summary = ("**On this budget the degradation effect does not show:** the deeper plain net does not end "
                   "with a higher training error than the shallower one. He et al. saw it over ~164 epochs; "
                   "short schedules and small data can hide it.")  # fmt: skip
    else:
        summary = "Plain runs at two depths are needed to judge degradation."
    statuses = {r.status for r in res.runs} - {"done"}
    if res.status == "cancelled" or "cancelled" in statuses:
        summary += " (Stopped early: the last run is incomplete.)"
    if "diverged" in statuses:
        summary += " Some runs diverged: " + ", ".join(r.name for r in res.runs if r.status == "diverged") + "."
    return "\n".join([summary, *lines])
