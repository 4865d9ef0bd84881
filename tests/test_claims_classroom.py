"""Guards for the words a class sees: presenter mode's answers are computed from the result shown (change the
result and the answer flips, and a measurement that settles nothing says so), and every claim the reports can
print exists in Korean (no English sentence left in the Korean text)."""

from __future__ import annotations

import re
from collections.abc import Callable
from types import SimpleNamespace

import pytest

from resnet_core.ablation import report as ablation_report
from resnet_core.degradation import report as degradation_report
from resnet_core.gradients import report as gradients_report
from resnet_core.i18n import language
from resnet_core.serving import classroom
from resnet_core.transfer import report as transfer_report
from tests.claims_data import ablation_result, degradation_result, gradient_result, transfer_result

SCRATCH = [0.60, 0.80, 0.70, 0.90, 0.75]


def _plus(values: list[float], gains: list[float]) -> list[float]:
    return [v + g for v, g in zip(values, gains)]


# ------------------------------------------------------------------------------------------- presenter answers


@pytest.mark.parametrize(
    "plain, residual, answer",
    [
        ([0.01, 0.02], [1.0, 2.0], "residual"),
        ([1.0, 2.0], [0.01, 0.02], "plain"),
        ([0.5, 1.0], [1.0, 2.0], "same"),
        ([0.01, 0.02], [1.0, 0.1], None),  # one seed within 10x, the other beyond: settles nothing
    ],
)
def test_the_gradient_answer_follows_the_ratios(plain, residual, answer):
    question = classroom.gradient_question(gradient_result(plain, residual).to_dict())
    assert question.answer == answer


@pytest.mark.parametrize(
    "plain_gaps, answer", [([12.0, 16.0], "worse"), ([-5.0, -3.0], "better"), ([12.0, -3.0], "tie")]
)
def test_the_degradation_answer_follows_the_training_errors(plain_gaps, answer):
    result = degradation_result(plain_gaps, [0.0, 0.0]).to_dict()
    question = classroom.degradation_question(result)
    assert question.answer == answer
    assert question.explanation == degradation_report.headline(result)


@pytest.mark.parametrize(
    "residual, plain, answer",
    [
        ([0.88, 0.89, 0.895], [0.3, 0.5, 0.2], "residual"),
        ([0.88, 0.89, 0.895], [0.80, 0.79, 0.2], "both"),
        ([0.89, 0.5, 0.4], [0.3, 0.5, 0.2], "neither"),  # the best deletion is within a point, the median is not
        ([0.5, 0.4, 0.3], [0.80, 0.79, 0.81], "plain"),
    ],
)
def test_the_ablation_answer_follows_the_single_deletions(residual, plain, answer):
    assert classroom.ablation_question(ablation_result(residual, plain).to_dict()).answer == answer


def test_no_ablation_answer_from_a_partial_run():
    partial = ablation_result([0.88, 0.89], [0.3, 0.5], status="cancelled")
    assert classroom.ablation_question(partial.to_dict()).answer is None


def test_the_transfer_answer_follows_the_paired_intervals():
    helps = transfer_result(
        {"scratch": SCRATCH, "feature_extraction": _plus(SCRATCH, [0.02, 0.025, 0.018, 0.022, 0.02])}
    )
    assert classroom.transfer_question(helps).answer == "feature_extraction"
    hurts = transfer_result(
        {"scratch": SCRATCH, "feature_extraction": _plus(SCRATCH, [-0.02, -0.025, -0.018, -0.022, -0.02])}
    )
    assert classroom.transfer_question(hurts).answer == "scratch"
    tie = transfer_result({"scratch": SCRATCH, "feature_extraction": _plus(SCRATCH, [0.02, -0.01, 0.03, -0.02, 0.0])})
    question = classroom.transfer_question(tie)
    assert question.answer == "tie" and "tied within 95% intervals" in question.explanation
    one_seed = transfer_result({"scratch": [0.7], "feature_extraction": [0.9]})
    assert classroom.transfer_question(one_seed).answer is None


@pytest.mark.parametrize("plain, answer", [(0.001, "less"), (0.5, "same"), (50.0, "more")])
def test_the_identity_answer_follows_the_measured_gradients(plain, answer):
    demo = SimpleNamespace(plain=[plain], residual=[1.0], num_blocks=20, one_block_plain=0.7, one_block_residual=1.1)
    question = classroom.identity_question(demo)
    assert question.answer == answer and question.options[answer]


def _net(name: str, params: float, linear: float) -> SimpleNamespace:
    return SimpleNamespace(
        name=name,
        title=name.upper(),
        params=params,
        macs=1e9,
        params_by_kind={"linear": linear, "conv": params - linear},
    )


@pytest.mark.parametrize("a, b, answer", [(138e6, 25e6, "vgg"), (25e6, 138e6, "resnet"), (25e6, 24e6, "same")])
def test_the_parameter_answer_follows_the_counts(a, b, answer):
    question = classroom.parameters_question(_net("vgg", a, 0.5 * a), _net("resnet", b, 0.01 * b))
    assert question.answer == answer


@pytest.mark.parametrize("last, answer", [([512, 7, 7], "fewer"), ([2048, 14, 14], "more"), ([48, 56, 56], "same")])
def test_the_stage_size_answer_follows_the_shapes(last, answer):
    stats = SimpleNamespace(
        input_shape=[3, 224, 224],
        title="ResNet",
        stages=[{"name": "stem", "output_shape": [64, 56, 56]}, {"name": "last", "output_shape": last}],
    )
    assert classroom.stage_size_question(stats).answer == answer


# ------------------------------------------------------------------------------------------- Korean


def _with_a_diverged_run():
    result = degradation_result([12.0, 16.0], [0.0, 0.0])
    result.runs[-1].status = result.status = "diverged"
    return result


def _claims() -> dict[str, Callable[[], str]]:
    """Every sentence the reports can print, each from a result that makes it."""
    g, d, a, t = gradient_result, degradation_result, ablation_result, transfer_result
    fe_gain = _plus(SCRATCH, [0.02, 0.025, 0.018, 0.022, 0.02])
    claims = {
        "gradients seen, vanishes, steady": lambda: gradients_report.headline(g([0.01, 0.05], [1.0, 2.0])),
        "gradients not seen": lambda: gradients_report.headline(g([0.01, 0.01], [1.0, 0.005])),
        "gradients shrinks, grows toward input": lambda: gradients_report.headline(g([0.05, 0.5], [30.0, 40.0])),
        "gradients lets more through": lambda: gradients_report.headline(g([0.01, 0.02], [0.05, 0.08])),
        "gradients explodes, far smaller": lambda: gradients_report.headline(g([100.0, 200.0], [20.0, 30.0])),
        "gradients grows": lambda: gradients_report.headline(g([20.0, 5.0], [2.0, 0.5])),
        "gradients partial": lambda: gradients_report.headline(g([0.01], [1.0], status="cancelled")),
        "gradients depth lines": lambda: " ".join(gradients_report.depth_lines(g([0.01, 0.01], [1.0, 0.005]))),
        "degradation shows, removed": lambda: degradation_report.headline(d([12.0, 16.0], [-1.0, -0.5])),
        "degradation not seen here, above": lambda: degradation_report.headline(d([-5.0, -3.0], [3.0, 4.0])),
        "degradation not on every seed, tie": lambda: degradation_report.headline(d([12.0, -3.0], [2.0, -0.5])),
        "degradation one seed": lambda: degradation_report.headline(d([12.0], [0.0])),
        "degradation partial": lambda: degradation_report.headline(d([12.0, 16.0], [0.0, 0.0], status="running")),
        "degradation details": lambda: " ".join(degradation_report.details(_with_a_diverged_run())),
        "ablation barely, exception, breaks": lambda: ablation_report.headline(a([0.10, 0.89, 0.895], [0.3, 0.5])),
        "ablation not seen, median plain": lambda: ablation_report.headline(
            a([0.89, 0.5, 0.4], [0.3, 0.7], bn_stats="recompute")
        ),
        "ablation partial": lambda: ablation_report.headline(a([0.88], [0.3], status="running")),
        "transfer winner": lambda: transfer_report.describe_comparison(
            t({"scratch": SCRATCH, "feature_extraction": fe_gain})
        ),
        "transfer tie": lambda: transfer_report.describe_comparison(
            t({"scratch": [0.80, 0.70, 0.75], "feature_extraction": [0.812, 0.73, 0.758]})
        ),
        "transfer scratch better": lambda: transfer_report.describe_comparison(
            t({"scratch": fe_gain, "feature_extraction": SCRATCH})
        ),
        "transfer one seed": lambda: transfer_report.describe_comparison(
            t({"scratch": [0.7], "feature_extraction": [0.9]})
        ),
        "transfer sweep": lambda: transfer_report.describe_sweep(
            t({"scratch": SCRATCH, "feature_extraction": fe_gain})
        ),
        "transfer batchnorm drift": lambda: transfer_report.describe_bn_drift(
            t(
                {"feature_extraction": fe_gain, "feature_extraction_bn_train": SCRATCH},
                bn_shift={"feature_extraction": 0.0, "feature_extraction_bn_train": 0.4},
            )
        ),
        "transfer partial": lambda: transfer_report.describe_comparison(
            t({"scratch": SCRATCH, "feature_extraction": fe_gain}, status="cancelled")
        ),
    }
    questions = {
        "gradients": lambda: classroom.gradient_question(g([0.01, 0.02], [1.0, 2.0]).to_dict()),
        "degradation": lambda: classroom.degradation_question(d([12.0, 16.0], [0.0, 0.0]).to_dict()),
        "ablation": lambda: classroom.ablation_question(a([0.88, 0.89], [0.3, 0.5]).to_dict()),
        "transfer": lambda: classroom.transfer_question(t({"scratch": SCRATCH, "feature_extraction": fe_gain})),
    }
    for name, make in questions.items():
        claims[f"presenter {name}"] = lambda make=make: " ".join(
            [make().prompt, make().explanation, make().evidence, *make().options.values()]
        )
    return claims


HANGUL = re.compile(r"[\uac00-\ud7a3]")
# Three English words in a row: a sentence left untranslated. Net names (plain-56, resnet56) are single words.
ENGLISH_RUN = re.compile(r"\b[A-Za-z]{2,}(?:[\s,;:'’*-]+[A-Za-z]{2,}){2,}\b")


CLAIMS = _claims()


@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_every_printed_claim_exists_in_korean(name):
    make = CLAIMS[name]
    english = make()
    with language("ko"):
        korean = make()
    assert ENGLISH_RUN.search(english), f"{name}: the English text should be caught by the check itself"
    assert HANGUL.search(korean), f"{name}: no Korean in {korean!r}"
    left = ENGLISH_RUN.findall(korean)
    assert not left, f"{name}: English left in the Korean text: {left}"
