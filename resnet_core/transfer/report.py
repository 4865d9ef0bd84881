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

from resnet_core.i18n import N_, ngettext
from resnet_core.i18n import gettext as _
from resnet_core.stats import binomial_se
from resnet_core.transfer.config import BN_TRAIN, MAIN_STRATEGIES, STRATEGY_SHORT, TransferConfig
from resnet_core.transfer.result import TransferResult, paired_differences, summarize
from resnet_core.transfer.verdicts import (
    overall_verdict,
    pair_status,
    pair_verdict,
    verdicts,
)


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
        return _("not at all") if lr_backbone <= 0 else _("without a head learning rate")
    ratio = lr_head / lr_backbone
    if math.isclose(ratio, 1.0, rel_tol=1e-3):
        return _("as fast as the head")
    return (
        _("{ratio:.3g}× slower").format(ratio=ratio) if ratio > 1 else _("{ratio:.3g}× faster").format(ratio=1 / ratio)
    )


def used_words(result: TransferResult) -> str | None:
    """What a run used when it is not what was asked (an upload with fewer labelled images than k), else None."""
    asked = {r.shots for r in result.results}
    used = {r.k_used for r in result.results}
    if not result.results or used == asked:
        return None
    info = result.data_info or {}
    return _(
        "Asked for {asked} labelled images per class; the upload has no more than {used} per class for training "
        "after {val} validation and {test} test images were set aside, so every run trained on {used} per class."
    ).format(
        asked=", ".join(str(k) for k in sorted(k for k in asked if k)),
        used=min(u for u in used if u),
        val=info.get("val_images", "?"),
        test=info.get("test_images", "?"),
    )


def _name(strategy: str) -> str:
    return _(STRATEGY_SHORT.get(strategy, strategy))


def describe_pair(row: dict, result_status: str = "done") -> str:
    """One line: 'full fine-tune − feature extraction: +1.3 points (95% CI +0.6 to +2.0; 5 seeds, better on 5) → ...'."""
    v = pair_verdict(row, result_status)
    head = _("{a} − {b}: {mean} points").format(a=_name(row["a"]), b=_name(row["b"]), mean=points(row["mean"]))
    if v["verdict"] is None:
        seeds = ngettext("{n} seed", "{n} seeds", row["n"]).format(n=row["n"])
        return _("{head} ({seeds}) → no verdict ({reason})").format(head=head, seeds=seeds, reason=v["reason"])
    ci = _("95% CI {low} to {high}; {n} seeds, higher on {wins}").format(
        low=points(row["low"]), high=points(row["high"]), n=row["n"], wins=row["a_wins"]
    )
    call = {
        "a": _("**{name}** better").format(name=_name(row["a"])),
        "b": _("**{name}** better").format(name=_name(row["b"])),
        "tie": _("**tie**"),
    }[v["verdict"]]
    return f"{head} ({ci}) → {call}"


def describe_comparison(result: TransferResult) -> str:
    """A few sentences from the measured numbers of one comparison: the best mean, whether the intervals make it
    a winner or a tie, the paired differences, and the cost of fine-tuning over feature extraction."""
    rows = summarize(result.results)
    if not rows:
        return _("No run has finished yet.")
    parts = []
    status = pair_status(result)
    used_note = used_words(result)
    if used_note:
        parts.append(used_note)
    for shots in sorted({r["shots"] for r in rows}, key=lambda k: k or 10**9):
        cell = {r["strategy"]: r for r in rows if r["shots"] == shots}
        used = next(iter(cell.values()))["shots_used"]
        k = _("{n} labelled images per class").format(n=used) if used else _("all labelled images")
        call = overall_verdict(result, shots)
        best = cell.get(call["best"]) if call["best"] else None
        if best is None:
            parts.append(_("With {k}: {reason}.").format(k=k, reason=call["reason"]))
            continue
        seeds = ngettext("{n} seed", "{n} seeds", best["n_seeds"]).format(n=best["n_seeds"])
        acc = _("{acc}, mean of {seeds}").format(acc=acc_se(best["test_acc_mean"], best["test_se"]), seeds=seeds)
        name = _name(call["best"])
        if call["verdict"] == "winner":
            text = _(
                "With {k}, **{name}** wins ({acc}): its paired 95% intervals exclude 0 against every other strategy."
            ).format(k=k, name=name, acc=acc)
        elif call["verdict"] == "tie":
            tied = ", ".join(_name(s) for s in call["tied"])
            text = _(
                "With {k}, **no single winner**: {name} has the best mean ({acc}) but is tied with {tied} (the 95% "
                "intervals of the paired differences include 0)."
            ).format(k=k, name=name, acc=acc, tied=tied)
        else:
            text = _("With {k}, {name} has the best mean ({acc}); no verdict: {reason}.").format(
                k=k, name=name, acc=acc, reason=call["reason"]
            )
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
            text += "\n\n" + _(
                "Cost: {name} took {ratio:.0f}× the time of feature extraction ({tuned:.1f}s vs {fe:.1f}s per run) "
                "and trained {tuned_params:,} parameters instead of {fe_params:,}."
            ).format(
                name=_name(top["strategy"]),
                ratio=ratio,
                tuned=top["train_seconds_mean"],
                fe=fe["train_seconds_mean"],
                tuned_params=top["trainable_params"],
                fe_params=fe["trainable_params"],
            )
        parts.append(text)
    return "\n\n".join(parts)


def describe_sweep(result: TransferResult) -> str:
    """Per label budget: the best mean and whether the intervals call it a winner or a tie."""
    rows = summarize(result.results)
    budgets = sorted({r["shots"] for r in rows}, key=lambda k: k or 10**9)
    if not budgets:
        return _("No run has finished yet.")
    lines = []
    for shots in budgets:
        call = overall_verdict(result, shots)
        cell = {r["strategy"]: r for r in rows if r["shots"] == shots}
        best = cell.get(call["best"]) if call["best"] else None
        label = "**" + _("{n} per class").format(n=shots if shots else _("all")) + "**"
        if best is None:
            lines.append(f"- {label}: {call['reason']}.")
            continue
        acc = _("{acc} ± {sd:.1f} (sd over seeds)").format(
            acc=pct(best["test_acc_mean"]), sd=100 * best["test_acc_std"]
        )
        name = _name(call["best"])
        if call["verdict"] == "winner":
            line = f"- {label}: " + _("**{name}** wins with {acc}").format(name=name, acc=acc)
        elif call["verdict"] == "tie":
            line = f"- {label}: " + _(
                "tie — {name} has the best mean, {acc}, but its paired intervals include 0 against {tied}"
            ).format(name=name, acc=acc, tied=", ".join(_name(s) for s in call["tied"]))
        else:
            line = f"- {label}: " + _("{name} has the best mean, {acc}; no verdict ({reason})").format(
                name=name, acc=acc, reason=call["reason"]
            )
        scratch = cell.get("scratch")
        if scratch is not None and call["best"] != "scratch":
            line += "; " + _("scratch {acc} ± {sd:.1f}").format(
                acc=pct(scratch["test_acc_mean"]), sd=100 * scratch["test_acc_std"]
            )
        lines.append(line + ".")
    n_seeds = max(r["n_seeds"] for r in rows)
    lines.append(
        "\n"
        + ngettext(
            "(Mean ± standard deviation over {n} seed; a winner is named only when the 95% interval of its paired "
            "difference with every other strategy excludes 0.)",
            "(Mean ± standard deviation over {n} seeds; a winner is named only when the 95% interval of its paired "
            "difference with every other strategy excludes 0.)",
            n_seeds,
        ).format(n=n_seeds)
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
    status = pair_status(result)
    text = _(
        "With BatchNorm left in train mode, no weight of the backbone trains, yet its running means moved by "
        "**{shift:.3f} source standard deviations** on average per channel and its running variances by about "
        "**{var_pct:.0f}%** (mean |log ratio| {var:.3f}; frozen: {frozen_shift:.3f} and {frozen_var:.3f}). Test "
        "accuracy: {bug_acc} vs {frozen_acc} with BatchNorm frozen."
    ).format(
        shift=shift,
        var_pct=100 * (math.exp(var) - 1),
        var=var,
        frozen_shift=frozen["bn_mean_shift"] or 0,
        frozen_var=frozen["bn_var_log_ratio"] or 0,
        bug_acc=acc_se(bug["test_acc_mean"], bug["test_se"]),
        frozen_acc=acc_se(frozen["test_acc_mean"], frozen["test_se"]),
    )
    return text + "\n\n- " + describe_pair(pair, status)


def summary_table(result: TransferResult) -> list[dict]:
    """One row per (budget, strategy): mean ± sd over seeds and the test-set standard error."""
    return [
        {
            N_("shots"): r["shots_used"] if r["shots_used"] else "all",
            N_("strategy"): _name(r["strategy"]),
            N_("test acc (mean)"): r["test_acc_mean"],
            N_("sd over seeds"): r["test_acc_std"] if r["n_seeds"] > 1 else None,  # one seed has no spread
            N_("test-set SE"): r["test_se"],
            N_("seeds"): r["n_seeds"],
            N_("s per run"): r["train_seconds_mean"],
            N_("trainable params"): r["trainable_params"],
        }
        for r in summarize(result.results)
    ]


def paired_table(result: TransferResult) -> list[dict]:
    status = pair_status(result)
    out = []
    for d in paired_differences(result.results):
        v = pair_verdict(d, status)["verdict"]
        call = {"a": _name(d["a"]), "b": _name(d["b"]), "tie": _("tie"), None: _("no verdict")}[v]
        out.append(
            {
                N_("shots"): d["shots"] if d["shots"] else "all",
                N_("difference"): f"{_name(d['a'])} − {_name(d['b'])}",
                N_("mean (points)"): 100 * d["mean"],
                N_("95% low"): None if d["low"] is None else 100 * d["low"],
                N_("95% high"): None if d["high"] is None else 100 * d["high"],
                N_("seeds"): d["n"],
                N_("a higher on"): d["a_wins"],
                N_("verdict"): call,
            }
        )
    return out


def results_table(result: TransferResult) -> list[dict]:
    """One row per run for tables and CSV downloads."""
    return [
        {
            N_("strategy"): r.strategy,
            N_("shots"): r.k_used if r.k_used else "all",  # what it trained on (an upload may hold fewer than asked)
            N_("seed"): r.seed,
            "best_val_acc": r.best_val_acc,
            "final_val_acc": r.final_val_acc,
            "test_acc": r.test_acc,
            "test_se": binomial_se(r.test_acc, r.n_test),
            "train_val_gap": r.train_val_gap,
            "trainable_params": r.trainable_params,
            "seconds": r.train_seconds,
            "seconds_per_epoch": r.seconds_per_epoch,
            N_("epochs"): r.epochs_run,
            N_("status"): r.status,
            "bn_mean_shift": r.bn_drift.get("mean_shift"),
            N_("device"): r.device,
        }
        for r in result.results
    ]


def config_notes(config: TransferConfig) -> list[str]:
    """Sentences derived from the config (never hard-coded numbers)."""
    views = config.feature_views if config.augment else 0
    if views:
        partial = (
            _(
                "; partial fine-tuning trains its last stage on cached activations of the frozen layers for the same {views} views"
            ).format(views=views)
            if getattr(config, "cache_prefix", False) and "partial_finetune" in config.strategies
            else ""
        )
        parity = _(
            "Feature extraction and staged's head phase train on cached features of {views} augmented views of each "
            "labelled image{partial}, so every strategy sees augmented images."
        ).format(views=views, partial=partial)
    elif config.augment:
        parity = _("Cached-feature strategies see clean images only, while the others are augmented.")
    else:
        parity = _("Augmentation is off for all strategies.")
    lr = _("Pretrained layers learn {ratio} than the new head (backbone lr {backbone:g}, head lr {head:g}).").format(
        ratio=lr_ratio_text(config.lr_head, config.lr_backbone), backbone=config.lr_backbone, head=config.lr_head
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
                value = f"{_(label)} {pct(row['test_acc_mean'])} ± {100 * row['test_acc_std']:.1f}"
                cells.setdefault(row["strategy"], []).append(value)
    return "\n".join(f"- {_name(s)}: " + "; ".join(v) for s, v in cells.items())


def progress_words(event) -> str:
    """Where a transfer comparison is, from one of its progress events (tagged "strategy/k=../seed=..")."""
    strategy, _sep, rest = event.tag.partition("/")
    seed = rest.rsplit("seed=", 1)[-1] if "seed=" in rest else "?"
    epochs = event.metrics.get("epochs")
    epoch = int(event.metrics.get("epoch", event.epoch))
    short = _(STRATEGY_SHORT[strategy]) if strategy in STRATEGY_SHORT else strategy
    name = short[:1].upper() + short[1:]
    where = (
        _("{name}, seed {seed}: epoch {epoch} of {epochs}").format(name=name, seed=seed, epoch=epoch, epochs=epochs)
        if epochs
        else _("{name}, seed {seed}: epoch {epoch}").format(name=name, seed=seed, epoch=epoch)
    )
    return where


def against_shipped(live: TransferResult, shipped: TransferResult | None) -> str | None:
    """A live run placed against the shipped comparison of the same settings (all but the seeds): for each
    strategy, whether every live seed's test accuracy lies within the range of the shipped seeds. One live seed
    gives no interval of its own; this says whether it behaves like the shipped ones. None when not comparable."""
    if shipped is None or live.status != "done" or not live.results:
        return None
    mine = {k: v for k, v in live.config.items() if k != "seeds"}
    theirs = {k: v for k, v in shipped.config.items() if k != "seeds"}
    differ = sorted(k for k in set(mine) & set(theirs) if mine[k] != theirs[k])
    if differ:
        return _(
            "The shipped comparison was made with other settings ({fields}): this run is not placed against it."
        ).format(fields=", ".join(differ))
    inside, outside = [], []
    for strategy in dict.fromkeys(r.strategy for r in live.results):
        ranges = [r.test_acc for r in shipped.results if r.strategy == strategy and r.shots == live.results[0].shots]
        if len(ranges) < 2:
            continue
        low, high = min(ranges), max(ranges)
        accs = [r.test_acc for r in live.results if r.strategy == strategy]
        (inside if all(low <= a <= high for a in accs) else outside).append(
            _("{name} {acc} (shipped {low}–{high})").format(
                name=_name(strategy), acc=", ".join(pct(a) for a in accs), low=pct(low), high=pct(high)
            )
        )
    if not inside and not outside:
        return None
    n = len({r.seed for r in shipped.results})
    if not outside:
        head = _("Your run lands inside the range of the {n} shipped seeds for every strategy:").format(n=n)
    else:
        head = _("Your run lands outside the range of the {n} shipped seeds for {m} of {total} strategies:").format(
            n=n, m=len(outside), total=len(inside) + len(outside)
        )
    return head + "\n" + "\n".join(f"- {line}" for line in outside + inside)
