"""Gradient-flow experiment: the measurements, the claim on tiny nets, the CLI contract, the plots and the page."""

import json

import pytest
import torch
import torch.nn.functional as F

from resnet_core import cli
from resnet_core.data.datasets import REPO_ROOT
from resnet_core.gradients import report
from resnet_core.gradients.config import GradientConfig
from resnet_core.gradients.plots import fmt_ratio, gradient_norms_figure, ratio_figure
from resnet_core.gradients.result import GradientResult
from resnet_core.gradients.run import (
    block_jacobian_gain,
    build_pair_model,
    gradient_batch,
    measure_gradients,
    run_gradients,
)
from resnet_core.training.numerics import fast_path


@pytest.fixture(scope="module")
def batch():
    images, labels, _ = gradient_batch("bundled", 16, seed=0)
    return images, labels


@pytest.mark.parametrize("residual", [False, True])
def test_layer_and_block_norms_match_direct_autograd(batch, residual):
    images, labels = batch
    config = GradientConfig(depths=[8])
    model = build_pair_model(config, 8, residual, seed=3)
    measured = measure_gradients(model, images, labels, jacobian_probes=0)

    # Direct computation: the same forward pass written out by hand, gradients by torch.autograd.grad.
    model.train()
    x = model.stem(images)
    block_inputs = []
    for block in model.blocks:
        block_inputs.append(x)
        x = block(x)
    loss = F.cross_entropy(model.fc(torch.flatten(model.pool(x), 1)), labels)
    weights = [model.blocks[1].conv2.weight, model.blocks[0].conv1.weight, model.blocks[-1].conv1.weight]
    grads = torch.autograd.grad(loss, weights + [block_inputs[2], block_inputs[0], block_inputs[-1]])

    names = measured["layer_names"]
    assert names[0] == "stem" and len(names) == 1 + 2 * len(model.blocks)
    assert measured["layer_grad_norms"][names.index("block1.conv2")] == pytest.approx(float(grads[0].norm()), rel=1e-4)
    assert measured["block_input_grad_norms"][2] == pytest.approx(float(grads[3].norm()), rel=1e-4)
    assert measured["first_last_ratio"] == pytest.approx(float(grads[4].norm() / grads[5].norm()), rel=1e-4)
    relative = [float(g.norm() / w.detach().norm()) for g, w in zip(grads[1:3], weights[1:3])]
    assert measured["weight_first_last_ratio"] == pytest.approx(relative[0] / relative[1], rel=1e-4)
    assert measured["loss"] == pytest.approx(float(loss.detach()), rel=1e-5)


def test_measuring_leaves_the_model_unchanged(batch):
    images, labels = batch
    model = build_pair_model(GradientConfig(), 8, True, seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    measure_gradients(model, images, labels, jacobian_probes=1, jacobian_batch=4)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("shortcut", ["A", "B"])
def test_plain_and_residual_share_initial_main_path_weights(shortcut):
    config = GradientConfig(shortcut=shortcut)
    plain, resid = build_pair_model(config, 8, False, seed=7), build_pair_model(config, 8, True, seed=7)
    ps, rs = plain.state_dict(), resid.state_dict()
    assert ps.keys() <= rs.keys()  # option B adds projection convs to the residual net
    for k in ps:
        assert ps[k].shape == rs[k].shape, k
        assert torch.equal(ps[k], rs[k]), k
    other = build_pair_model(config, 8, True, seed=8).state_dict()
    assert not torch.equal(other["blocks.0.conv1.weight"], rs["blocks.0.conv1.weight"])


def test_the_identity_path_carries_the_gradient_to_the_first_block():
    """The page's main claim on tiny nets: shared weights, no normalisation, depth 20, on each of two seeds, the
    plain net's input-gradient ratio shrinks below 1 while the residual net's is several times larger. Fails
    when a residual block ignores its shortcut (then the two nets are the same function)."""
    result = run_gradients(
        GradientConfig(depths=[20], norm="none", seeds=[0, 1], batch_size=16, jacobian_probes=0), device="cpu"
    )
    for seed in (0, 1):
        plain, resid = result.run(20, False, seed), result.run(20, True, seed)
        assert plain.first_last_ratio < 1
        assert resid.first_last_ratio > 3 * plain.first_last_ratio
    assert report.headline(result).startswith("**Seen on every seed (2 seeds):**")


def test_jacobian_gain_is_one_for_identity_and_zero_for_a_dead_plain_block(batch):
    images, _ = batch
    gen = torch.Generator().manual_seed(0)
    model = build_pair_model(GradientConfig(), 8, True, seed=0)
    x = model.stem(images[:4])
    model.blocks[0].deleted = True  # a deleted residual block is its shortcut: the identity
    assert block_jacobian_gain(model.blocks[0], x, probes=3, generator=gen) == pytest.approx(1.0, rel=1e-6)

    plain = build_pair_model(GradientConfig(norm="none"), 8, False, seed=0)
    with torch.no_grad():
        plain.blocks[0].conv1.weight.zero_()
    assert block_jacobian_gain(plain.blocks[0], plain.stem(images[:4]), probes=2, generator=gen) == 0.0


def test_run_gradients_shapes_and_round_trip():
    result = run_gradients(
        GradientConfig(depths=[8, 14], jacobian_probes=1, jacobian_batch=4, batch_size=32, seeds=[0, 1]), device="cpu"
    )
    assert [(r.seed, r.depth, r.residual) for r in result.runs][:4] == [
        (0, 8, False),
        (0, 8, True),
        (0, 14, False),
        (0, 14, True),
    ]
    assert result.seeds == [0, 1] and len(result.runs) == 8 and result.complete
    for r in result.runs:
        n_blocks = 3 * (r.depth - 2) // 6
        assert len(r.layer_grad_norms) == 1 + 2 * n_blocks
        assert len(r.block_input_grad_norms) == len(r.block_jacobian_gain) == n_blocks
        assert r.first_last_ratio == pytest.approx(r.block_input_grad_norms[0] / r.block_input_grad_norms[-1])
        assert r.weight_first_last_ratio == pytest.approx(r.layer_relative_grads[1] / r.layer_relative_grads[-2])
    assert result.run(8, True, 0).layer_grad_norms != result.run(8, True, 1).layer_grad_norms
    again = GradientResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again.to_dict() == result.to_dict()
    assert gradient_norms_figure(result).data and ratio_figure(result).data
    assert "at depth 14" in report.headline(result)


def test_gradients_after_training_steps_differ_from_init():
    base = dict(depths=[8], variants=["residual"], batch_size=32, jacobian_probes=0)
    at_init = run_gradients(GradientConfig(**base), device="cpu").runs[0]
    trained = run_gradients(GradientConfig(**base, train_steps=2), device="cpu").runs[0]
    assert trained.train_steps == 2 and at_init.train_steps == 0 and trained.seed == at_init.seed == 0
    assert trained.layer_grad_norms != at_init.layer_grad_norms


def test_cli_gradients_json_schema(tmp_path):
    out = tmp_path / "g.json"
    assert (
        cli.main(
            [
                "gradients",
                "--depths",
                "8,14",
                "--norm",
                "none",
                "--activation",
                "relu",
                "--seeds",
                "3,4",
                "--probes",
                "1",
                "--batch-size",
                "32",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    payload = json.loads(out.read_text())
    assert payload["config"]["norm"] == "none" and payload["config"]["depths"] == [8, 14]
    assert payload["config"]["seeds"] == [3, 4] and payload["provenance"]["seeds"] == [3, 4]
    assert "command" in payload["provenance"]
    assert len(payload["runs"]) == 8 and {r["seed"] for r in payload["runs"]} == {3, 4}
    for run in payload["runs"]:
        assert {
            "depth",
            "residual",
            "norm",
            "activation",
            "layer_grad_norms",
            "block_input_grad_norms",
            "first_last_ratio",
            "weight_first_last_ratio",
            "seed",
        } <= run.keys()
        assert run["norm"] == "none" and all(v is None or v >= 0 for v in run["layer_grad_norms"])


def test_cli_rejects_a_depth_that_is_not_6n_plus_2(tmp_path):
    assert cli.main(["gradients", "--depths", "9", "--json", str(tmp_path / "x.json")]) == 2


def test_fmt_ratio():
    assert fmt_ratio(1e6) == "10⁶" and fmt_ratio(36.0) == "36" and fmt_ratio(None) == "not finite"


def test_page_measures_live_with_a_small_depth():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("lab_pages/gradient_flow.py").run()
    assert not at.exception, at.exception
    at.multiselect(key="gf-depths").set_value([8])
    at.select_slider(key="gf-batch").set_value(16)
    at.select_slider(key="gf-seeds").set_value(1)
    next(b for b in at.button if b.label == "Measure").click()
    at.run()
    assert not at.exception, at.exception
    job = at.session_state["gf-gradients-job"]
    assert job.wait(60), "measurement did not finish"
    at.run()
    assert not at.exception, at.exception
    assert job.result is not None and [r.depth for r in job.result.runs] == [8, 8]
    assert at.radio(key="gf-view").value == "live"  # the live result is shown; the shipped one stays reachable
    text = " ".join(m.value for m in at.markdown)
    assert "at depth 8" in text and "Partial" not in text
    at.radio(key="gf-view").set_value("shipped").run()
    assert not at.exception, at.exception
    assert "at depth 110" in " ".join(m.value for m in at.markdown)


@pytest.mark.parametrize("depth", [8, 20])
@pytest.mark.parametrize("residual", [False, True])
def test_fast_numerics_agree_with_float32(batch, depth, residual):
    """The live default measures with the engine's fast numerics; the shipped references are float32. On small
    nets the two agree to bf16 precision (a few %), far inside the seed spread (factors of 1.2-3 on seeds 0-4)."""
    images, labels = batch
    out = {}
    for fast in (False, True):
        model = build_pair_model(GradientConfig(), depth, residual, seed=0)
        out[fast] = measure_gradients(model, images, labels, jacobian_probes=1, jacobian_batch=8, fast=fast)
    fp32, fast = out[False], out[True]
    for key in ("first_last_ratio", "weight_first_last_ratio", "loss"):
        assert fast[key] == pytest.approx(fp32[key], rel=0.12), key
    assert fast["block_input_grad_norms"] == pytest.approx(fp32["block_input_grad_norms"], rel=0.12)
    assert fast["block_jacobian_gain"] == pytest.approx(fp32["block_jacobian_gain"], rel=0.05)
    if fast_path("cpu").autocast_dtype is not None:  # bf16 here: the fast path really ran in other numerics
        assert fp32["block_input_grad_norms"] != fast["block_input_grad_norms"]


def test_cli_fp32_flag_and_the_defaults(tmp_path):
    args = ["gradients", "--depths", "8", "--batch-size", "16", "--seeds", "0", "--variants", "residual"]
    assert cli.main([*args, "--json", str(tmp_path / "fast.json")]) == 0
    assert cli.main([*args, "--fp32", "--probes", "3", "--json", str(tmp_path / "fp32.json")]) == 0
    fast = json.loads((tmp_path / "fast.json").read_text())["config"]
    fp32 = json.loads((tmp_path / "fp32.json").read_text())["config"]
    assert fast["fast"] is True and fast["jacobian_probes"] == GradientConfig().jacobian_probes == 1
    assert fp32["fast"] is False and fp32["jacobian_probes"] == 3
