"""What a degradation result shows, in words that hold on every seed (or say "tie" / "not seen here").

The comparison is paired: for each seed, deeper minus shallower training error (eval mode, fixed training
subset), per variant. A statement is made only when the result is complete; the direction is claimed when
every seed agrees by more than ``MARGIN`` points, otherwise the mean gap is given with its 95% interval.
"""

from __future__ import annotations

from dataclasses import dataclass

from resnet_core.degradation.result import DegradationResult
from resnet_core.i18n import gettext as _
from resnet_core.i18n import ngettext
from resnet_core.stats import Interval, mean_interval

MARGIN = 1.0  # points of training error: gaps smaller than this on some seed are not called a direction


@dataclass(frozen=True)
class Gap:
    variant: str  # plain | residual
    shallow: int
    deep: int
    per_seed: dict[int, float]  # seed -> deep minus shallow training error, in points
    interval: Interval

    @property
    def direction(self) -> str:
        """'worse' / 'better' when every seed agrees beyond MARGIN, else 'tie'."""
        gaps = list(self.per_seed.values())
        if gaps and all(g > MARGIN for g in gaps):
            return "worse"
        if gaps and all(g < -MARGIN for g in gaps):
            return "better"
        return "tie"


def _as_result(result: DegradationResult | dict) -> DegradationResult:
    return result if isinstance(result, DegradationResult) else DegradationResult.from_dict(result)


def gaps(result: DegradationResult | dict) -> dict[str, Gap]:
    """Paired training-error gaps (deepest minus shallowest depth) per variant, over the seeds that have both."""
    res = _as_result(result)
    depths = sorted({r.depth for r in res.runs})
    out: dict[str, Gap] = {}
    if len(depths) < 2:
        return out
    shallow, deep = depths[0], depths[-1]
    for residual in (False, True):
        per_seed = {}
        for seed in res.seeds:
            a, b = res.run(shallow, residual, seed), res.run(deep, residual, seed)
            if a and b and a.status == "done" and b.status == "done" and a.history and b.history:
                per_seed[seed] = 100 * (b.final["train_err"] - a.final["train_err"])
        if per_seed:
            name = "residual" if residual else "plain"
            out[name] = Gap(name, shallow, deep, per_seed, mean_interval(list(per_seed.values())))
    return out


def _pm(iv: Interval) -> str:
    if iv.n < 2:
        return _("{mean:+.1f} points (one seed: no interval)").format(mean=iv.mean)
    return _("{mean:+.1f} points (95% interval {low:+.1f} to {high:+.1f}, {n} seeds)").format(
        mean=iv.mean, low=iv.low, high=iv.high, n=iv.n
    )


def headline(result: DegradationResult | dict, *, markdown: bool = True) -> str:
    """One or two sentences: the verdict, or why there is none."""
    res = _as_result(result)
    b = "**" if markdown else ""
    if not res.complete:
        done = sum(r.status in ("done", "diverged") for r in res.runs)
        text = (
            _("{b}Partial result{b} ({done} finished runs so far): no verdict until every run has finished.")
            if res.status == "running"
            else _(
                "{b}Partial result{b} ({done} finished runs so far, stopped): no verdict until every run has finished."
            )
        )
        return text.format(b=b, done=done)
    g = gaps(res)
    plain, resid = g.get("plain"), g.get("residual")
    if plain is None:
        return _("Plain nets at two depths are needed to judge degradation.")
    n = len(plain.per_seed)
    seeds = ngettext("{n} seed", "{n} seeds", n).format(n=n)
    if plain.direction == "worse":
        text = _(
            "{b}The degradation problem shows on every seed ({seeds}):{b} plain-{deep} ends with higher training "
            "error than plain-{shallow}, by {gap}."
        )
    elif plain.direction == "better":
        text = _("{b}Not seen here:{b} plain-{deep} trains *better* than plain-{shallow} on every seed ({gap}).")
    else:
        text = _(
            "{b}Not seen on every seed:{b} plain-{deep} minus plain-{shallow} training error is {gap}; the seeds "
            "disagree or the gap is under {margin:g} point."
        )
    text = text.format(b=b, seeds=seeds, deep=plain.deep, shallow=plain.shallow, gap=_pm(plain.interval), margin=MARGIN)
    if resid is not None:
        if resid.interval.mean <= 0 and resid.direction != "worse":
            more = _(
                "Residual-{deep} ends at or below residual-{shallow} on the mean ({gap}): the shortcuts remove the "
                "degradation."
            )
        elif resid.direction == "worse":
            more = _("Residual-{deep} also ends above residual-{shallow} on every seed ({gap}).")
        else:
            more = _("Residual: a tie within seed noise ({gap}).")
        text += " " + more.format(deep=resid.deep, shallow=resid.shallow, gap=_pm(resid.interval))
    return text


def details(result: DegradationResult | dict) -> list[str]:
    """Per-seed lines, for the table's caption or the CLI."""
    res = _as_result(result)
    lines = []
    for name, gap in gaps(res).items():
        per = ", ".join(_("seed {seed}: {gap:+.1f}").format(seed=s, gap=v) for s, v in sorted(gap.per_seed.items()))
        lines.append(
            _("{name}-{deep} minus {name}-{shallow} training error (points): {per}").format(
                name=name, deep=gap.deep, shallow=gap.shallow, per=per
            )
        )
    diverged = [_("{net} (seed {seed})").format(net=r.name, seed=r.seed) for r in res.runs if r.status == "diverged"]
    if diverged:
        lines.append(_("Diverged and left out of the comparison: {nets}.").format(nets=", ".join(diverged)))
    return lines


def progress_words(event) -> str:
    """Where a degradation run is, from one of its progress events."""
    m = event.metrics
    if "depth" not in m:
        return _("step {step} of {total}").format(step=event.step, total=event.total_steps)
    net = (_("residual-{depth}") if m["residual"] else _("plain-{depth}")).format(depth=m["depth"])
    epoch = min(m["epochs"], int(event.epoch) + 1) if event.kind == "step" else int(event.epoch)
    return _("{net}, seed {seed}: epoch {epoch} of {epochs} (network {run} of {runs})").format(
        net=net, seed=m["seed"], epoch=epoch, epochs=m["epochs"], run=m["run"], runs=m["runs"]
    )
