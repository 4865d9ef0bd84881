"""Guards for the transfer report's sentences ("**X** wins", "no single winner", "**X** better" / "**tie**" for a
pair, transfer helps = feature extraction beats scratch) built from paired 95% t-intervals over seeds, and for
the freezing the strategies' names promise when partial fine-tuning trains through the engine (the prefix and
its BatchNorm statistics stay as pretrained, the last stage and the head train)."""

from __future__ import annotations

import pytest
import torch

from resnet_core import transfer as tr
from resnet_core.checkpoints import save_checkpoint
from resnet_core.models import build_cifar_net
from resnet_core.training.engine import seeded
from resnet_core.transfer import report
from resnet_core.transfer import run as run_mod
from resnet_core.transfer.result import paired_differences
from tests.claims_data import transfer_result

SCRATCH = [0.60, 0.80, 0.70, 0.90, 0.75]  # seeds differ by 30 points: only the pairing sees a 2-point gain
GAIN = [0.020, 0.025, 0.018, 0.022, 0.020]


def _pair_line(result, a: str, b: str) -> str:
    row = next(d for d in paired_differences(result.results) if d["a"] == a and d["b"] == b)
    return report.describe_pair(row)


def test_transfer_helps_when_every_paired_interval_is_above_zero():
    helps = transfer_result({"scratch": SCRATCH, "feature_extraction": [s + g for s, g in zip(SCRATCH, GAIN)]})
    line = _pair_line(helps, "feature_extraction", "scratch")
    assert line.startswith("feature extraction − scratch: +2.1 points (95% CI +1.8 to +2.4; 5 seeds, higher on 5)")
    assert line.endswith("→ **feature extraction** better")
    assert report.overall_verdict(helps, 20)["verdict"] == "winner"
    assert "**feature extraction** wins" in report.describe_comparison(helps)
    assert "**feature extraction** wins" in report.describe_sweep(helps)


def test_transfer_hurts_names_scratch():
    hurts = transfer_result({"scratch": SCRATCH, "feature_extraction": [s - g for s, g in zip(SCRATCH, GAIN)]})
    line = _pair_line(hurts, "feature_extraction", "scratch")
    assert line.endswith("→ **scratch** better") and "feature extraction** better" not in line
    call = report.overall_verdict(hurts, 20)
    assert call["verdict"] == "winner" and call["best"] == "scratch"


def test_a_gain_within_the_t_interval_is_a_tie():
    """Three seeds, each a little better (+1.2, +3.0, +0.8 points): the t-interval (t = 4.30 with 2 degrees of
    freedom) includes 0, so it is a tie, although a normal 1.96 would call it a win."""
    base = [0.80, 0.70, 0.75]
    gains = [0.012, 0.030, 0.008]
    tie = transfer_result({"scratch": base, "feature_extraction": [b + g for b, g in zip(base, gains)]})
    line = _pair_line(tie, "feature_extraction", "scratch")
    assert line.endswith("→ **tie**") and "(95% CI -1.2 to +4.6; 3 seeds, higher on 3)" in line
    call = report.overall_verdict(tie, 20)
    assert call["verdict"] == "tie" and call["tied"] == ["scratch"]
    assert "**no single winner**" in report.describe_comparison(tie)


def test_the_best_mean_is_no_winner_unless_it_beats_every_other_strategy():
    accs = {
        "scratch": SCRATCH,
        "feature_extraction": [s + g for s, g in zip(SCRATCH, GAIN)],
        "full_finetune": [s + g + d for s, g, d in zip(SCRATCH, GAIN, [0.01, -0.012, 0.008, -0.006, 0.011])],
    }
    call = report.overall_verdict(transfer_result(accs), 20)
    assert call["verdict"] == "tie" and call["best"] == "full_finetune" and call["tied"] == ["feature_extraction"]


def test_the_batchnorm_drift_text_follows_its_paired_interval():
    """Leaving BatchNorm in train mode: the drift is reported with its own numbers, and the pair line names the
    frozen version as better only when every seed's interval says so."""
    fe = [s + g for s, g in zip(SCRATCH, GAIN)]
    shifts = {"feature_extraction": 0.0, "feature_extraction_bn_train": 0.4}
    hurt = transfer_result(
        {"feature_extraction": fe, "feature_extraction_bn_train": [a - g for a, g in zip(fe, GAIN)]}, bn_shift=shifts
    )
    text = report.describe_bn_drift(hurt)
    assert "running means moved by **0.400 source standard deviations**" in text
    assert text.endswith("→ **feature extraction** better")
    harmless = transfer_result(
        {
            "feature_extraction": fe,
            "feature_extraction_bn_train": [a + d for a, d in zip(fe, [0.01, -0.01, 0.0, 0.005, -0.004])],
        },
        bn_shift=shifts,
    )
    assert report.describe_bn_drift(harmless).endswith("→ **tie**")


@pytest.mark.parametrize("status", ["running", "cancelled"])
def test_no_verdict_from_one_seed_or_a_partial_run(status):
    one = transfer_result({"scratch": [0.7], "feature_extraction": [0.9]})
    assert "no verdict" in _pair_line(one, "feature_extraction", "scratch")
    partial = transfer_result({"scratch": SCRATCH, "feature_extraction": [s + 0.1 for s in SCRATCH]}, status=status)
    text = report.describe_comparison(partial)
    assert "wins" not in text and "better" not in text and report.overall_verdict(partial, 20)["verdict"] is None


# ------------------------------------------------------------------------------------------------ freezing


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A depth-8 source net with BatchNorm statistics away from their defaults."""
    net = seeded(lambda: build_cifar_net(8, num_classes=len(tr.SOURCE_CLASSES)), 0)
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.randn(16, 1, 28, 28) * 2 + 0.5)
    path = tmp_path_factory.mktemp("source") / "source8.pt"
    save_checkpoint(net, path, meta={"model": "resnet8"}, half=False)
    return path


def _run_capturing(monkeypatch, source, strategy: str, **kw) -> tuple[dict, dict]:
    built = {}
    real = run_mod.build_model

    def keep(*args, **kwargs):
        model = real(*args, **kwargs)
        built["model"], built["before"] = model, {k: v.clone() for k, v in model.state_dict().items()}
        return model

    monkeypatch.setattr(run_mod, "build_model", keep)
    config = tr.TransferConfig(
        strategies=[strategy],
        shots=[2],
        seeds=[0],
        epochs=2,
        batch_size=8,
        min_epoch_images=8,
        val_per_class=3,
        test_per_class=4,
        **kw,
    )
    result = tr.run_transfer(config, device=torch.device("cpu"), source_checkpoint_path=source)
    assert result.results[0].status == "done"
    return built["before"], built["model"].state_dict()


def _moved(before: dict, after: dict, prefix: str) -> list[str]:
    return [k for k in before if k.startswith(prefix) and not torch.equal(before[k], after[k])]


def test_partial_fine_tuning_through_the_engine_freezes_the_prefix(monkeypatch, source):
    """Without the cached prefix every layer runs every step, so only freezing keeps the stem and the first
    stages (weights and BatchNorm statistics) as pretrained; the last stage and the head train."""
    before, after = _run_capturing(monkeypatch, source, "partial_finetune", cache_prefix=False)
    assert _moved(before, after, "body.stem.") == [] and _moved(before, after, "body.blocks.0.") == []
    assert _moved(before, after, "body.blocks.1.") == []
    assert "body.blocks.2.conv1.weight" in _moved(before, after, "body.blocks.2.")
    assert not any("running" in k for k in _moved(before, after, "body."))  # bn_mode "frozen"
    assert _moved(before, after, "head.")


def test_feature_extraction_trains_only_the_head(monkeypatch, source):
    before, after = _run_capturing(monkeypatch, source, "feature_extraction")
    assert _moved(before, after, "body.") == [] and _moved(before, after, "head.")
