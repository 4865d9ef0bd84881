"""Gradient-flow and degradation experiments: the measurements, the CLI contract, the plots and the page."""

import json

import pytest
import torch
import torch.nn.functional as F

from resnet_core import cli
from resnet_core.data import REPO_ROOT
from resnet_core.gradients import (
    DegradationConfig,
    DegradationResult,
    GradientConfig,
    GradientResult,
    block_jacobian_gain,
    build_pair_model,
    gradient_batch,
    measure_gradients,
    run_degradation,
    run_gradients,
)
from resnet_core.plots.gradients import (
    degradation_figure,
    explain_degradation,
    explain_gradients,
    fmt_ratio,
    gradient_norms_figure,
    ratio_figure,
)


@pytest.fixture(scope="module")
def batch():
    images, labels, _ = gradient_batch("bundled", 16, seed=0)
    return images, labels


@pytest.mark.parametrize("residual", [False, True])
def test_layer_and_block_norms_match_direct_autograd(batch, residual):
    images, labels = batch
    config = GradientConfig(depths=[8], seed=3)
    model = build_pair_model(config, 8, residual)
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
    grads = torch.autograd.grad(loss, weights + [block_inputs[2]])

    names = measured["layer_names"]
    assert names[0] == "stem" and len(names) == 1 + 2 * len(model.blocks)
    assert measured["layer_grad_norms"][names.index("block1.conv2")] == pytest.approx(float(grads[0].norm()), rel=1e-4)
    assert measured["block_input_grad_norms"][2] == pytest.approx(float(grads[3].norm()), rel=1e-4)
    assert measured["first_last_ratio"] == pytest.approx(float(grads[1].norm() / grads[2].norm()), rel=1e-4)
    assert measured["loss"] == pytest.approx(float(loss.detach()), rel=1e-5)


def test_measuring_leaves_the_model_unchanged(batch):
    images, labels = batch
    model = build_pair_model(GradientConfig(), 8, True)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    measure_gradients(model, images, labels, jacobian_probes=1, jacobian_batch=4)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.grad is None for p in model.parameters())


def test_plain_and_residual_share_weight_shapes_and_initial_weights():
    config = GradientConfig(seed=7)
    plain, resid = build_pair_model(config, 8, False), build_pair_model(config, 8, True)
    ps, rs = plain.state_dict(), resid.state_dict()
    assert ps.keys() == rs.keys()
    for k in ps:
        assert ps[k].shape == rs[k].shape, k
        assert torch.equal(ps[k], rs[k]), k


def test_jacobian_gain_is_one_for_identity_and_zero_for_a_dead_plain_block(batch):
    images, _ = batch
    gen = torch.Generator().manual_seed(0)
    model = build_pair_model(GradientConfig(), 8, True)
    x = model.stem(images[:4])
    model.blocks[0].deleted = True  # a deleted residual block is its shortcut: the identity
    assert block_jacobian_gain(model.blocks[0], x, probes=3, generator=gen) == pytest.approx(1.0, rel=1e-6)

    plain = build_pair_model(GradientConfig(norm="none"), 8, False)
    with torch.no_grad():
        plain.blocks[0].conv1.weight.zero_()
    assert block_jacobian_gain(plain.blocks[0], plain.stem(images[:4]), probes=2, generator=gen) == 0.0


def test_run_gradients_shapes_and_round_trip():
    result = run_gradients(GradientConfig(depths=[8, 14], jacobian_probes=1, jacobian_batch=4, batch_size=32),
                           device="cpu")  # fmt: skip
    assert [(r.depth, r.residual) for r in result.runs] == [(8, False), (8, True), (14, False), (14, True)]
    for r in result.runs:
        n_blocks = 3 * (r.depth - 2) // 6
        assert len(r.layer_grad_norms) == 1 + 2 * n_blocks
        assert len(r.block_input_grad_norms) == len(r.block_jacobian_gain) == n_blocks
        assert r.first_last_ratio == pytest.approx(r.layer_grad_norms[1] / r.layer_grad_norms[-2])
    again = GradientResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again.to_dict() == result.to_dict()
    assert gradient_norms_figure(result).data and ratio_figure(result).data
    assert "Plain-14" in explain_gradients(result)


def test_gradients_after_training_steps_differ_from_init():
    base = dict(depths=[8], variants=["residual"], batch_size=32, jacobian_probes=0)
    at_init = run_gradients(GradientConfig(**base), device="cpu").runs[0]
    trained = run_gradients(GradientConfig(**base, train_steps=2), device="cpu").runs[0]
    assert trained.train_steps == 2 and at_init.train_steps == 0
    assert trained.layer_grad_norms != at_init.layer_grad_norms


def test_cli_gradients_json_schema(tmp_path):
    out = tmp_path / "g.json"
    assert cli.main(["gradients", "--depths", "8,14", "--norm", "none", "--activation", "relu", "--seed", "0",
                     "--probes", "1", "--batch-size", "32", "--json", str(out)]) == 0  # fmt: skip
    payload = json.loads(out.read_text())
    assert payload["config"]["norm"] == "none" and payload["config"]["depths"] == [8, 14]
    assert payload["provenance"]["seed"] == 0 and "command" in payload["provenance"]
    assert len(payload["runs"]) == 4
    for run in payload["runs"]:
        assert {"depth", "residual", "norm", "activation", "layer_grad_norms", "block_input_grad_norms",
                "first_last_ratio"} <= run.keys()  # fmt: skip
        assert run["norm"] == "none" and all(v is None or v >= 0 for v in run["layer_grad_norms"])


def test_cli_degradation_json_schema(tmp_path):
    out = tmp_path / "d.json"
    rc = cli.main(["degradation", "--depths", "8,14", "--epochs", "1", "--max-steps", "2", "--train-size", "100",
                   "--test-size", "50", "--batch-size", "25", "--json", str(out)])  # fmt: skip
    assert rc == 0
    payload = json.loads(out.read_text())
    assert payload["config"]["depths"] == [8, 14] and payload["train_images"] == 100
    assert [(r["depth"], r["residual"]) for r in payload["runs"]] == [(8, False), (8, True), (14, False), (14, True)]
    for run in payload["runs"]:
        assert len(run["history"]) == 1
        row = run["history"][0]
        assert {"epoch", "train_loss", "train_err", "test_err"} <= row.keys()
        assert 0 <= row["train_err"] <= 1 and 0 <= row["test_err"] <= 1
    assert DegradationResult.from_dict(payload).to_dict()["runs"] == payload["runs"]


def test_cli_rejects_a_depth_that_is_not_6n_plus_2(tmp_path):
    assert cli.main(["gradients", "--depths", "9", "--json", str(tmp_path / "x.json")]) == 2


def test_degradation_stops_when_asked():
    result = run_degradation(DegradationConfig(depths=[8], train_size=100, test_size=50), device="cpu",
                             should_stop=lambda: True)  # fmt: skip
    assert result.status == "cancelled" and result.runs == []


def _synthetic(plain_deep_err: float) -> dict:
    def run(depth, residual, err):
        return {"depth": depth, "residual": residual, "status": "done",
                "history": [{"epoch": 1, "train_loss": 1.0, "train_err": err + 0.1, "test_err": err + 0.12},
                            {"epoch": 2, "train_loss": 0.5, "train_err": err, "test_err": err + 0.02}]}  # fmt: skip

    return {"config": {"depths": [20, 56], "epochs": 2}, "runs": [run(20, False, 0.10), run(20, True, 0.09),
            run(56, False, plain_deep_err), run(56, True, 0.08)]}  # fmt: skip


def test_degradation_text_follows_the_numbers():
    shows = explain_degradation(_synthetic(0.20))
    assert "shows on this budget" in shows and "20.0% vs 10.0%" in shows and "do not degrade" in shows
    hidden = explain_degradation(_synthetic(0.05))
    assert "does not show" in hidden and "5.0% vs 10.0%" in hidden
    assert len(degradation_figure(_synthetic(0.2)).data) == 8  # 4 runs x (train, test)


def test_fmt_ratio():
    assert fmt_ratio(1e6) == "10⁶" and fmt_ratio(36.0) == "36" and fmt_ratio(None) == "not finite"


def test_page_measures_live_with_a_small_depth():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("pages/gradient_flow.py").run()
    assert not at.exception, at.exception
    at.multiselect(key="gf-depths").set_value([8])
    at.select_slider(key="gf-batch").set_value(16)
    next(b for b in at.button if b.label == "Measure").click()
    at.run()
    assert not at.exception, at.exception
    job = at.session_state["gf-gradients-job"]
    assert job.wait(60), "measurement did not finish"
    at.run()
    assert not at.exception, at.exception
    assert job.result is not None and [r.depth for r in job.result.runs] == [8, 8]
    text = " ".join(m.value for m in at.markdown)
    assert "Plain-8" in text and "residual-8" in text


def test_page_reproduces_degradation_live_with_a_tiny_budget():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("pages/gradient_flow.py").run()
    at.multiselect(key="gf-deg-depths").set_value([8])
    at.select_slider(key="gf-deg-size").set_value(500)
    at.number_input(key="gf-deg-epochs").set_value(1)
    next(b for b in at.button if b.label == "Reproduce live").click()
    at.run()
    assert not at.exception, at.exception
    job = at.session_state["gf-degradation-job"]
    assert job.wait(90), "training did not finish"
    at.run()
    assert not at.exception, at.exception
    assert job.result.status == "done" and [r.name for r in job.result.runs] == ["plain-8", "residual-8"]
    assert all(len(r.history) == 1 for r in job.result.runs)
    assert any("At depth 8" in m.value for m in at.markdown)
