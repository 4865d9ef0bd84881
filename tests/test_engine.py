import math

import pytest
import torch

from resnet_core.models import build_cifar_net
from resnet_core.training.engine import TrainConfig, evaluate, lr_factor, seeded, train


def small_net(seed=0):
    return seeded(lambda: build_cifar_net(8), seed)


def test_seeded_builds_identical_weights():
    a, b = small_net(5), small_net(5)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    c = small_net(6)
    assert not torch.equal(a.fc.weight, c.fc.weight)


def test_training_lowers_the_loss_on_real_images(tiny_train, cpu):
    model = small_net()
    before = evaluate(model, tiny_train, device=cpu)["loss"]
    config = TrainConfig(epochs=6, batch_size=32, lr=0.05, log_every=5, augment=False)
    result = train(model, tiny_train, config, device=cpu)
    after = evaluate(model, tiny_train, device=cpu)["loss"]
    assert result.status == "done" and result.steps == 6 * (200 // 32)
    assert len(result.history) == 6
    assert after < 0.8 * before


def test_same_seed_same_run(tiny_train, cpu):
    config = TrainConfig(epochs=1, batch_size=50, lr=0.05, max_steps=3)
    losses = []
    for _ in range(2):
        model = small_net()
        train(model, tiny_train, config, device=cpu)
        losses.append(evaluate(model, tiny_train, device=cpu)["loss"])
    assert losses[0] == losses[1]


def test_progress_events_report_steps_and_epochs(tiny_train, cpu):
    events = []
    config = TrainConfig(epochs=2, batch_size=50, log_every=2)
    model = small_net()
    train(model, tiny_train, config, device=cpu, test_set=tiny_train, on_progress=events.append)
    steps = [e for e in events if e.kind == "step"]
    epochs = [e for e in events if e.kind == "epoch"]
    assert [e.step for e in steps] == [2, 4, 6, 8]
    assert [e.epoch for e in epochs] == [1.0, 2.0]
    final = evaluate(model, tiny_train, device=cpu, fast=config.fast)
    assert epochs[-1].metrics["test_acc"] == pytest.approx(final["acc"])  # the epoch row is the real evaluation
    assert all(math.isfinite(e.loss) for e in events)


def test_cancellation_stops_within_one_step(tiny_train, cpu):
    calls = {"n": 0}

    def should_stop():
        calls["n"] += 1
        return calls["n"] > 3  # allow 3 steps, then ask to stop

    config = TrainConfig(epochs=50, batch_size=20, log_every=1000)
    result = train(small_net(), tiny_train, config, device=cpu, should_stop=should_stop)
    assert result.status == "cancelled"
    assert result.steps == 3


def test_divergent_run_ends_as_diverged_with_step(tiny_train, cpu):
    config = TrainConfig(epochs=5, batch_size=20, lr=1e6, log_every=7, augment=False)
    result = train(small_net(), tiny_train, config, device=cpu)
    assert result.status == "diverged"
    assert result.diverged_at_step is not None and 0 <= result.diverged_at_step < result.steps
    assert f"step {result.diverged_at_step}" in result.message


def test_lr_schedules():
    assert lr_factor("constant", 50, 100, 0.1) == 1.0
    assert lr_factor("step", 60, 100, 0) == 0.1
    assert lr_factor("onecycle", 0, 100, 0.1) < lr_factor("onecycle", 9, 100, 0.1) <= 1.0
    assert lr_factor("onecycle", 99, 100, 0.1) < 0.05
    assert abs(lr_factor("cosine", 50, 100, 0.0) - 0.5) < 1e-9


def test_evaluate_returns_predictions(tiny_train, cpu):
    out = evaluate(small_net(), tiny_train, device=cpu, return_predictions=True, batch_size=64)
    assert out["predictions"].shape == (200,)
    assert out["acc"] == pytest.approx((out["predictions"] == tiny_train.labels).float().mean().item())
