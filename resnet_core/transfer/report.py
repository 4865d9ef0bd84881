"""The transfer page's and CLI's words: verdicts and narratives as pure functions of a result (its seeds, its
intervals, its status), unit-tested on constructed numbers.

Rules. A difference between two strategies is the per-seed paired difference of test accuracy (same split, same
labelled images, same head initialisation); a strategy "beats" another only when the 95% t-interval of that mean
difference over seeds excludes 0, otherwise it is a tie. One seed gives no interval and so no verdict; a partial
or cancelled run gives no verdict at all. The overall winner is the best mean only if it beats every other main
strategy that way; otherwise the strategies it does not beat are tied with it.
"""

from __future__ import annotations

import math

from resnet_core.transfer.config import BN_TRAIN, MAIN_STRATEGIES, STRATEGY_SHORT, TransferConfig
from resnet_core.transfer.results import TransferResult, binomial_se, paired_differences, summarize


def pct(x: float | None) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{100 * x:.1f}%"


def points(x: float | None) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{100 * x:+.1f}"


def acc_se(acc: float, se: float) -> str:
    """'86.1% ± 1.0' (the test-set standard error, in points)."""
    return f"{pct(acc)} ± {100 * se:.1f}" if math.isfinite(se) else pct(acc)


def lr_ratio_text(lr_head: float, lr_backbone: float) -> str:
    """How the pretrained layers' learning rate compares with the head's, from the numbers (e.g. '50× slower')."""
    if lr_backbone <= 0 or lr_head <= 0:
        return "not at all" if lr_backbone <= 0 else "without a head learning rate"
    ratio = lr_head / lr_backbone
    if math.isclose(ratio, 1.0, rel_tol=1e-3):
        return "as fast as the head"
    return f"{ratio:.3g}× slower" if ratio > 1 else f"{1 / ratio:.3g}× faster"


def no_verdict_reason(result: TransferResult) -> str | None:
    """Why this result may not give verdicts at all (None: it may)."""
    if result.status != "done":
        return f"a partial run ({result.status}: {len(result.results)} runs so far) gives no verdict"
    if not result.results:
        return "no run has finished"
    return None


def pair_verdict(row: dict, result_status: str = "done") -> dict:
    """{'verdict': 'a' | 'b' | 'tie' | None, 'reason'} for one paired-difference row (a - b over seeds)."""
    if result_status != "done":
        return {"verdict": None, "reason": "partial run: no verdict"}
    if row["n"] < 2 or row.get("low") is None:
        return {"verdict": None, "reason": "one seed: no interval, no verdict"}
    if row["low"] > 0:
        return {"verdict": "a", "reason": "the 95% interval is above 0"}
    if row["high"] < 0:
        return {"verdict": "b", "reason": "the 95% interval is below 0"}
    return {"verdict": "tie", "reason": "the 95% interval includes 0"}


def overall_verdict(result: TransferResult, shots: int | None) -> dict:
    """The best main strategy at ``shots`` and whether the intervals support calling it the winner.

    {'verdict': 'winner' | 'tie' | None, 'best': strategy by mean, 'tied': [strategies not beaten by it],
     'reason': str}"""
    reason = no_verdict_reason(result)
    rows = [r for r in summarize(result.results) if r["shots"] == shots and r["strategy"] in MAIN_STRATEGIES]
    if not rows:
        return {"verdict": None, "best": None, "tied": [], "reason": reason or "no main strategy ran"}
    best = max(rows, key=lambda r: r["test_acc_mean"])["strategy"]
    if reason:
        return {"verdict": None, "best": best, "tied": [], "reason": reason}
    others = [r["strategy"] for r in rows if r["strategy"] != best]
    if not others:
        return {"verdict": None, "best": best, "tied": [], "reason": "only one strategy: nothing to compare"}
    diffs = [d for d in paired_differences(result.results, [(best, o) for o in others]) if d["shots"] == shots]
    verdicts = {d["b"]: pair_verdict(d)["verdict"] for d in diffs}
    if any(v is None for v in verdicts.values()) or len(verdicts) < len(others):
        return {"verdict": None, "best": best, "tied": [], "reason": "one seed: no interval, no verdict"}
    tied = [o for o in others if verdicts[o] != "a"]
    if tied:
        return {
            "verdict": "tie",
            "best": best,
            "tied": tied,
            "beaten": [o for o in others if o not in tied],
            "reason": "the best mean does not beat every other strategy with a 95% interval above 0",
        }
    return {
        "verdict": "winner",
        "best": best,
        "tied": [],
        "beaten": others,
        "reason": "beats every other strategy (95% intervals above 0)",
    }


def verdicts(result: TransferResult) -> dict:
    """The summary the CLI writes to its JSON: paired differences with their verdicts and the overall call."""
    status = "done" if no_verdict_reason(result) is None else result.status
    pairs = [{**d, **pair_verdict(d, status)} for d in paired_differences(result.results)]
    budgets = sorted({r.shots for r in result.results}, key=lambda k: k or 10**9)
    return {"status": result.status, "pairs": pairs, "overall": {str(k): overall_verdict(result, k) for k in budgets}}


def _name(strategy: str) -> str:
    return STRATEGY_SHORT.get(strategy, strategy)


def describe_pair(row: dict, result_status: str = "done") -> str:
    """One line: 'full fine-tune − feature extraction: +1.3 points (95% CI +0.6 to +2.0; 5 seeds, better on 5) → ...'."""
    v = pair_verdict(row, result_status)
    head = f"{_name(row['a'])} − {_name(row['b'])}: {points(row['mean'])} points"
    if v["verdict"] is None:
        return f"{head} ({row['n']} seed{'s' if row['n'] != 1 else ''}) → no verdict ({v['reason']})"
    ci = f"95% CI {points(row['low'])} to {points(row['high'])}; {row['n']} seeds, higher on {row['a_wins']}"
    call = {"a": f"**{_name(row['a'])}** better", "b": f"**{_name(row['b'])}** better", "tie": "**tie**"}[v["verdict"]]
    return f"{head} ({ci}) → {call}"


def describe_comparison(result: TransferResult) -> str:
    """A few sentences from the measured numbers of one comparison: the best mean, whether the intervals make it
    a winner or a tie, the paired differences, and the cost of fine-tuning over feature extraction."""
    rows = summarize(result.results)
    if not rows:
        return "No run has finished yet."
    parts = []
    status = "done" if no_verdict_reason(result) is None else result.status
    for shots in sorted({r["shots"] for r in rows}, key=lambda k: k or 10**9):
        cell = {r["strategy"]: r for r in rows if r["shots"] == shots}
        k = f"{shots} labelled images per class" if shots else "all labelled images"
        call = overall_verdict(result, shots)
        best = cell.get(call["best"]) if call["best"] else None
        if best is None:
            parts.append(f"With {k}: {call['reason']}.")
            continue
        seeds = f"{best['n_seeds']} seed{'s' if best['n_seeds'] != 1 else ''}"
        acc = f"{acc_se(best['test_acc_mean'], best['test_se'])}, mean of {seeds}"
        if call["verdict"] == "winner":
            text = f"With {k}, **{_name(call['best'])}** wins ({acc}): its paired 95% intervals exclude 0 against every other strategy."
        elif call["verdict"] == "tie":
            tied = ", ".join(_name(s) for s in call["tied"])
            text = (
                f"With {k}, **no single winner**: {_name(call['best'])} has the best mean ({acc}) but is tied with "
                f"{tied} (the 95% intervals of the paired differences include 0)."
            )
        else:
            text = f"With {k}, {_name(call['best'])} has the best mean ({acc}); no verdict: {call['reason']}."
        lines = [
            describe_pair(d, status)
            for d in paired_differences(result.results)
            if d["shots"] == shots and d["a"] != BN_TRAIN
        ]  # the BatchNorm section tells that one
        if lines:
            text += "\n\n" + "\n".join(f"- {line}" for line in lines)
        fe = cell.get("feature_extraction")
        tuned = [cell[s] for s in ("partial_finetune", "full_finetune", "staged") if s in cell]
        if fe is not None and tuned:
            top = max(tuned, key=lambda r: r["test_acc_mean"])
            ratio = top["train_seconds_mean"] / max(1e-9, fe["train_seconds_mean"])
            text += (
                f"\n\nCost: {_name(top['strategy'])} took {ratio:.0f}× the time of feature extraction "
                f"({top['train_seconds_mean']:.1f}s vs {fe['train_seconds_mean']:.1f}s per run) and trained "
                f"{top['trainable_params']:,} parameters instead of {fe['trainable_params']:,}."
            )
        parts.append(text)
    return "\n\n".join(parts)


def describe_sweep(result: TransferResult) -> str:
    """Per label budget: the best mean and whether the intervals call it a winner or a tie."""
    rows = summarize(result.results)
    budgets = sorted({r["shots"] for r in rows}, key=lambda k: k or 10**9)
    if not budgets:
        return "No run has finished yet."
    lines = []
    for shots in budgets:
        call = overall_verdict(result, shots)
        cell = {r["strategy"]: r for r in rows if r["shots"] == shots}
        best = cell.get(call["best"]) if call["best"] else None
        label = f"**{shots if shots else 'all'} per class**"
        if best is None:
            lines.append(f"- {label}: {call['reason']}.")
            continue
        acc = f"{pct(best['test_acc_mean'])} ± {100 * best['test_acc_std']:.1f} (sd over seeds)"
        if call["verdict"] == "winner":
            line = f"- {label}: **{_name(call['best'])}** wins with {acc}"
        elif call["verdict"] == "tie":
            line = (
                f"- {label}: tie — {_name(call['best'])} has the best mean, {acc}, but its paired intervals "
                f"include 0 against {', '.join(_name(s) for s in call['tied'])}"
            )
        else:
            line = f"- {label}: {_name(call['best'])} has the best mean, {acc}; no verdict ({call['reason']})"
        scratch = cell.get("scratch")
        if scratch is not None and call["best"] != "scratch":
            line += f"; scratch {pct(scratch['test_acc_mean'])} ± {100 * scratch['test_acc_std']:.1f}"
        lines.append(line + ".")
    n_seeds = max(r["n_seeds"] for r in rows)
    lines.append(
        f"\n(Mean ± standard deviation over {n_seeds} seed{'s' if n_seeds != 1 else ''}; a winner is named only "
        "when the 95% interval of its paired difference with every other strategy excludes 0.)"
    )
    return "\n".join(lines)


def describe_bn_drift(result: TransferResult) -> str | None:
    """What leaving BatchNorm in train mode did to the running statistics and to test accuracy (None if absent)."""
    rows = {(r["strategy"], r["shots"]): r for r in summarize(result.results)}
    pair = next((d for d in paired_differences(result.results) if d["a"] == BN_TRAIN), None)
    bug = next((r for (s, _), r in rows.items() if s == BN_TRAIN), None)
    frozen = rows.get(("feature_extraction", bug["shots"])) if bug else None
    if bug is None or frozen is None or pair is None:
        return None
    shift, var = bug["bn_mean_shift"], bug["bn_var_log_ratio"]
    status = "done" if no_verdict_reason(result) is None else result.status
    text = (
        f"With BatchNorm left in train mode, no weight of the backbone trains, yet its running means moved by "
        f"**{shift:.3f} source standard deviations** on average per channel and its running variances by about "
        f"**{100 * (math.exp(var) - 1):.0f}%** (mean |log ratio| {var:.3f}; frozen: {frozen['bn_mean_shift'] or 0:.3f} "
        f"and {frozen['bn_var_log_ratio'] or 0:.3f}). Test accuracy: {acc_se(bug['test_acc_mean'], bug['test_se'])} "
        f"vs {acc_se(frozen['test_acc_mean'], frozen['test_se'])} with BatchNorm frozen."
    )
    return text + "\n\n- " + describe_pair(pair, status)


def summary_table(result: TransferResult) -> list[dict]:
    """One row per (budget, strategy): mean ± sd over seeds and the test-set standard error."""
    return [
        {
            "shots": r["shots"] if r["shots"] else "all",
            "strategy": _name(r["strategy"]),
            "test acc (mean)": r["test_acc_mean"],
            "sd over seeds": r["test_acc_std"],
            "test-set SE": r["test_se"],
            "seeds": r["n_seeds"],
            "s per run": r["train_seconds_mean"],
            "trainable params": r["trainable_params"],
        }
        for r in summarize(result.results)
    ]


def paired_table(result: TransferResult) -> list[dict]:
    status = "done" if no_verdict_reason(result) is None else result.status
    out = []
    for d in paired_differences(result.results):
        v = pair_verdict(d, status)["verdict"]
        call = {"a": _name(d["a"]), "b": _name(d["b"]), "tie": "tie", None: "no verdict"}[v]
        out.append(
            {
                "shots": d["shots"] if d["shots"] else "all",
                "difference": f"{_name(d['a'])} − {_name(d['b'])}",
                "mean (points)": 100 * d["mean"],
                "95% low": None if d["low"] is None else 100 * d["low"],
                "95% high": None if d["high"] is None else 100 * d["high"],
                "seeds": d["n"],
                "a higher on": d["a_wins"],
                "verdict": call,
            }
        )
    return out


def results_table(result: TransferResult) -> list[dict]:
    """One row per run for tables and CSV downloads."""
    return [
        {
            "strategy": r.strategy,
            "shots": r.shots if r.shots else "all",
            "seed": r.seed,
            "best_val_acc": r.best_val_acc,
            "final_val_acc": r.final_val_acc,
            "test_acc": r.test_acc,
            "test_se": binomial_se(r.test_acc, r.n_test),
            "train_val_gap": r.train_val_gap,
            "trainable_params": r.trainable_params,
            "seconds": r.train_seconds,
            "seconds_per_epoch": r.seconds_per_epoch,
            "epochs": r.epochs_run,
            "status": r.status,
            "bn_mean_shift": r.bn_drift.get("mean_shift"),
            "device": r.device,
        }
        for r in result.results
    ]


def config_notes(config: TransferConfig) -> list[str]:
    """Sentences derived from the config (never hard-coded numbers)."""
    views = config.feature_views if config.augment else 0
    if views:
        partial = (
            f"; partial fine-tuning trains its last stage on cached activations of the frozen layers for the "
            f"same {views} views"
            if getattr(config, "cache_prefix", False) and "partial_finetune" in config.strategies
            else ""
        )
        parity = (
            f"Feature extraction and staged's head phase train on cached features of {views} augmented views "
            f"of each labelled image{partial}, so every strategy sees augmented images."
        )
    elif config.augment:
        parity = "Cached-feature strategies see clean images only, while the others are augmented."
    else:
        parity = "Augmentation is off for all strategies."
    lr = (
        f"Pretrained layers learn {lr_ratio_text(config.lr_head, config.lr_backbone)} than the new head "
        f"(backbone lr {config.lr_backbone:g}, head lr {config.lr_head:g})."
    )
    return [lr, parity]


def contract_dict(result: TransferResult) -> dict:
    """The CLI's JSON: {"config", "results": [{strategy, seed, shots, best_val_acc, final_val_acc, test_acc, test_se,
    train_seconds, trainable_params, bn_drift, history: [{epoch, train_loss, val_loss, val_acc, seconds}], ...}],
    "summary", "paired_differences", "verdicts": {"status", "pairs", "overall"}, "provenance", ...}."""
    return {**result.to_dict(), "verdicts": verdicts(result)}


def describe_parity(settings: dict[str, TransferResult]) -> str:
    """One line per main strategy: its mean ± sd under each augmentation setting (label -> result on the same
    seeds), so the page states what augmentation parity changed from the shipped numbers, not from memory."""
    cells: dict[str, list[str]] = {}
    for label, res in settings.items():
        for row in summarize(res.results):
            if row["strategy"] in MAIN_STRATEGIES:
                value = f"{label} {pct(row['test_acc_mean'])} ± {100 * row['test_acc_std']:.1f}"
                cells.setdefault(row["strategy"], []).append(value)
    return "\n".join(f"- {_name(s)}: " + "; ".join(v) for s, v in cells.items())
