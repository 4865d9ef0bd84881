"""Guards for the degradation report's sentences ("the degradation problem shows on every seed", "not seen here",
"not seen on every seed", and the residual's "remove the degradation" / "also ends above" / "a tie") and for how
the run makes the number they rest on: the training error is scored after every epoch in eval mode on the fixed
training subset (not the test split, not in train mode), and the augmentation the config asks for is what the
nets are trained on."""

from __future__ import annotations

import copy
import hashlib

import pytest
import torch
import torch.nn.functional as F

from resnet_core.data.datasets import DATASET_STATS, normalize
from resnet_core.degradation import report
from resnet_core.degradation import run as degradation_run
from resnet_core.degradation.config import DegradationConfig
from resnet_core.training.numerics import autocast_for
from tests.claims_data import degradation_result

# ------------------------------------------------------------------------------------------------ the verdicts


def test_degradation_shows_only_when_every_seed_agrees_beyond_the_margin():
    shows = report.headline(degradation_result([12.0, 16.0, 9.0], [-1.5, -0.4, 0.3]))
    assert shows.startswith("**The degradation problem shows on every seed (3 seeds):**")
    assert "+12.3 points (95% interval +3.6 to +21.1, 3 seeds)" in shows  # t(0.975, 2) = 4.303 over 3 seeds
    assert report.headline(degradation_result([12.0, -3.0, 9.0], [0, 0, 0])).startswith("**Not seen on every seed:**")
    assert report.headline(degradation_result([0.5, 0.8], [0, 0])).startswith("**Not seen on every seed:**")


def test_deeper_plain_nets_training_better_is_not_seen_here_only_beyond_the_margin():
    better = report.headline(degradation_result([-5.0, -3.0], [0.0, 0.0]))
    assert better.startswith("**Not seen here:** plain-56 trains *better* than plain-20 on every seed")
    within = report.headline(degradation_result([-0.5, -0.3], [0.0, 0.0]))  # better, but under a point: a tie
    assert within.startswith("**Not seen on every seed:**")


RESIDUAL_SENTENCES = {
    "removed": "the shortcuts remove the degradation",
    "above": "Residual-56 also ends above residual-20 on every seed",
    "tie": "Residual: a tie within seed noise",
}


@pytest.mark.parametrize(
    "residual_gaps, which", [([-1.0, -0.5], "removed"), ([3.0, 4.0], "above"), ([2.0, -0.5], "tie")]
)
def test_the_residual_sentence_follows_its_own_gaps(residual_gaps, which):
    text = report.headline(degradation_result([12.0, 16.0], residual_gaps))
    assert [k for k, words in RESIDUAL_SENTENCES.items() if words in text] == [which], text


def test_no_verdict_from_a_partial_run():
    text = report.headline(degradation_result([12.0, 16.0], [0.0, 0.0], status="running"))
    assert text.startswith("**Partial result**") and "shows" not in text


# ------------------------------------------------------------------------------------------------- the run


def _fingerprints(images: torch.Tensor) -> set[str]:
    return {hashlib.sha256(image.numpy().tobytes()).hexdigest() for image in images}


def test_the_scored_training_subset_is_fixed_and_made_of_training_images():
    """The same images for every run seed (the subset does not move with the seed), all of them training images."""
    config = DegradationConfig(train_eval_size=50)
    train0, test0, eval0 = degradation_run.degradation_data(config, 0)
    _, _, eval1 = degradation_run.degradation_data(config, 1)
    assert len(eval0) == 50 and torch.equal(eval0.images, eval1.images)
    assert _fingerprints(eval0.images) <= _fingerprints(train0.images)
    small = DegradationConfig(train_size=100, test_size=50, train_eval_size=30)
    train_set, test_set, train_eval = degradation_run.degradation_data(small, 3)
    assert _fingerprints(train_eval.images) <= _fingerprints(train_set.images)


def _eval_mode_metrics(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, *, train_mode=False):
    """Loss and accuracy computed here, without the engine: clean images, normalised, the run's numerics."""
    model = copy.deepcopy(model)  # train mode moves BatchNorm statistics: never on the run's own net
    model.train(train_mode)
    x = normalize(images, *DATASET_STATS[images.shape[1]]).contiguous(memory_format=torch.channels_last)
    with torch.no_grad(), autocast_for(torch.device("cpu"), True):
        logits = model(x)
    return F.cross_entropy(logits.float(), labels).item(), (logits.argmax(1) == labels).float().mean().item()


def test_training_error_is_scored_on_the_fixed_training_subset_in_eval_mode(monkeypatch):
    """Through run_degradation: the last epoch's "training error" is the eval-mode error of the trained net on
    the fixed training subset. Scoring the test split, or the net in train mode, gives other numbers."""
    built = []
    real_build = degradation_run.build_cifar_net

    def keep(*args, **kwargs):
        built.append(real_build(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(degradation_run, "build_cifar_net", keep)
    config = DegradationConfig(
        depths=[8], variants=["residual"], train_size=100, test_size=50, train_eval_size=30, epochs=2, batch_size=25
    )
    result = degradation_run.run_degradation(config, device="cpu")
    (model,) = built
    _, test_set, train_eval = degradation_run.degradation_data(config, 0)
    final = result.runs[0].final

    loss, acc = _eval_mode_metrics(model, train_eval.images, train_eval.labels)
    assert final["train_eval_loss"] == pytest.approx(loss, rel=1e-4)
    assert final["train_err"] == pytest.approx(1 - acc)
    test_loss, _ = _eval_mode_metrics(model, test_set.images, test_set.labels)
    assert final["test_loss"] == pytest.approx(test_loss, rel=1e-4)
    # The check can tell them apart: the test split and train mode score differently on this net.
    train_mode_loss, _ = _eval_mode_metrics(model, train_eval.images, train_eval.labels, train_mode=True)
    for other in (test_loss, train_mode_loss):
        assert abs(other - loss) > 1e-2 * loss


def test_the_nets_train_on_augmented_images_only_when_the_config_asks(monkeypatch):
    """What reaches a degradation net in training mode: augmented batches with ``augment=True`` (most images
    shifted or flipped), the clean images themselves with ``augment=False``."""
    seen: list[torch.Tensor] = []
    real_build = degradation_run.build_cifar_net

    def watched(*args, **kwargs):
        model = real_build(*args, **kwargs)
        model.register_forward_pre_hook(
            lambda m, inputs: seen.append(inputs[0].detach().clone()) if m.training else None
        )
        return model

    monkeypatch.setattr(degradation_run, "build_cifar_net", watched)
    shares = {}
    for augment in (True, False):
        seen.clear()
        config = DegradationConfig(
            depths=[8],
            variants=["plain"],
            train_size=40,
            test_size=10,
            train_eval_size=10,
            epochs=1,
            batch_size=20,
            augment=augment,
        )
        train_set, _, _ = degradation_run.degradation_data(config, 0)
        degradation_run.run_degradation(config, device="cpu")
        reference = normalize(train_set.images, *DATASET_STATS[1])
        batch = torch.cat(seen)
        assert len(batch) == 40
        unchanged = [bool((reference == x).flatten(1).all(1).any()) for x in batch]
        shares[augment] = sum(unchanged) / len(unchanged)
    assert shares[False] == 1.0, "without augmentation every training image is a clean one"
    assert shares[True] < 0.5, f"with augmentation most images are shifted or flipped ({shares[True]:.0%} clean)"
