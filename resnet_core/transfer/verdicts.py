"""When a transfer comparison may name a winner: only from a complete run, with at least two seeds and a test set
large enough, and only where the paired 95% intervals over seeds say so (otherwise "tie"). Words live in
``report``."""

from __future__ import annotations

from resnet_core.i18n import gettext as _
from resnet_core.transfer.config import MAIN_STRATEGIES
from resnet_core.transfer.result import TransferResult, paired_differences, summarize

# Fewer test images than this and one image moves an accuracy by 2 points or more: a difference between strategies,
# even one every seed agrees on, is within what the test set alone could produce (6 images gave "100.0% ± 0.0").
MIN_TEST_IMAGES = 50


def no_verdict_reason(result: TransferResult) -> str | None:
    """Why this result may not give verdicts at all (None: it may)."""
    if result.status != "done":
        return _("a partial run ({status}: {n} runs so far) gives no verdict").format(
            status=result.status, n=len(result.results)
        )
    if not result.results:
        return _("no run has finished")
    tested = min(r.n_test for r in result.results)
    if 0 < tested < MIN_TEST_IMAGES:
        return _(
            "the test set has only {n} images, too few for a verdict (at least {min} are needed: below that one "
            "image moves an accuracy by 2 points or more)"
        ).format(n=tested, min=MIN_TEST_IMAGES)
    return None


def pair_status(result: TransferResult) -> str:
    """What the paired rows of ``result`` may say: "done" (judge them), "small-test" (too few test images) or the
    result's own status (a partial run)."""
    if no_verdict_reason(result) is None:
        return "done"
    return "small-test" if result.status == "done" and result.results else result.status


def pair_verdict(row: dict, result_status: str = "done") -> dict:
    """{'verdict': 'a' | 'b' | 'tie' | None, 'reason'} for one paired-difference row (a - b over seeds)."""
    if result_status == "small-test":
        return {"verdict": None, "reason": _("too few test images: no verdict")}
    if result_status != "done":
        return {"verdict": None, "reason": _("partial run: no verdict")}
    if row["n"] < 2 or row.get("low") is None:
        return {"verdict": None, "reason": _("one seed: no interval, no verdict")}
    if row["low"] > 0:
        return {"verdict": "a", "reason": _("the 95% interval is above 0")}
    if row["high"] < 0:
        return {"verdict": "b", "reason": _("the 95% interval is below 0")}
    return {"verdict": "tie", "reason": _("the 95% interval includes 0")}


def overall_verdict(result: TransferResult, shots: int | None) -> dict:
    """The best main strategy at ``shots`` and whether the intervals support calling it the winner.

    {'verdict': 'winner' | 'tie' | None, 'best': strategy by mean, 'tied': [strategies not beaten by it],
     'reason': str}"""
    reason = no_verdict_reason(result)
    rows = [r for r in summarize(result.results) if r["shots"] == shots and r["strategy"] in MAIN_STRATEGIES]
    if not rows:
        return {"verdict": None, "best": None, "tied": [], "reason": reason or _("no main strategy ran")}
    best = max(rows, key=lambda r: r["test_acc_mean"])["strategy"]
    if reason:
        return {"verdict": None, "best": best, "tied": [], "reason": reason}
    others = [r["strategy"] for r in rows if r["strategy"] != best]
    if not others:
        return {"verdict": None, "best": best, "tied": [], "reason": _("only one strategy: nothing to compare")}
    diffs = [d for d in paired_differences(result.results, [(best, o) for o in others]) if d["shots"] == shots]
    verdicts = {d["b"]: pair_verdict(d)["verdict"] for d in diffs}
    if any(v is None for v in verdicts.values()) or len(verdicts) < len(others):
        return {"verdict": None, "best": best, "tied": [], "reason": _("one seed: no interval, no verdict")}
    tied = [o for o in others if verdicts[o] != "a"]
    if tied:
        return {
            "verdict": "tie",
            "best": best,
            "tied": tied,
            "beaten": [o for o in others if o not in tied],
            "reason": _("the best mean does not beat every other strategy with a 95% interval above 0"),
        }
    return {
        "verdict": "winner",
        "best": best,
        "tied": [],
        "beaten": others,
        "reason": _("beats every other strategy (95% intervals above 0)"),
    }


def verdicts(result: TransferResult) -> dict:
    """The summary the CLI writes to its JSON: paired differences with their verdicts and the overall call."""
    status = pair_status(result)
    pairs = [{**d, **pair_verdict(d, status)} for d in paired_differences(result.results)]
    budgets = sorted({r.shots for r in result.results}, key=lambda k: k or 10**9)
    return {"status": result.status, "pairs": pairs, "overall": {str(k): overall_verdict(result, k) for k in budgets}}
