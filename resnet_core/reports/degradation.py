"""What a degradation result shows, in words that hold on every seed (or say "tie" / "not seen here").

The comparison is paired: for each seed, deeper minus shallower training error (eval mode, fixed training
subset), per variant. A statement is made only when the result is complete; the direction is claimed when
every seed agrees by more than ``MARGIN`` points, otherwise the mean gap is given with its 95% interval.
"""

from __future__ import annotations

from dataclasses import dataclass

from resnet_core.degradation import DegradationResult
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
        return f"{iv.mean:+.1f} points (one seed: no interval)"
    return f"{iv.mean:+.1f} points (95% interval {iv.low:+.1f} to {iv.high:+.1f}, {iv.n} seeds)"


def headline(result: DegradationResult | dict, *, markdown: bool = True) -> str:
    """One or two sentences: the verdict, or why there is none."""
    res = _as_result(result)
    b = "**" if markdown else ""
    if not res.complete:
        done = sum(r.status in ("done", "diverged") for r in res.runs)
        return (
            f"{b}Partial result{b} ({done} finished runs so far{'' if res.status == 'running' else ', stopped'}):"
            f" no verdict until every run has finished."
        )
    g = gaps(res)
    plain, resid = g.get("plain"), g.get("residual")
    if plain is None:
        return "Plain nets at two depths are needed to judge degradation."
    seeds = f"{len(plain.per_seed)} seed{'s' if len(plain.per_seed) > 1 else ''}"
    if plain.direction == "worse":
        text = (
            f"{b}The degradation problem shows on every seed ({seeds}):{b} plain-{plain.deep} ends with higher "
            f"training error than plain-{plain.shallow}, by {_pm(plain.interval)}."
        )
    elif plain.direction == "better":
        text = (
            f"{b}Not seen here:{b} plain-{plain.deep} trains *better* than plain-{plain.shallow} on every seed "
            f"({_pm(plain.interval)})."
        )
    else:
        text = (
            f"{b}Not seen on every seed:{b} plain-{plain.deep} minus plain-{plain.shallow} training error is "
            f"{_pm(plain.interval)}; the seeds disagree or the gap is under {MARGIN:g} point."
        )
    if resid is not None:
        if resid.interval.mean <= 0 and resid.direction != "worse":
            text += (
                f" Residual-{resid.deep} ends at or below residual-{resid.shallow} on the mean "
                f"({_pm(resid.interval)}): the shortcuts remove the degradation."
            )
        elif resid.direction == "worse":
            text += (
                f" Residual-{resid.deep} also ends above residual-{resid.shallow} on every seed "
                f"({_pm(resid.interval)})."
            )
        else:
            text += f" Residual: a tie within seed noise ({_pm(resid.interval)})."
    return text


def details(result: DegradationResult | dict) -> list[str]:
    """Per-seed lines, for the table's caption or the CLI."""
    res = _as_result(result)
    lines = []
    for name, gap in gaps(res).items():
        per = ", ".join(f"seed {s}: {v:+.1f}" for s, v in sorted(gap.per_seed.items()))
        lines.append(f"{name}-{gap.deep} minus {name}-{gap.shallow} training error (points): {per}")
    diverged = [f"{r.name} (seed {r.seed})" for r in res.runs if r.status == "diverged"]
    if diverged:
        lines.append("Diverged and left out of the comparison: " + ", ".join(diverged) + ".")
    return lines
