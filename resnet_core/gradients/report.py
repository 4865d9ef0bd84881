"""What a gradient-flow result shows, in words that hold on every seed measured (or say "not seen here").

The headline metric is ``first_last_ratio`` = ||dL/dx|| at block 0's input / at the last block's input: 1 means
the gradient reaches the first block as strongly as the last; far below 1 it vanishes on the way back, far
above 1 it explodes. A residual net "keeps the gradient" at a depth when its ratio is closer to 1 (in log
scale) than the plain net's of the same seed on every seed — more precisely, when it counteracts the plain
net's trend: more gradient reaches block 0 where the plain net's vanishes, less where it explodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from resnet_core.gradients.result import GradientResult
from resnet_core.i18n import gettext as _
from resnet_core.i18n import ngettext
from resnet_core.numbers import fmt_number

VANISH, EXPLODE = 0.1, 10.0  # a plain ratio below / above these on every seed is called vanishing / exploding


def _as_result(result: GradientResult | dict) -> GradientResult:
    return result if isinstance(result, GradientResult) else GradientResult.from_dict(result)


def _log_distance(x: float | None) -> float:
    return abs(math.log10(x)) if x is not None and x > 0 and math.isfinite(x) else math.inf


@dataclass(frozen=True)
class DepthComparison:
    depth: int
    plain: dict[int, float | None]  # seed -> first_last_ratio
    residual: dict[int, float | None]

    @property
    def seeds(self) -> list[int]:
        return sorted(set(self.plain) & set(self.residual))

    def residual_helps(self, seed: int) -> bool:
        """The identity path counteracts what happens in the plain net: more gradient reaches block 0 where the
        plain net's vanishes (ratio < 1), less where it explodes (ratio > 1)."""
        p, r = self.plain.get(seed), self.residual.get(seed)
        if r is None:
            return False
        if p is None:  # the plain ratio is not finite (overflow): any finite residual ratio is better
            return True
        return r > p if p < 1 else r < p

    @property
    def residual_helps_on_every_seed(self) -> bool:
        return bool(self.seeds) and all(self.residual_helps(s) for s in self.seeds)

    @property
    def residual_behaviour(self) -> str:
        """'steady' when every seed's residual ratio is within [VANISH, EXPLODE], 'growing' / 'shrinking' beyond."""
        vals = [self.residual[s] for s in self.seeds]
        if vals and all(v is not None and VANISH <= v <= EXPLODE for v in vals):
            return "steady"
        if vals and all(v is None or v > EXPLODE for v in vals):
            return "growing"
        if vals and all(v is not None and v < VANISH for v in vals):
            return "shrinking"
        return "mixed"

    @property
    def plain_behaviour(self) -> str:
        """'vanishing' / 'exploding' when every seed's plain ratio is beyond the threshold, else 'steady/mixed'."""
        vals = [self.plain[s] for s in self.seeds]
        if vals and all(v is not None and v < VANISH for v in vals):
            return "vanishing"
        if vals and all(v is None or v > EXPLODE for v in vals):  # None: not finite (overflow)
            return "exploding"
        if vals and all(v is not None and v < 1 for v in vals):
            return "shrinking"
        if vals and all(v is None or v > 1 for v in vals):
            return "growing"
        return "mixed"

    def range_text(self, variant: str) -> str:
        vals = [v for v in (self.plain if variant == "plain" else self.residual).values() if v is not None]
        if not vals:
            return _("not finite")
        lo, hi = min(vals), max(vals)
        return fmt_number(lo) if len(vals) == 1 or lo == hi else f"{fmt_number(lo)}–{fmt_number(hi)}"


def comparisons(result: GradientResult | dict) -> list[DepthComparison]:
    res = _as_result(result)
    out = []
    for depth in sorted({r.depth for r in res.runs}):
        plain = {r.seed: r.first_last_ratio for r in res.runs_of(depth, False)}
        resid = {r.seed: r.first_last_ratio for r in res.runs_of(depth, True)}
        if plain and resid:
            out.append(DepthComparison(depth, plain, resid))
    return out


def headline(result: GradientResult | dict, *, markdown: bool = True) -> str:
    """The verdict at the deepest depth measured with both variants, or why there is none."""
    res = _as_result(result)
    b = "**" if markdown else ""
    if not res.complete:
        c = res.config
        total = len(c.get("seeds", [0])) * len(c.get("depths", [])) * len(c.get("variants", []))
        text = (
            _("{b}Partial result{b} ({n} of {total} networks stopped): no verdict until every run is measured.")
            if res.status == "cancelled"
            else _("{b}Partial result{b} ({n} of {total} networks so far): no verdict until every run is measured.")
        )
        return text.format(b=b, n=len(res.runs), total=total)
    comps = comparisons(res)
    if not comps:
        return _("Measure plain and residual nets at the same depth to compare them.")
    deep = comps[-1]
    n = len(deep.seeds)
    seeds = ngettext("{n} seed", "{n} seeds", n).format(n=n)
    plain_what = {
        "vanishing": _("vanishes on the way back to the first block of the plain net"),
        "exploding": _("explodes on the way back to the first block of the plain net"),
        "shrinking": _("shrinks on the way back to the first block of the plain net"),
        "growing": _("grows on the way back to the first block of the plain net"),
    }.get(deep.plain_behaviour, _("changes on the way back through the plain net"))
    ratios = _("‖∂L/∂x‖ at block 0 ÷ at the last block: plain {plain}, residual {residual}").format(
        plain=deep.range_text("plain"), residual=deep.range_text("residual")
    )
    if not deep.residual_helps_on_every_seed:
        return _(
            "{b}Not seen on every seed ({seeds}):{b} at depth {depth} the residual net does not counteract the "
            "plain net's trend on every seed ({ratios})."
        ).format(b=b, seeds=seeds, depth=deep.depth, ratios=ratios)
    plain_shrinks = deep.plain_behaviour in ("vanishing", "shrinking")
    if deep.residual_behaviour == "steady":
        tail = _("the identity path keeps it within 10× of the last block's ({ratios}).")
    elif plain_shrinks and deep.residual_behaviour == "growing":
        tail = _(
            "the identity path keeps it from vanishing — it even grows toward the input ({ratios}): without "
            "normalisation each block adds its branch to its input, so the signal and its gradient grow with "
            "depth (BatchNorm or a Fixup-style initialisation keeps that in check)."
        )
    elif plain_shrinks:
        tail = _("the identity path lets more of it through ({ratios}).")
    else:
        tail = _("the identity path keeps it far smaller ({ratios}).")
    return _("{b}Seen on every seed ({seeds}):{b} at depth {depth} the gradient {what}; {tail}").format(
        b=b, seeds=seeds, depth=deep.depth, what=plain_what, tail=tail.format(ratios=ratios)
    )


def depth_lines(result: GradientResult | dict) -> list[str]:
    """One line per depth: plain and residual ratio ranges over seeds and whether residual is closer to 1."""
    lines = []
    for comp in comparisons(result):
        mark = (
            _("residual counteracts it on every seed") if comp.residual_helps_on_every_seed else _("not on every seed")
        )
        lines.append(
            _("depth {depth}: plain {plain}, residual {residual} ({mark})").format(
                depth=comp.depth, plain=comp.range_text("plain"), residual=comp.range_text("residual"), mark=mark
            )
        )
    return lines


def progress_words(event) -> str:
    """Where a gradient measurement is, from one of its progress events."""
    m = event.metrics
    if "depth" not in m:
        return _("{done} of {total} networks measured").format(done=event.step, total=event.total_steps)
    net = (_("residual-{depth}") if m["residual"] else _("plain-{depth}")).format(depth=m["depth"])
    return _("{net}, seed {seed} measured: {done} of {total} networks").format(
        net=net, seed=m["seed"], done=event.step, total=event.total_steps
    )
