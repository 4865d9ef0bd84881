"""The cost model behind "≈ N s on this server": counted work, this server's calibration, refinement by runs seen."""

import pytest

from resnet_core.ablation.config import AblationConfig
from resnet_core.degradation.config import DegradationConfig
from resnet_core.gradients.config import GradientConfig
from resnet_core.serving import estimates as E
from resnet_core.serving import workloads as W
from resnet_core.transfer.config import TransferConfig

FAKE = E.Calibration(train_s_per_mac=1e-9, eval_s_per_mac=5e-10, net_s=0.01, seconds=0.0)


@pytest.fixture
def calibrated(monkeypatch):
    """A fixed calibration and no probes: the arithmetic, not this machine's speed, is under test."""
    monkeypatch.setitem(E._calibrations, "cpu", FAKE)
    monkeypatch.setattr(E, "_probes", {})
    E.forget_observations()
    yield
    E.forget_observations()


def test_macs_are_counted_on_the_real_module_and_grow_with_depth():
    m20, m56 = E.forward_macs(20), E.forward_macs(56)
    # ResNet-20 on 28x28: 16-channel stem, 3 stages of 16/32/64 channels; about 3.4e7 MACs
    assert 2e7 < m20 < 6e7
    assert 2.5 < m56 / m20 < 3.2  # (56 - 2) / (20 - 2) = 3 blocks-worth, plus the same stem and head


def test_estimate_is_work_times_this_servers_rates(calibrated):
    work = E.Work("train", train_macs=1e9, eval_macs=2e9, nets=3)
    est = E.estimate(work, "cpu")
    assert est.seconds == pytest.approx(1.0 + 1.0 + 0.03)
    assert est.factor == 1.0 and est.runs_seen == 0
    assert "no run of this kind seen yet" in est.text()


def test_runs_seen_refine_later_estimates_of_their_kind_only(calibrated):
    work = E.Work("train", train_macs=1e9)
    first = E.estimate(work, "cpu")
    E.observe(first, 3 * first.seconds)
    E.observe(first, 2 * first.seconds)
    E.observe(first, 4 * first.seconds)
    again = E.estimate(work, "cpu")
    assert again.factor == pytest.approx(3.0)  # the median of the ratios
    assert again.total == pytest.approx(3 * first.seconds)
    assert "3 runs seen here" in again.text()
    assert E.estimate(E.Work("ablation", eval_macs=1e9), "cpu").factor == 1.0


def test_a_probe_counts_as_the_first_run_seen(calibrated, monkeypatch):
    calls = []

    def probe(device):
        calls.append(device)
        return E.Work("gradients", train_macs=1e9, nets=0), 2.0  # predicted 1 s, took 2 s

    monkeypatch.setattr(E, "_probes", {"gradients": probe})
    est = E.estimate(E.Work("gradients", train_macs=5e9, nets=0), "cpu")
    assert est.factor == pytest.approx(2.0) and est.total == pytest.approx(10.0)
    E.estimate(E.Work("gradients", train_macs=5e9), "cpu")
    assert len(calls) == 1  # timed once per process and device


def test_ready_estimate_never_blocks_the_page(monkeypatch):
    monkeypatch.setattr(E, "_probes", {})
    monkeypatch.delitem(E._calibrations, "cpu:9", raising=False)
    started = []
    monkeypatch.setattr(E, "_time_calibration", lambda device: started.append(device) or FAKE)
    work = E.Work("train", train_macs=1e9)
    first = E.ready_estimate(work, "cpu:9")
    E._background[("train", "cpu:9")].join(5)
    assert first is None and started  # the page showed "timing this server…" and the timing ran behind it
    assert E.ready_estimate(work, "cpu:9") is not None
    E._calibrations.pop("cpu:9", None)


def test_workloads_follow_the_configuration():
    quick = W.ablation(AblationConfig(depth=20, delete_k=False, reorder=False), test_images=300)
    full = W.ablation(AblationConfig(depth=20, trials=10), test_images=300)
    recompute = W.ablation(
        AblationConfig(depth=20, delete_k=False, reorder=False, bn_stats="recompute"), test_images=300
    )
    assert full.eval_macs > 5 * quick.eval_macs
    assert recompute.eval_macs > quick.eval_macs
    g1 = W.gradients(GradientConfig(depths=[8, 20], variants=["plain", "residual"], seeds=[0]))
    g3 = W.gradients(GradientConfig(depths=[8, 20], variants=["plain", "residual"], seeds=[0, 1, 2]))
    assert g3.train_macs == pytest.approx(3 * g1.train_macs) and g3.nets == 3 * g1.nets
    d = W.degradation(DegradationConfig(depths=[20, 56], epochs=2), train_images=1000, test_images=300)
    d4 = W.degradation(DegradationConfig(depths=[20, 56], epochs=4), train_images=1000, test_images=300)
    assert d4.train_macs == pytest.approx(2 * d.train_macs)
    t = W.transfer(TransferConfig(epochs=12), classes=4, val_images=200, test_images=1200)
    t_fe = W.transfer(
        TransferConfig(epochs=12, strategies=["feature_extraction"]), classes=4, val_images=200, test_images=1200
    )
    assert t_fe.train_macs == 0 and t.train_macs > 0


def test_durations_read_as_a_teacher_would_say_them():
    assert E.duration_text(0.2) == "1 s"
    assert E.duration_text(42.4) == "42 s"
    assert E.duration_text(125) == "2 min 5 s"
    assert E.duration_text(7260) == "2 h 1 min"


def test_runs_side_by_side_share_the_time(calibrated, monkeypatch):
    monkeypatch.setattr(E, "workers", lambda device: 2 if str(device) == "cpu" else 1)
    one = E.estimate(E.Work("transfer", train_macs=4e9, nets=0), "cpu")
    two = E.estimate(E.Work("transfer", train_macs=4e9, nets=0, runs=2), "cpu")
    assert two.seconds == pytest.approx(one.seconds / 2)


def test_a_calibration_is_kept_on_disk_and_reused_after_a_restart(monkeypatch, tmp_path):
    monkeypatch.setenv("RESNET_LAB_RESULTS_DIR", str(tmp_path))
    monkeypatch.delitem(E._calibrations, "cpu:7", raising=False)
    timed = []
    monkeypatch.setattr(E, "_time_calibration", lambda device: timed.append(device) or FAKE)
    assert E.calibrate("cpu:7") == FAKE and len(timed) == 1
    assert (tmp_path / "calibration.json").is_file()
    E._calibrations.pop("cpu:7")  # a new server process
    assert E.calibrate("cpu:7") == FAKE and len(timed) == 1  # read back, not timed again
    monkeypatch.setattr(E, "machine_fingerprint", lambda device: "another machine")
    E._calibrations.pop("cpu:7")
    assert E.calibrate("cpu:7") == FAKE and len(timed) == 2  # another machine (or torch, or threads): timed anew
    E._calibrations.pop("cpu:7")
