"""Guards for every sentence the gradient-flow report prints: each test sets the measured ratios on both sides of
a rule and checks that the printed words flip ("seen on every seed" vs "not seen on every seed", vanishes /
shrinks / explodes / grows, and the four tails). The ratios themselves come from the run path: the headline is
checked on a real measurement where plain and residual nets of two seeds share their weights."""

from __future__ import annotations

import pytest

from resnet_core.gradients import report
from resnet_core.gradients.config import GradientConfig
from resnet_core.gradients.run import run_gradients
from tests.claims_data import gradient_result

SEEN = "**Seen on every seed (2 seeds):**"
NOT_SEEN = "**Not seen on every seed (2 seeds):**"


def test_seen_on_every_seed_needs_every_seed():
    """The verdict is about every seed: one seed where the residual net does worse than the plain one turns
    "seen" into "not seen", even when the other seed agrees by a factor of 100."""
    assert report.headline(gradient_result([0.01, 0.01], [1.0, 2.0])).startswith(SEEN)
    one_disagrees = gradient_result([0.01, 0.01], [1.0, 0.005])
    assert report.headline(one_disagrees).startswith(NOT_SEEN)
    assert report.depth_lines(one_disagrees)[0].endswith("(not on every seed)")
    assert "counteracts it on every seed" in report.depth_lines(gradient_result([0.01, 0.01], [1.0, 2.0]))[0]


def test_counteracting_an_explosion_means_less_gradient_not_more():
    """Where the plain net's gradient explodes, the residual net helps by keeping it smaller."""
    assert report.headline(gradient_result([100.0, 200.0], [1.0, 2.0])).startswith(SEEN)
    assert report.headline(gradient_result([100.0, 200.0], [300.0, 400.0])).startswith(NOT_SEEN)
    overflow = gradient_result([None, 200.0], [1.0, 2.0])  # a plain ratio that overflowed: any finite one is better
    assert report.headline(overflow).startswith(SEEN) and "explodes" in report.headline(overflow)


@pytest.mark.parametrize(
    "plain, words",
    [
        ([0.01, 0.05], "the gradient vanishes on the way back"),
        ([0.05, 0.5], "the gradient shrinks on the way back"),  # one seed within 10x: not "vanishes"
        ([20.0, 50.0], "the gradient explodes on the way back"),
        ([20.0, 5.0], "the gradient grows on the way back"),  # one seed within 10x: not "explodes"
        ([None, 30.0], "the gradient explodes on the way back"),
    ],
)
def test_vanish_and_explode_words_hold_on_every_seed(plain, words):
    residual = [1.0 if p is None or p < 1 else p / 10 for p in plain]
    text = report.headline(gradient_result(plain, residual))
    assert text.startswith(SEEN) and words in text, text


@pytest.mark.parametrize(
    "plain, residual, tail",
    [
        ([0.01, 0.02], [1.0, 2.0], "the identity path keeps it within 10× of the last block's"),
        ([0.01, 0.02], [30.0, 40.0], "keeps it from vanishing — it even grows toward the input"),
        ([0.01, 0.02], [0.05, 0.08], "the identity path lets more of it through"),
        ([100.0, 200.0], [20.0, 30.0], "the identity path keeps it far smaller"),
    ],
)
def test_each_tail_follows_the_residual_ratios(plain, residual, tail):
    text = report.headline(gradient_result(plain, residual))
    assert text.startswith(SEEN) and tail in text, text


def test_no_verdict_from_a_partial_measurement():
    partial = gradient_result([0.01, 0.01], [1.0, 2.0], status="cancelled")
    assert report.headline(partial).startswith("**Partial result** (4 of 4 networks stopped)")
    short = gradient_result([0.01, 0.01], [1.0, 2.0])
    short.runs = short.runs[:-1]  # the last network was never measured
    assert "Partial result" in report.headline(short) and "Seen" not in report.headline(short)


def test_the_measured_verdict_flips_with_the_identity_path():
    """Through the real run: without normalisation at depth 20 the residual net of each seed keeps far more of
    the gradient than the plain net with the same weights, so the report says "seen on every seed"; a residual
    net that passed on only what the plain one does (a block that ignores its shortcut) would not be seen."""
    config = GradientConfig(depths=[20], norm="none", seeds=[0, 1], batch_size=16, jacobian_probes=0)
    measured = run_gradients(config, device="cpu")
    assert report.headline(measured).startswith(SEEN)
    ratios = {(r.seed, r.residual): r.first_last_ratio for r in measured.runs}
    assert all(ratios[(s, True)] > ratios[(s, False)] for s in (0, 1))
    no_shortcut = gradient_result([ratios[(s, False)] for s in (0, 1)], [ratios[(s, False)] for s in (0, 1)], depth=20)
    assert report.headline(no_shortcut).startswith(NOT_SEEN)
