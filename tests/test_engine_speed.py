"""The engine's fast paths change its speed, not its results; and `bench` runs end to end with the promised JSON."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from resnet_core.data.datasets import load_dataset
from resnet_core.models import build_cifar_net
from resnet_core.training import engine, frozen, numerics

CPU = torch.device("cpu")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # On a CPU shared with other busy processes one torch thread is far faster than two (docs/PERFORMANCE.md);
    # results do not depend on it.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny():
    splits = load_dataset("bundled")
    return splits.train.subset(torch.arange(96)), splits.test.subset(torch.arange(64))


def step_losses(data, *, fast: bool, steps: int = 5, seed: int = 0, **cfg) -> tuple[list[float], engine.TrainResult]:
    model = engine.seeded(lambda: build_cifar_net(8), seed)
    losses: list[float] = []
    config = engine.TrainConfig(
        epochs=10, batch_size=32, max_steps=steps, log_every=1, fast=fast, seed=seed, eval_every_epoch=False, **cfg
    )
    result = engine.train(
        model, data, config, device=CPU, on_progress=lambda e: losses.append(e.loss) if e.kind == "step" else None
    )
    assert result.status == "done" and result.steps == steps
    return losses, result


def test_channels_last_fp32_matches_plain_path(tiny, monkeypatch):
    monkeypatch.setattr(numerics, "cpu_has_native_bf16", lambda: False)
    assert engine.fast_path(CPU) == engine.FastPath(channels_last=True, autocast_dtype=None)
    fast, res = step_losses(tiny[0], fast=True)
    plain, ref = step_losses(tiny[0], fast=False)
    assert res.numerics == "fp32 + channels-last" and ref.numerics == "fp32"
    assert fast[0] == pytest.approx(plain[0], abs=1e-5)  # same weights, same batch: same loss before any update
    assert fast == pytest.approx(plain, abs=1e-2)  # rounding differences grow a little with every update


def test_bf16_autocast_stays_close_to_fp32(tiny, monkeypatch):
    monkeypatch.setattr(numerics, "cpu_has_native_bf16", lambda: True)  # bf16 is emulated where not native
    assert engine.fast_path(CPU).autocast_dtype == torch.bfloat16
    fast, res = step_losses(tiny[0], fast=True)
    plain, _ = step_losses(tiny[0], fast=False)
    assert "bf16" in res.numerics
    assert fast == pytest.approx(plain, abs=0.05)
    # Different seeds give clearly different losses, so the tolerance above can fail.
    other, _ = step_losses(tiny[0], fast=False, seed=1)
    assert max(abs(a - b) for a, b in zip(other, plain)) > 0.05


def test_fast_false_is_plain_fp32_everywhere():
    for dev in ("cpu", "cuda", "mps"):
        assert engine.fast_path(dev, False) == engine.FastPath()


def test_cuda_fast_path_picks_bf16_only_where_native(monkeypatch):
    """Compute capability >= 8.0 (A100, H100): bf16 autocast, no scaler. Below (T4 7.5, V100 7.0): fp16 autocast
    with a GradScaler, since bf16 errors or is emulated there. Checked with a faked capability (no GPU here)."""
    monkeypatch.setattr(numerics, "cuda_capability", lambda device: (9, 0))
    fp = engine.fast_path("cuda")
    assert fp == engine.FastPath(True, torch.bfloat16) and not fp.needs_scaler
    assert numerics.use_fast_path(torch.device("cuda"))
    for cap in ((7, 5), (7, 0), None):
        monkeypatch.setattr(numerics, "cuda_capability", lambda device, cap=cap: cap)
        fp = engine.fast_path("cuda:0")
        assert fp.autocast_dtype == torch.float16 and fp.needs_scaler and "GradScaler" in fp.describe()
    assert numerics.StepScaler(engine.fast_path("cpu"), CPU).scaler is None


def test_step_scaler_scales_fp16_losses_and_steps(monkeypatch):
    """The scaler path (fp16 on older GPUs) still trains: run it on the CPU with a fake fp16 fast path."""
    model = nn.Linear(4, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    fp16 = engine.FastPath(False, torch.float16)
    scaler = numerics.StepScaler(fp16, CPU)
    assert scaler.scaler is not None
    before = model.weight.detach().clone()
    loss = model(torch.randn(8, 4)).pow(2).mean()
    scaler.backward(loss)
    scaler.step(opt)
    assert not torch.equal(before, model.weight)


def test_failed_compile_falls_back_to_eager(tiny, monkeypatch):
    monkeypatch.setattr(numerics, "cpu_has_native_bf16", lambda: False)

    class Broken(nn.Module):
        def forward(self, x):
            raise RuntimeError("compiler not available")

    monkeypatch.setattr(engine, "maybe_compile", lambda model, enabled, mode=None: Broken() if enabled else model)
    eager, _ = step_losses(tiny[0], fast=True)
    compiled, res = step_losses(tiny[0], fast=True, compile=True)
    assert res.status == "done" and "compile" not in res.numerics
    assert compiled == pytest.approx(eager, rel=1e-6)


def test_cached_features_train_the_same_head_as_recomputing(tiny):
    data = tiny[0]
    backbone = engine.seeded(lambda: build_cifar_net(8), 0)
    for p in backbone.parameters():
        p.requires_grad_(False)
    config = engine.TrainConfig(epochs=3, batch_size=32, augment=False, fast=False, seed=0, lr=0.05)
    backbone.fc = engine.seeded(lambda: nn.Linear(64, 10), 3)
    recomputed = engine.train(
        backbone,
        data,
        config,
        device=CPU,
        param_groups=[{"params": backbone.fc.parameters()}],
        set_train_mode=lambda m: m.eval(),
    )
    feats = frozen.extract_features(backbone, data, device=CPU, fast=False)
    assert feats.shape == (len(data), 64) and feats.dtype == torch.float32
    head = engine.seeded(lambda: nn.Linear(64, 10), 3)
    cached = frozen.train_head(head, feats, data.labels, config, device=CPU, val=(feats, data.labels))
    assert cached.status == "done" and len(cached.history) == 3 and "val_acc" in cached.history[-1]
    got = [h["train_loss"] for h in cached.history]
    want = [h["train_loss"] for h in recomputed.history]
    assert got == pytest.approx(want, rel=1e-4)
    assert torch.allclose(head.weight, backbone.fc.weight, atol=1e-4)


def test_bench_cli_end_to_end(tmp_path, monkeypatch):
    from resnet_core.bench import pages as bench_pages
    from resnet_core.bench.result import BenchResult
    from resnet_core.bench.run import TUTORIAL_NUMERICS
    from resnet_core.cli import main

    # The page-default rows run the pages' real defaults (tens of seconds): a stand-in checks their wiring here.
    monkeypatch.setattr(bench_pages, "PAGE_ROWS", {"page default: stand-in": lambda device: (0.01, 64)})
    out = tmp_path / "bench.json"
    code = main(
        [
            "bench",
            "--device",
            "cpu",
            "--model",
            "resnet8",
            "--steps",
            "3",
            "--warmup",
            "1",
            "--batch-size",
            "16",
            "--feature-images",
            "48",
            "--head-epochs",
            "2",
            "--repeats",
            "2",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    d = json.loads(out.read_text())
    assert {"device", "rows", "speedup_vs_tutorial", "feature_cache_speedup"} <= set(d)  # the old keys stay
    assert d["device"] == "cpu"
    assert len(d["rows"]) == 6
    tut = next(r for r in d["rows"] if r["name"] == TUTORIAL_NUMERICS)
    assert tut["numerics"] == engine.fast_path(CPU).describe()  # the same numerics as the engine row
    assert d["speedup_vs_tutorial_numerics"] > 0 and len(d["speedup_all"]) == 2
    (page,) = d["page_rows"]
    assert page["name"] == "page default: stand-in" and len(page["wall_s_all"]) == 2 and page["img_per_s"] > 0
    for row in d["rows"]:
        assert {"name", "img_per_s", "peak_mem_mb"} <= set(row)
        assert row["img_per_s"] > 0 and row["peak_mem_mb"] > 0
    assert d["speedup_vs_tutorial"] > 0 and d["feature_cache_speedup"] > 0
    from resnet_core.provenance import command_line

    assert d["provenance"]["command"] == command_line() and d["provenance"]["git_revision"]
    assert BenchResult.from_dict(d).to_dict() == d


def test_peak_memory_on_mps_reads_the_metal_allocator(monkeypatch):
    """On MPS the bench reports MPS memory, not the process RSS (faked here: no Mac)."""
    from resnet_core.bench.tutorial import PeakMemory

    monkeypatch.setattr(torch.mps, "current_allocated_memory", lambda: 123 * 2**20)
    monkeypatch.setattr(torch.mps, "synchronize", lambda: None)
    monkeypatch.setattr(PeakMemory, "rss", staticmethod(lambda: 10**12))
    with PeakMemory(torch.device("mps")) as mem:
        pass
    assert mem.mb == 123
