"""Predict-then-reveal questions for presenter mode, answered by the project's own measurements.

Each builder takes a measured result (a shipped result or a live computation) and returns a :class:`Question`:
the prompt a teacher reads out, the options the class chooses from, the option the measurement supports
(``None`` when it settles none of them: the reveal then says so) and one sentence of explanation built from
the numbers. Nothing here is a fixed answer: change the result and the answer follows.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from resnet_core.ablation import report as ablation_report
from resnet_core.ablation.result import AblationResult
from resnet_core.degradation import report as degradation_report
from resnet_core.gradients import report as gradients_report
from resnet_core.i18n import _
from resnet_core.numbers import fmt_number
from resnet_core.transfer.config import MAIN_STRATEGIES, STRATEGY_TITLES
from resnet_core.transfer.report import overall_verdict
from resnet_core.transfer.result import TransferResult

NOT_SETTLED = "not settled"  # the answer when the measurement supports none of the options


@dataclass(frozen=True)
class Question:
    key: str
    prompt: str
    options: dict[str, str]  # option id -> words shown to the class
    answer: str | None  # an option id, or None when the measurement settles none of them
    explanation: str  # one or two sentences from the measured numbers
    evidence: str = ""  # what was measured: budget, seeds

    @property
    def settled(self) -> bool:
        return self.answer is not None


def identity_question(demo, seed: int = 0) -> Question:
    """Home: through a stack of blocks without normalisation, how much gradient reaches the first block?"""
    plain, resid = demo.plain[0], demo.residual[0]
    ratio = plain / resid if resid > 0 else math.inf
    answer = "less" if ratio < 0.1 else "more" if ratio > 10 else "same"
    return Question(
        key="identity",
        prompt=_(
            "A stack of {n} blocks without normalisation, the same weights with and without the identity path. "
            "Compared with the residual stack, how much gradient reaches the first block of the plain stack?"
        ).format(n=demo.num_blocks),
        options={
            "less": _("Far less (it vanishes)"),
            "same": _("About the same (within 10×)"),
            "more": _("Far more (it explodes)"),
        },
        answer=answer,
        explanation=_(
            "Measured just now: {plain} in the plain stack, {resid} in the residual one. The gradient is a product "
            "of {n} Jacobians, one per block: about {one_plain} each without + I, about {one_resid} with it "
            "(one block measured alone)."
        ).format(
            plain=fmt_number(plain),
            resid=fmt_number(resid),
            n=demo.num_blocks,
            one_plain=fmt_number(demo.one_block_plain),
            one_resid=fmt_number(demo.one_block_residual),
        ),
        evidence=_("measured just now on 8 bundled images, seed {seed}").format(seed=seed),
    )


def gradient_question(result: dict, depth: int = 56) -> Question:
    """Gradient flow: at a depth, which net's first block receives the larger gradient (on every seed)?"""
    comps = {c.depth: c for c in gradients_report.comparisons(result)}
    comp = comps.get(depth) or (comps[max(comps)] if comps else None)
    options = {
        "residual": _("The residual net's"),
        "plain": _("The plain net's"),
        "same": _("About the same"),
    }
    if comp is None:
        return Question("gradients", _("No shipped gradient measurement here."), options, None, "")
    seeds = comp.seeds
    pairs = [(comp.plain.get(s), comp.residual.get(s)) for s in seeds]
    if pairs and all(r is not None and (p is None or r > 10 * p) for p, r in pairs):
        answer = "residual"
    elif pairs and all(p is not None and (r is None or p > 10 * r) for p, r in pairs):
        answer = "plain"
    elif pairs and all(p is not None and r is not None and 0.1 <= p / r <= 10 for p, r in pairs):
        answer = "same"
    else:
        answer = None
    norm = result.get("config", {}).get("norm", "batch")
    return Question(
        key="gradients",
        prompt=_(
            "Two {depth}-layer nets ({norm}), the same initial weights; one has skip connections. Which net's "
            "first block receives the larger gradient (relative to its last block)?"
        ).format(
            depth=comp.depth, norm=_("without normalisation") if norm == "none" else _("with batch normalisation")
        ),
        options=options,
        answer=answer,
        explanation=_(
            "‖∂L/∂x‖ at block 0 ÷ at the last block, over {n} seeds: plain {plain}, residual {resid}."
        ).format(n=len(seeds), plain=comp.range_text("plain"), resid=comp.range_text("residual"))
        + _growth_note(comp),
        evidence=_("shipped measurement at initialisation, {n} seeds").format(n=len(seeds)),
    )


def _growth_note(comp) -> str:
    """What the residual ratio itself does, when it does more than stay near 1 (from its seeds' values)."""
    if comp.residual_behaviour == "growing":
        return " " + _(
            "The residual ratio is far above 1 on every seed: without normalisation each block adds its branch to its "
            "input, so activations and gradients grow block after block (BatchNorm keeps that in check). The "
            "identity path stops the gradient from vanishing; it does not stop it from growing."
        )
    if comp.residual_behaviour == "steady":
        return " " + _("The residual ratio stays within 10× of 1 on every seed: the gradient reaches block 0 intact.")
    return ""


def degradation_question(result: dict) -> Question:
    """Degradation: does the deeper plain net reach a lower training error than the shallower one?"""
    gaps = degradation_report.gaps(result)
    plain = gaps.get("plain")
    options = {
        "better": _("Lower: deeper is better"),
        "tie": _("About the same"),
        "worse": _("Higher: deeper is worse"),
    }
    if plain is None:
        return Question("degradation", _("No shipped degradation result here."), options, None, "")
    gap = plain.interval
    return Question(
        key="degradation",
        prompt=_(
            "Train a {shallow}-layer and a {deep}-layer plain net (no skip connections) the same way. Does the "
            "deeper one end with a lower training error?"
        ).format(shallow=plain.shallow, deep=plain.deep),
        options=options,
        answer=plain.direction,
        explanation=degradation_report.headline(result),
        evidence=_("shipped result, {n} seeds, deep minus shallow {gap:+.1f} points on average").format(
            n=gap.n, gap=gap.mean
        ),
    )


def ablation_question(result: dict) -> Question:
    """Block ablation: which trained net survives losing one block (median single deletion within a few points)?"""
    res = result if isinstance(result, AblationResult) else AblationResult.from_dict(result)
    options = {
        "residual": _("Only the ResNet"),
        "plain": _("Only the plain net"),
        "both": _("Both"),
        "neither": _("Neither"),
    }
    survives = {}
    for kind, m in res.models.items():
        accs = ablation_report.single_deletions(m)
        if accs:
            survives[kind] = 100 * (m.baseline_acc - statistics.median(accs)) <= ablation_report.SMALL_DROP
    if set(survives) != {"residual", "plain"} or not res.complete:
        return Question("ablation", _("No complete shipped ablation here."), options, None, "")
    answer = {(True, False): "residual", (False, True): "plain", (True, True): "both", (False, False): "neither"}[
        (survives["residual"], survives["plain"])
    ]
    depth = "".join(ch for ch in res.models["residual"].name if ch.isdigit())
    return Question(
        key="ablation",
        prompt=_(
            "Take a trained ResNet-{depth} and a trained plain-{depth} and delete one block at a time, without "
            "retraining. Which of them barely notices (median loss within {points:g} points)?"
        ).format(depth=depth, points=ablation_report.SMALL_DROP),
        options=options,
        answer=answer,
        explanation=ablation_report.headline(result),
        evidence=_("shipped result, {n} test images").format(n=f"{res.test_size:,}"),
    )


def parameters_question(a, b) -> Question:
    """Architectures: which of two networks has more parameters (counted from the real modules)?"""
    options = {a.name: a.title, b.name: b.title, "same": _("About the same")}
    ratio = a.params / b.params
    answer = a.name if ratio > 1.25 else b.name if ratio < 0.8 else "same"
    return Question(
        key="parameters",
        prompt=_("Which network has more parameters: {a} or {b}?").format(a=a.title, b=b.title),
        options=options,
        answer=answer,
        explanation=_(
            "{a}: {pa} million parameters, {ma} billion multiply-accumulates per image; {b}: {pb} million "
            "parameters, {mb} billion MACs. Fully connected layers hold {fa}% of {a}'s parameters and {fb}% of "
            "{b}'s (a ResNet pools its last feature maps to one vector before its single linear layer)."
        ).format(
            fa=f"{100 * a.params_by_kind.get('linear', 0) / a.params:.0f}",
            fb=f"{100 * b.params_by_kind.get('linear', 0) / b.params:.0f}",
            a=a.title,
            pa=f"{a.params / 1e6:.1f}",
            ma=f"{a.macs / 1e9:.1f}",
            b=b.title,
            pb=f"{b.params / 1e6:.1f}",
            mb=f"{b.macs / 1e9:.1f}",
        ),
        evidence=_("counted from the torchvision modules, one 224×224 image"),
    )


def stage_size_question(stats) -> Question:
    """What the layers see: after the last stage, is an image described by more or fewer numbers than its pixels?"""
    pixels = math.prod(stats.input_shape)
    last = [s for s in stats.stages if len(s["output_shape"]) == 3][-1]  # the last conv stage, not the head
    numbers = math.prod(last["output_shape"])
    answer = "more" if numbers > 1.25 * pixels else "fewer" if numbers < 0.8 * pixels else "same"
    shapes = ", ".join(f"{s['name']} {'×'.join(map(str, s['output_shape']))}" for s in stats.stages)
    return Question(
        key="stage-size",
        prompt=_(
            "A {shape} image is {pixels} numbers. After the last stage of {net}, is it described by more or "
            "fewer numbers?"
        ).format(shape="×".join(map(str, stats.input_shape)), pixels=f"{pixels:,}", net=stats.title),
        options={"more": _("More"), "same": _("About as many"), "fewer": _("Fewer")},
        answer=answer,
        explanation=_(
            "{numbers} numbers after the last stage. The stages that downsample halve the width and height and "
            "double the channels: fewer positions, more features per position ({shapes})."
        ).format(numbers=f"{numbers:,}", shapes=shapes),
        evidence=_("output shapes recorded by forward hooks on the real module"),
    )


def transfer_question(result: TransferResult, shots: int = 20) -> Question:
    """Transfer learning: which strategy wins with k labelled images per class (or is it a tie)?"""
    options = {s: _(STRATEGY_TITLES[s]) for s in MAIN_STRATEGIES}
    options["tie"] = _("No single winner (a tie)")
    verdict = overall_verdict(result, shots)
    answer = {"winner": verdict["best"], "tie": "tie"}.get(verdict["verdict"])
    best = verdict.get("best")
    if verdict["verdict"] == "tie":
        tied = ", ".join(_(STRATEGY_TITLES[s]) for s in [best, *verdict["tied"]])
        explanation = _("The best mean ({best}) does not beat every other strategy: tied within 95% intervals: {tied}.")
        explanation = explanation.format(best=_(STRATEGY_TITLES[best]), tied=tied)
    elif verdict["verdict"] == "winner":
        explanation = _("{best} beats every other strategy: every paired 95% interval is above 0.").format(
            best=_(STRATEGY_TITLES[best])
        )
    else:
        explanation = _("No verdict: {reason}.").format(reason=verdict["reason"])
    seeds = sorted({r.seed for r in result.results})
    return Question(
        key="transfer",
        prompt=_(
            "A network pretrained on other classes, and only {k} labelled images per class of the new task. "
            "Which way of reusing it gives the best test accuracy?"
        ).format(k=shots),
        options=options,
        answer=answer,
        explanation=explanation,
        evidence=_("shipped comparison, {n} seeds, paired differences").format(n=len(seeds)),
    )
