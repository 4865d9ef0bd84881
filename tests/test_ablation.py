"""Block ablation: shipped checkpoints (hash, accuracy), block deletion semantics, the experiment, CLI, page."""

import json
import math

import pytest
import torch

from resnet_core.ablation import report
from resnet_core.ablation.lesions import (
    bn_calibration_images,
    delete_one_sweep,
    path_length_distribution,
    recomputed_bn_stats,
    swappable_groups,
)
from resnet_core.ablation.run import AblationConfig, AblationResult, load_pair, run_ablation
from resnet_core.checkpoints import CHECKPOINT_DIR, load_checkpoint, read_manifest, save_checkpoint
from resnet_core.models import build_cifar_net, deleted_blocks, swapped_blocks
from resnet_core.provenance import sha256_file
from resnet_core.training.engine import evaluate, seeded

SHIPPED = ("resnet20", "plain20", "resnet56", "plain56")
# Stored weights are fp16 and the manifest's accuracy was measured on the fp32 weights before saving; rounding
# flips at most a handful of the 3,000 predictions. 0.5 percentage points = 15 images.
ACC_TOLERANCE = 0.005


def _random_bn(model: torch.nn.Module, seed: int = 0) -> None:
    """Non-trivial BatchNorm statistics and affine parameters, so every branch computes something non-zero."""
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=gen) * 0.1)


# ------------------------------------------------------------------------------------------ shipped checkpoints


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoint_hash_matches_manifest(name):
    entry = read_manifest()["checkpoints"].get(name)
    assert entry is not None, f"{name} is not in assets/checkpoints/manifest.json"
    path = CHECKPOINT_DIR / entry["file"]
    assert path.is_file(), f"{path} is missing"
    assert sha256_file(path) == entry["sha256"]
    assert path.stat().st_size == entry["bytes"]
    for key in ("command", "seed", "data", "device", "date", "git_revision", "test_acc", "bundled_test_acc"):
        assert key in entry, f"manifest entry {name} lacks {key}"


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoint_accuracy_matches_manifest(name, bundled):
    entry = read_manifest()["checkpoints"].get(name)
    assert entry is not None, f"{name} is not in the manifest"
    model, meta = load_checkpoint(CHECKPOINT_DIR / entry["file"])
    assert model.config.name == name
    acc = evaluate(model, bundled.test, device=torch.device("cpu"))["acc"]  # all 3,000 bundled test images
    assert abs(acc - entry["bundled_test_acc"]) <= ACC_TOLERANCE, (acc, entry["bundled_test_acc"])
    assert acc > 0.5  # a trained net, far above the 10% of chance


def test_total_shipped_size_is_small():
    total = sum(p.stat().st_size for p in CHECKPOINT_DIR.glob("*.pt"))
    assert total < 15e6


# ------------------------------------------------------------------------------------------------ deletion


def test_deleted_residual_block_is_identity():
    model = seeded(lambda: build_cifar_net(14), 0).eval()
    _random_bn(model)
    i = 1  # stage 0, second block: keeps the shape
    assert not model.blocks[i].downsample
    seen = {}
    hook = model.blocks[i].register_forward_hook(lambda m, inp, out: seen.update(x=inp[0], y=out))
    x = torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        full = model(x)
        assert not torch.allclose(seen["y"], seen["x"])  # intact, the block really computes something
        with deleted_blocks(model, [i]):
            cut = model(x)
            assert torch.equal(seen["y"], seen["x"])  # deleted: output == input
    hook.remove()
    assert not torch.allclose(full, cut)  # ...and the network's output changes
    with torch.no_grad():
        assert torch.equal(model(x), full)  # restored on exit


def test_deleted_downsampling_residual_block_keeps_its_shortcut():
    model = seeded(lambda: build_cifar_net(14), 0).eval()
    _random_bn(model)
    i = 2  # first block of stage 1: stride 2, 16 -> 32 channels
    assert model.blocks[i].downsample and model.blocks[i].removable
    x = torch.randn(2, 16, 28, 28)
    with torch.no_grad(), deleted_blocks(model, [i]):
        y = model.blocks[i](x)
    assert torch.equal(y, model.blocks[i].shortcut(x))
    assert y.shape == (2, 32, 14, 14)


def test_plain_downsampling_blocks_are_not_removable():
    plain = build_cifar_net(14, residual=False)
    flags = [(r["downsample"], r["removable"]) for r in plain.block_info()]
    assert [r for d, r in flags] == [not d for d, r in flags]
    with pytest.raises(ValueError):
        with deleted_blocks(plain, [2]):
            pass


def test_swapping_blocks_changes_the_output_and_is_restored():
    model = seeded(lambda: build_cifar_net(14), 0).eval()
    _random_bn(model)
    assert swappable_groups(model) == [[0, 1]]
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        full = model(x)
        with swapped_blocks(model, [(0, 1)]):
            swapped = model(x)
        assert torch.equal(model(x), full)
    assert not torch.allclose(full, swapped)


@pytest.mark.parametrize("residual,fast", [(True, False), (False, False), (True, True)])
def test_incremental_delete_one_sweep_matches_plain_evaluation(residual, fast, bundled):
    """The cached sweep gives what evaluate gives with the same numerics (fp32 by default, as the manifest)."""
    model = seeded(lambda: build_cifar_net(14, residual=residual), 1).eval()
    _random_bn(model, seed=1)
    test = bundled.test.subset(list(range(0, 3000, 100)))  # 30 images
    rows = list(delete_one_sweep(model, test, device=torch.device("cpu"), batch_size=16, fast=fast))
    assert [i for i, _ in rows] == list(range(6))
    for i, out in rows:
        if not model.blocks[i].removable:
            assert out is None
            continue
        with deleted_blocks(model, [i]):
            ref = evaluate(model, test, device=torch.device("cpu"), fast=fast)
        assert out["acc"] == ref["acc"] and out["loss"] == pytest.approx(ref["loss"], rel=1e-4)
    assert not any(b.deleted for b in model.blocks)
    assert torch.is_grad_enabled()


def test_path_length_distribution():
    d = path_length_distribution(27)
    assert sum(d["counts"]) == 2**27 == d["n_paths"]
    assert math.isclose(sum(d["fractions"]), 1.0)
    lo, hi = d["central95"]
    assert lo < 13.5 < hi and d["central95_mass"] >= 0.95


# ---------------------------------------------------------------------------------------------- experiment


@pytest.fixture(scope="module")
def tiny_pair(tmp_path_factory):
    """Untrained depth-14 residual and plain checkpoints (random weights are enough to test the mechanics)."""
    folder = tmp_path_factory.mktemp("ckpt")
    paths = {}
    for kind in ("residual", "plain"):
        model = seeded(lambda kind=kind: build_cifar_net(14, residual=kind == "residual"), 0)
        _random_bn(model)
        paths[kind] = save_checkpoint(model, folder / f"{kind}14.pt")
    return paths


def test_run_ablation_flags_plain_blocks_and_round_trips(tiny_pair):
    config = AblationConfig(
        residual_checkpoint=str(tiny_pair["residual"]),
        plain_checkpoint=str(tiny_pair["plain"]),
        test_size=20,
        trials=2,
        ks=[1, 4],
        swaps=[1],
    )
    partials = []
    result = run_ablation(config, device="cpu", on_partial=partials.append)
    assert result.status == "done" and result.config["depth"] == 14 and result.test_size == 20
    res, plain = result.models["residual"], result.models["plain"]
    assert [r["block"] for r in res.delete_one] == list(range(6))
    assert all(r["acc"] is not None for r in res.delete_one)  # every residual block can become its shortcut
    assert [r["block"] for r in plain.delete_one if r["acc"] is None] == [2, 4]  # the downsampling ones
    assert all(r["removable"] == (r["acc"] is not None) for r in plain.delete_one)
    assert [r["k"] for r in res.delete_k] == [1, 4]
    assert res.delete_k[1]["trials"] == 1  # k = 4 of 4 shape-keeping blocks: one distinct subset
    assert res.chance_acc == pytest.approx(0.1)
    assert len(res.reorder) == 1 and res.reorder[0]["trials"] == 2
    assert len(partials) > 5 and partials[-1].to_dict() == result.to_dict()
    blob = json.loads(json.dumps(result.to_dict()))
    assert blob["models"]["plain"]["delete_one"][2]["acc"] is None  # null in JSON
    assert AblationResult.from_dict(blob).to_dict() == result.to_dict()


def test_run_ablation_stops_early(tiny_pair):
    config = AblationConfig(
        residual_checkpoint=str(tiny_pair["residual"]), plain_checkpoint=str(tiny_pair["plain"]), test_size=20, trials=1
    )
    events = []
    result = run_ablation(config, device="cpu", on_progress=events.append, should_stop=lambda: len(events) >= 3)
    assert result.status == "cancelled"
    assert result.evaluations == 3 and events[-1].total_steps > 3


def test_cli_json_schema(tiny_pair, tmp_path):
    from resnet_core.cli import main

    out = tmp_path / "ablation.json"
    rc = main(
        [
            "ablation",
            "--residual",
            str(tiny_pair["residual"]),
            "--plain",
            str(tiny_pair["plain"]),
            "--test-size",
            "20",
            "--trials",
            "1",
            "--ks",
            "1,2",
            "--swaps",
            "1",
            "--device",
            "cpu",
            "--json",
            str(out),
        ]
    )
    assert rc == 0
    blob = json.loads(out.read_text())
    assert set(blob) >= {"config", "models"}
    assert blob["config"]["trials"] == 1 and blob["config"]["test_size"] == 20
    assert set(blob["models"]) == {"residual", "plain"}
    for _kind, m in blob["models"].items():
        assert set(m) >= {"baseline_acc", "chance_acc", "delete_one", "delete_k"}
        assert 0 <= m["baseline_acc"] <= 1 and m["chance_acc"] == pytest.approx(0.1)
        for row in m["delete_one"]:
            assert set(row) >= {"block", "downsample", "acc"}
            assert row["acc"] is None or 0 <= row["acc"] <= 1
        for row in m["delete_k"]:
            assert set(row) >= {"k", "mean_acc", "std_acc"}
    assert any(r["acc"] is None for r in blob["models"]["plain"]["delete_one"])
    assert all(r["acc"] is not None for r in blob["models"]["residual"]["delete_one"])


def test_cli_defaults_to_shipped_checkpoints(tmp_path):
    from resnet_core.cli import main

    out = tmp_path / "ablation20.json"
    rc = main(
        [
            "ablation",
            "--depth",
            "20",
            "--test-size",
            "50",
            "--trials",
            "1",
            "--ks",
            "1,3",
            "--no-reorder",
            "--device",
            "cpu",
            "--json",
            str(out),
        ]
    )
    assert rc == 0
    blob = json.loads(out.read_text())
    for kind, name in (("residual", "resnet20"), ("plain", "plain20")):
        m = blob["models"][kind]
        assert m["name"] == name and m["manifest"]["sha256_matches"]
        assert len(m["delete_one"]) == 9
    assert [r["acc"] is None for r in blob["models"]["plain"]["delete_one"]] == [
        False,
        False,
        False,
        True,
        False,
        False,
        True,
        False,
        False,
    ]


# ------------------------------------------------------------------------------------------------------ page


@pytest.mark.slow
def test_block_ablation_page_runs_a_small_sweep():
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("lab_pages/block_ablation.py")
    at.run(timeout=120)
    assert not at.exception
    at.selectbox(key="ablation-depth").set_value(20)
    at.select_slider(key="ablation-test-size").set_value(100)
    at.radio(key="ablation-mode").set_value("quick")
    at.radio(key="ablation-bn").set_value("recompute")
    at.run(timeout=120)
    at.button(key="ablation-run").click()
    at.run(timeout=120)
    assert not at.exception
    job = at.session_state["ablation-sweep"]
    assert job.wait(timeout=120), "the sweep did not finish"
    at.run(timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    assert job.state.value == "done", job.error
    result = job.result
    assert result.test_size == 100 and set(result.models) == {"residual", "plain"}
    assert len(result.models["residual"].delete_one) == 9 and result.bn_stats == "recompute"
    assert not any(m.delete_k for m in result.models.values())  # the quick sweep deletes one block at a time only
    assert any("100 bundled test images" in c.value for c in at.caption)
    assert any("barely changes" in m.value or "Not seen here" in m.value for m in at.markdown)


# ------------------------------------------------------------------------------------- BatchNorm statistics


def test_recomputed_bn_stats_are_restored_and_explain_the_block0_collapse(bundled):
    """Deleting ResNet-20's block 0 with the trained BatchNorm statistics breaks the net; re-estimating them on
    training images for the lesioned net recovers most of it. Fails if the re-estimate is a no-op, or if the
    trained statistics are not restored afterwards."""
    config = AblationConfig(depth=20)
    model = load_pair(config, torch.device("cpu"))["residual"][0]
    test = bundled.test.subset(list(range(0, 3000, 10)))  # 300 images, every class
    before = {k: v.clone() for k, v in model.state_dict().items()}
    intact = evaluate(model, test, device=torch.device("cpu"))["acc"]
    images = bn_calibration_images("bundled", 500)
    with deleted_blocks(model, [0]):
        raw = evaluate(model, test, device=torch.device("cpu"))["acc"]
        with recomputed_bn_stats(model, images):
            recomputed = evaluate(model, test, device=torch.device("cpu"))["acc"]
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert recomputed > raw + 0.2 and recomputed > intact - 0.15


def test_run_ablation_recompute_mode_records_it(tiny_pair):
    config = AblationConfig(
        residual_checkpoint=str(tiny_pair["residual"]),
        plain_checkpoint=str(tiny_pair["plain"]),
        test_size=20,
        delete_k=False,
        reorder=False,
        bn_stats="recompute",
        bn_images=40,
    )
    result = run_ablation(config, device="cpu")
    blob = result.to_dict()
    assert blob["bn_stats"] == "recompute" and result.complete
    assert len(result.models["residual"].delete_one) == 6
    with pytest.raises(ValueError, match="bn_stats"):
        run_ablation(AblationConfig(bn_stats="stale"), device="cpu")


def _constructed(resid_accs: list[float], plain_accs: list[float], *, status: str = "done") -> AblationResult:
    def model(kind, base, accs):
        rows = [
            {"block": i, "stage": 0, "downsample": False, "removable": True, "acc": a, "loss": 1.0}
            for i, a in enumerate(accs)
        ]
        return {
            "kind": kind,
            "name": f"{kind}56",
            "source": "",
            "depth": 56,
            "baseline_acc": base,
            "baseline_loss": 0.3,
            "chance_acc": 0.1,
            "blocks": [],
            "delete_one": rows,
        }

    return AblationResult.from_dict(
        {
            "config": {"bn_stats": "recompute"},
            "status": status,
            "test_size": 3000,
            "test_data": "bundled test",
            "paths": {},
            "evaluations": 10,
            "models": {"residual": model("residual", 0.90, resid_accs), "plain": model("plain", 0.81, plain_accs)},
        }
    )


def test_ablation_verdicts_follow_the_numbers():
    good = report.headline(_constructed([0.88, 0.89, 0.895, 0.87], [0.3, 0.5, 0.2, 0.45]))
    assert (
        good.startswith("**Deleting one block barely changes residual56:**") and "Every single deletion breaks" in good
    )
    bad = report.headline(_constructed([0.7, 0.6, 0.8, 0.75], [0.3, 0.7, 0.2, 0.45]))
    assert bad.startswith("**Not seen here:**") and "Every single deletion breaks" not in bad
    collapsed = report.headline(_constructed([0.10, 0.89, 0.895, 0.89], [0.3]))
    assert "Block 0 is the exception" in collapsed


def test_no_median_or_verdict_from_a_partial_ablation():
    partial = _constructed([0.5, 0.89], [0.3], status="running")
    assert report.headline(partial).startswith("**Partial result**")
    assert all(r["median single deletion (%)"] is None for r in report.summary_rows(partial))
