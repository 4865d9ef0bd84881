"""What a block-ablation result shows, in words drawn from its numbers (none from a partial run).

Claims use the test-set standard error: an accuracy p on n images has SE sqrt(p(1-p)/n) (300 images: about
±1.8 points at 90%). "Barely changes" means the median single deletion is within ``SMALL_DROP`` points of intact.
"""

from __future__ import annotations

import statistics

from resnet_core.ablation.result import AblationResult, ModelAblation
from resnet_core.i18n import N_
from resnet_core.i18n import gettext as _
from resnet_core.stats import binomial_se

SMALL_DROP = 3.0  # points: a median single-deletion drop below this "barely changes" the net
BROKEN = 0.6  # a plain net whose every single deletion ends at or below this accuracy is "broken" by one deletion

BN_EXPLANATION = N_(
    "**Raw vs re-estimated BatchNorm statistics.** Every BatchNorm layer normalises with a mean and variance "
    "stored during training. Deleting a block changes what reaches all later layers, so those stored statistics "
    "no longer fit: with *raw* statistics (as Veit et al. evaluated) a lesion measures two things at once — the "
    "missing block and stale normalisation. *Re-estimated* statistics (forward passes over training images of "
    "the lesioned net, no weight changes) remove the second effect."
)


def _as_result(result: AblationResult | dict) -> AblationResult:
    return result if isinstance(result, AblationResult) else AblationResult.from_dict(result)


def single_deletions(m: ModelAblation) -> list[float]:
    return [r["acc"] for r in m.delete_one if r["acc"] is not None]


def summary_rows(result: AblationResult | dict) -> list[dict]:
    """Per net: intact accuracy ± SE, delete-one min / median / max (only when the run is complete)."""
    res = _as_result(result)
    rows = []
    for _kind, m in res.models.items():
        accs = single_deletions(m)
        complete = res.complete
        rows.append(
            {
                N_("net"): m.name,
                N_("intact (%)"): 100 * m.baseline_acc,
                N_("± SE (points)"): 100 * binomial_se(m.baseline_acc, res.test_size),
                N_("worst single deletion (%)"): 100 * min(accs) if accs and complete else None,
                N_("median single deletion (%)"): 100 * statistics.median(accs) if accs and complete else None,
                N_("best single deletion (%)"): 100 * max(accs) if accs and complete else None,
                N_("blocks deleted"): len(accs),
            }
        )
    return rows


def summary_lines(result: AblationResult | dict) -> list[str]:
    res = _as_result(result)
    lines = []
    for row in summary_rows(res):
        med = row["median single deletion (%)"]
        line = f"{row['net']}: intact {row['intact (%)']:.1f}% ± {row['± SE (points)']:.1f}"
        if med is not None:
            line += (
                f"; delete one block: worst {row['worst single deletion (%)']:.1f}%, median {med:.1f}%, "
                f"best {row['best single deletion (%)']:.1f}%"
            )
        lines.append(line)
    for _kind, m in res.models.items():
        if m.delete_k:
            lines.append(
                f"   {m.name} delete k: "
                + ", ".join(f"k={r['k']} {100 * r['mean_acc']:.1f}±{100 * r['std_acc']:.1f}" for r in m.delete_k)
            )
    return lines


def headline(result: AblationResult | dict, *, markdown: bool = True) -> str:
    """The verdict on Veit et al.'s claim for this run, or why there is none."""
    res = _as_result(result)
    b = "**" if markdown else ""
    if not res.complete:
        text = (
            _("{b}Partial result{b} ({n} evaluations stopped): no median or verdict until the run is complete.")
            if res.status == "cancelled"
            else _("{b}Partial result{b} ({n} evaluations so far): no median or verdict until the run is complete.")
        )
        return text.format(b=b, n=res.evaluations)
    resid, plain = res.models.get("residual"), res.models.get("plain")
    parts = []
    bn = _("re-estimated") if res.bn_stats == "recompute" else _("raw (as trained)")
    se = 100 * binomial_se(0.85, res.test_size)
    if resid is not None and single_deletions(resid):
        accs = single_deletions(resid)
        drop = 100 * (resid.baseline_acc - statistics.median(accs))
        if drop <= SMALL_DROP:
            parts.append(
                _(
                    "{b}Deleting one block barely changes {net}:{b} the median single deletion is {drop:.1f} points "
                    "below intact ({intact:.1f}%)."
                ).format(b=b, net=resid.name, drop=drop, intact=100 * resid.baseline_acc)
            )
        else:
            parts.append(
                _(
                    "{b}Not seen here:{b} deleting one block costs {net} a median {drop:.1f} points (intact "
                    "{intact:.1f}%)."
                ).format(b=b, net=resid.name, drop=drop, intact=100 * resid.baseline_acc)
            )
        worst = min(resid.delete_one, key=lambda r: r["acc"] if r["acc"] is not None else 2.0)
        if worst["acc"] is not None and worst["acc"] <= resid.chance_acc + 0.05:
            parts.append(
                _(
                    "Block {block} is the exception: without it the net falls to {acc:.1f}% (chance {chance:.0f}%)"
                ).format(block=worst["block"], acc=100 * worst["acc"], chance=100 * resid.chance_acc)
                + (_(" — compare with re-estimated BatchNorm statistics.") if res.bn_stats == "raw" else ".")
            )
    if plain is not None and single_deletions(plain):
        accs = single_deletions(plain)
        if max(accs) <= BROKEN:
            parts.append(
                _("Every single deletion breaks {net}: at best {best:.1f}% (intact {intact:.1f}%).").format(
                    net=plain.name, best=100 * max(accs), intact=100 * plain.baseline_acc
                )
            )
        else:
            drop = 100 * (plain.baseline_acc - statistics.median(accs))
            parts.append(
                _(
                    "{net}: median single deletion {drop:.1f} points below intact ({intact:.1f}%); best {best:.1f}%."
                ).format(net=plain.name, drop=drop, intact=100 * plain.baseline_acc, best=100 * max(accs))
            )
    parts.append(
        _("BatchNorm statistics: {bn}; {n:,} test images (SE about ±{se:.1f} points).").format(
            bn=bn, n=res.test_size, se=se
        )
    )
    return " ".join(parts)


def progress_words(event) -> str:
    """Where an ablation run is, from one of its progress events."""
    lesion, n = event.metrics.get("lesion"), event.metrics.get("n", 0)
    net = _("the residual net") if event.tag == "residual" else _("the plain net")
    what = {
        "intact": _("{net} intact"),
        "delete": _("{net} without block {n}"),
        "delete_k": _("{net} without {n} blocks"),
        "swaps": _("{net} with {n} swaps"),
    }.get(lesion, "{net}")
    return _("{what}: evaluation {step} of {total}").format(
        what=what.format(net=net, n=n), step=event.step, total=event.total_steps
    )
