"""Figures for the degradation experiment: error per epoch by depth and variant (mean over seeds with its range),
live training curves, a table per net and the budget in words."""

from __future__ import annotations

import re

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from resnet_core.degradation.result import DegradationResult, DegradationRun
from resnet_core.figures import COLORWAY, band, tick_policy, variant_label, variant_style
from resnet_core.i18n import gettext as _
from resnet_core.i18n import ngettext
from resnet_core.models import variant_name


def _as_degradation_result(result: DegradationResult | dict) -> DegradationResult:
    return result if isinstance(result, DegradationResult) else DegradationResult.from_dict(result)


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
    variant), the mean over seeds with a min–max band. Plain vermillion, dashed, open markers; residual blue, solid,
    filled; depths by marker symbol and shade."""
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
                style = variant_style(residual, depth, depths)
                if multi and xs:
                    fig.add_trace(band(xs, lo, hi, style["color"], group=name, alpha=0.12), row=1, col=col)
                fig.add_trace(
                    go.Scatter(
                        x=xs,
                        y=mean,
                        mode="lines+markers",
                        name=name,
                        legendgroup=name,
                        showlegend=col == 1,
                        line=dict(color=style["color"], dash=style["dash"], width=2),
                        marker=dict(symbol=style["symbol"], size=8, line=dict(width=1.5, color=style["color"])),
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
        template="plotly_white",
    )
    return tick_policy(fig, copy=False)


TAG = re.compile(r"^(plain|residual)-(\d+)")


def degradation_live_figure(events: list, *, metric: str = "loss") -> go.Figure:
    """Live training loss per step from a job's progress events (tag = run name, "plain-20 · seed 1"): styled as in
    :func:`degradation_figure` (plain vermillion dashed, residual blue solid, depth by symbol and shade)."""
    fig = go.Figure()
    by_tag: dict[str, tuple[list, list]] = {}
    for e in events:
        if getattr(e, "kind", None) != "step":
            continue
        xs, ys = by_tag.setdefault(e.tag or "run", ([], []))
        xs.append(e.epoch)
        ys.append(e.loss if metric == "loss" else 100 * (1 - (e.acc or 0)))
    nets = {tag: TAG.match(tag) for tag in by_tag}
    depths = sorted({int(m.group(2)) for m in nets.values() if m})
    for i, (tag, (xs, ys)) in enumerate(by_tag.items()):
        m = nets[tag]
        if m:
            style = variant_style(m.group(1) == "residual", int(m.group(2)), depths)
        else:
            style = {"color": COLORWAY[i % len(COLORWAY)], "dash": "solid", "symbol": "circle"}
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines+markers",
                name=tag,
                line=dict(color=style["color"], dash=style["dash"], width=2),
                marker=dict(symbol=style["symbol"], size=7, maxdisplayed=10),
            )
        )
    fig.update_xaxes(title_text=_("epoch"))
    fig.update_yaxes(
        title_text=_("training loss (running)") if metric == "loss" else _("training error (%)"), rangemode="tozero"
    )
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=20, b=10), template="plotly_white")
    return tick_policy(fig, copy=False)


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
