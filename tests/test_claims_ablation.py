"""Guards for the block-ablation report's sentences (the ensemble-like "deleting one block barely changes" vs
"not seen here", "block N is the exception", "every single deletion breaks" the plain net, which BatchNorm
statistics were used) and for how the run makes the numbers: in "recompute" mode every evaluation really
re-estimates the BatchNorm statistics on the configured training images, so its numbers are not the raw ones
under another label."""

from __future__ import annotations

import hashlib

import pytest
import torch

from resnet_core.ablation import report
from resnet_core.ablation.config import AblationConfig
from resnet_core.ablation.lesions import bn_calibration_images, recomputed_bn_stats
from resnet_core.ablation.run import ablation_test_set, run_ablation
from resnet_core.data.datasets import load_dataset
from resnet_core.models import build_cifar_net, deleted_blocks
from resnet_core.training.batching import evaluate
from resnet_core.training.engine import seeded
from tests.claims_data import ablation_result

CPU = torch.device("cpu")

# ------------------------------------------------------------------------------------------------ the verdicts


def test_barely_changes_rests_on_the_median_deletion_not_the_best():
    ensemble = report.headline(ablation_result([0.88, 0.89, 0.895, 0.87, 0.885], [0.3, 0.5, 0.2]))
    assert ensemble.startswith("**Deleting one block barely changes resnet56:** the median single deletion is 1.5")
    # Two deletions barely matter, three cost 40-60 points: the best one is within 1 point, the median is not.
    chain = report.headline(ablation_result([0.89, 0.895, 0.5, 0.4, 0.3], [0.3, 0.5, 0.2]))
    assert chain.startswith("**Not seen here:** deleting one block costs resnet56 a median 40.0 points")


def test_a_block_that_drops_to_chance_is_named_as_the_exception():
    collapsed = report.headline(ablation_result([0.10, 0.89, 0.895, 0.89], [0.3]))
    assert "Block 0 is the exception: without it the net falls to 10.0% (chance 10%)" in collapsed
    assert "compare with re-estimated BatchNorm statistics" in collapsed
    assert "exception" not in report.headline(ablation_result([0.5, 0.89, 0.895, 0.89], [0.3]))


def test_the_plain_net_is_broken_only_when_every_single_deletion_breaks_it():
    broken = report.headline(ablation_result([0.88, 0.89], [0.3, 0.5, 0.2, 0.45]))
    assert "Every single deletion breaks plain56: at best 50.0% (intact 81.0%)" in broken
    one_survives = report.headline(ablation_result([0.88, 0.89], [0.3, 0.7, 0.2, 0.45]))
    assert "Every single deletion breaks" not in one_survives
    assert "plain56: median single deletion 43.5 points below intact (81.0%); best 70.0%." in one_survives


def test_the_statistics_used_are_named():
    raw = report.headline(ablation_result([0.88, 0.89], [0.3], bn_stats="raw"))
    recomputed = report.headline(ablation_result([0.88, 0.89], [0.3], bn_stats="recompute"))
    assert "BatchNorm statistics: raw (as trained)" in raw and "re-estimated" not in raw
    assert "BatchNorm statistics: re-estimated" in recomputed


def test_no_median_or_verdict_from_a_partial_run():
    text = report.headline(ablation_result([0.88, 0.89], [0.3], status="cancelled"))
    assert text.startswith("**Partial result**") and "barely" not in text and "Not seen" not in text


# ------------------------------------------------------------------------------------------------- the run


def _pair() -> dict:
    """An untrained depth-8 pair with BatchNorm statistics far from those of real images (as after a lesion)."""
    pair = {}
    for kind in ("residual", "plain"):
        model = seeded(lambda kind=kind: build_cifar_net(8, residual=kind == "residual"), 0)
        gen = torch.Generator().manual_seed(1)
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.5)
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) * 4 + 0.2)
        with torch.no_grad():
            model.fc.weight.mul_(10)  # confident logits: the statistics used move the loss visibly
        pair[kind] = model.eval()
    return pair


def _config(bn_stats: str) -> AblationConfig:
    return AblationConfig(test_size=40, delete_k=False, reorder=False, bn_stats=bn_stats, bn_images=60, batch_size=30)


def test_recompute_mode_feeds_the_calibration_images_to_every_evaluation():
    """Through run_ablation: "recompute" numbers are those of the nets with statistics re-estimated on the
    configured training images (intact and lesioned), and differ from "raw" on a net where the stored
    statistics are stale."""
    raw = run_ablation(_config("raw"), device=CPU, models=_pair())
    recomputed = run_ablation(_config("recompute"), device=CPU, models=_pair())
    assert raw.bn_stats == "raw" and recomputed.bn_stats == "recompute"

    config = _config("recompute")
    test = ablation_test_set(config)
    images = bn_calibration_images(config.dataset, config.bn_images, seed=config.seed)
    model = _pair()["residual"]

    def evaluated() -> dict:
        return evaluate(model, test, device=CPU, batch_size=config.batch_size, fast=config.fast)

    assert raw.models["residual"].baseline_loss == pytest.approx(evaluated()["loss"], rel=1e-5)
    with recomputed_bn_stats(model, images, batch_size=config.batch_size):
        intact = evaluated()
    assert recomputed.models["residual"].baseline_loss == pytest.approx(intact["loss"], rel=1e-5)
    with deleted_blocks(model, [0]), recomputed_bn_stats(model, images, batch_size=config.batch_size):
        lesioned = evaluated()
    assert recomputed.models["residual"].delete_one[0]["loss"] == pytest.approx(lesioned["loss"], rel=1e-5)

    for kind in ("residual", "plain"):
        a, b = raw.models[kind], recomputed.models[kind]
        assert abs(a.baseline_loss - b.baseline_loss) > 0.01 * a.baseline_loss, kind
        rows = [(r["loss"], s["loss"]) for r, s in zip(a.delete_one, b.delete_one) if r["loss"] is not None]
        assert rows and all(abs(x - y) > 0.01 * x for x, y in rows), (kind, rows)


def test_the_calibration_images_are_training_images():
    def fingerprints(images: torch.Tensor) -> set[str]:
        return {hashlib.sha256(image.numpy().tobytes()).hexdigest() for image in images}

    images = bn_calibration_images("bundled", 60, seed=0)
    assert len(images) == 60
    assert fingerprints(images) <= fingerprints(load_dataset("bundled").train.images)
