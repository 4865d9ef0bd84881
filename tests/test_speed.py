"""Issue 13: the fast paths give the plain paths' results (tiny inputs), the thread plan, and the GPU-readiness
fixes that a CPU can check (fake device strings, monkeypatched capabilities, counted allocations)."""

from __future__ import annotations

import pytest
import torch

from resnet_core.data import datasets as data_mod
from resnet_core.gradients import run as grad_mod
from resnet_core.models import build_cifar_net
from resnet_core.training import batching, devices, engine, threads
from resnet_core.training.engine import seeded

CPU = torch.device("cpu")


@pytest.fixture
def side_by_side(monkeypatch):
    """Pretend configure() ran with 2 workers (1 torch thread per op is not needed for equality)."""
    monkeypatch.setattr(threads, "_PLAN", threads.ThreadPlan(1, 2, 2, "test"))


# ------------------------------------------------------------------------------------------------ threads


def test_thread_plan_defaults_and_overrides():
    plan = threads.plan_threads({}, cpus=2)
    assert (plan.intra_op, plan.workers) == (1, 2)
    plan = threads.plan_threads({"RESNET_LAB_THREADS": "2", "RESNET_LAB_WORKERS": "1"}, cpus=2)
    assert (plan.intra_op, plan.workers) == (2, 1) and "RESNET_LAB_THREADS" in plan.why
    assert threads.plan_threads({}, cpus=16).workers == 2
    with pytest.raises(ValueError, match="RESNET_LAB_THREADS"):
        threads.plan_threads({"RESNET_LAB_THREADS": "0"}, cpus=2)


def test_configure_applies_once(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setattr(threads, "_PLAN", None)
    try:
        plan = threads.configure({"RESNET_LAB_THREADS": "1", "RESNET_LAB_WORKERS": "3"})
        assert torch.get_num_threads() == 1 and threads.workers("cpu") == 3
        assert threads.configure({"RESNET_LAB_WORKERS": "1"}) is plan  # later calls change nothing
        assert threads.workers(torch.device("cuda")) == 1  # accelerators: one run at a time
    finally:
        torch.set_num_threads(before)


def test_side_by_side_keeps_order_and_stops():
    out = list(threads.run_side_by_side(lambda x: x * x, range(6), n_workers=2, cost=[1, 9, 2, 8, 3, 7]))
    assert out == [0, 1, 4, 9, 16, 25]
    calls = []

    def fn(x):
        calls.append(x)
        return x

    assert list(threads.run_side_by_side(fn, range(5), n_workers=1, should_stop=lambda: len(calls) >= 2)) == [0, 1]
    assert list(threads.in_background(iter(range(4)))) == [0, 1, 2, 3]

    def broken():
        yield 1
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        list(threads.in_background(broken()))


# ------------------------------------------------------------------------------------------ gradients


def test_gradients_side_by_side_equal_one_by_one(side_by_side, monkeypatch):
    config = grad_mod.GradientConfig(depths=[8, 14], batch_size=16, seeds=[0], jacobian_probes=1)
    parallel = grad_mod.run_gradients(config, device=CPU)
    monkeypatch.setattr(threads, "_PLAN", None)
    serial = grad_mod.run_gradients(config, device=CPU)
    assert parallel.status == serial.status == "done"
    assert [r.name for r in parallel.runs] == [r.name for r in serial.runs]
    for a, b in zip(parallel.runs, serial.runs):
        assert a.block_input_grad_norms == pytest.approx(b.block_input_grad_norms, rel=1e-4)


def test_gradients_never_use_float64(monkeypatch):
    """MPS has no float64: the gradient measurement must not call .double() on the device."""

    def no_double(self, *a, **k):
        raise AssertionError("float64 used")

    monkeypatch.setattr(torch.Tensor, "double", no_double)
    config = grad_mod.GradientConfig(depths=[8], batch_size=8, seeds=[0], jacobian_probes=2)
    assert grad_mod.run_gradients(config, device=CPU).status == "done"


# ------------------------------------------------------------------------------------- GPU readiness


def test_normalize_builds_its_constants_once(monkeypatch):
    images = torch.randint(0, 255, (4, 1, 8, 8), dtype=torch.uint8)
    first = data_mod.normalize(images, (0.5,), (0.25,))
    made = []
    real = torch.tensor

    def counting(*a, **k):
        made.append(a)
        return real(*a, **k)

    monkeypatch.setattr(torch, "tensor", counting)
    for _ in range(3):
        again = data_mod.normalize(images, (0.5,), (0.25,))
    assert made == [] and torch.equal(first, again)
    assert torch.allclose(first, (images.float() / 255 - 0.5) / 0.25)


def test_batches_move_the_order_once_and_slice_on_the_device():
    """'meta' stands for an accelerator: every batch is a slice of the order already on the device."""
    gen = torch.Generator().manual_seed(0)
    out = list(engine.batches(10, 4, generator=gen, shuffle=True, device="meta"))
    assert len(out) == 2 and all(b.device.type == "meta" for b in out)
    cpu = list(engine.batches(10, 4, generator=torch.Generator().manual_seed(0), shuffle=True))
    assert all(b.device.type == "cpu" for b in cpu)


def test_seeded_forks_device_generators_and_reseeds_none(monkeypatch):
    forks = []
    real_fork = torch.random.fork_rng

    def recording_fork(devices=None, enabled=True, device_type=None, **kw):
        forks.append((list(devices or []), device_type))
        return real_fork(devices=[], enabled=enabled)

    def no_device_seed(seed):
        raise AssertionError("a device generator was reseeded")

    monkeypatch.setattr(torch.random, "fork_rng", recording_fork)
    monkeypatch.setattr(torch.cuda, "manual_seed_all", no_device_seed)
    monkeypatch.setattr(engine, "rng_devices", lambda: ([0, 1], "cuda"))
    a = seeded(lambda: build_cifar_net(8), 3)
    b = seeded(lambda: build_cifar_net(8), 3)
    assert forks == [([0, 1], "cuda")] * 2
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_pick_device_rejects_a_cuda_index_that_does_not_exist(monkeypatch):
    monkeypatch.setattr(devices, "available_devices", lambda: ["cuda", "cpu"])
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert devices.pick_device("cuda:0") == torch.device("cuda:0")
    assert devices.pick_device("cuda") == torch.device("cuda")
    with pytest.raises(ValueError, match=r"cuda:7 does not exist.*1 CUDA device\(s\) \(cuda:0\)"):
        devices.pick_device("cuda:7")
    monkeypatch.setattr(devices, "available_devices", lambda: ["cpu"])
    assert devices.pick_device("cuda:7") == CPU  # no CUDA at all: the documented fallback


def test_eval_batches_scale_with_image_size():
    assert batching.eval_batch_size(28) == engine.HYPERPARAMS["eval_batch_size"]
    assert batching.eval_batch_size(64, 512) == 512
    big = batching.eval_batch_size(224, 512)
    assert 16 <= big <= 64 and big & (big - 1) == 0
    assert big * 224**2 <= 512 * 64**2
