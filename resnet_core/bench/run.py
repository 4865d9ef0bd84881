"""``python -m resnet_core bench``: the project's engine against a tutorial-style loop, side by side, in one run.

(a) tutorial: a per-sample ``torch.utils.data.Dataset`` over the same uint8 images with torchvision transforms
    (RandomCrop(28, padding=2), RandomHorizontalFlip, ToTensor, Normalize), a ``DataLoader``, fp32, and
    ``loss.item()`` every step;
(b) the engine: ``resnet_core.training.engine.train`` with ``max_steps`` (data on the device, batched on-device
    augmentation, the device's fast path), once with ``fast=False`` (plain fp32) and once with the default;
(c) a frozen backbone: a new head trained for E epochs by recomputing the backbone every step (the engine with
    the backbone frozen) against features computed once and cached (``extract_features`` + ``train_head``).

Same model, same images, same batch size and number of steps. Images/s are steady state: the first ``warmup``
steps are excluded (timed from the engine's progress events, which read the device, so the clock is honest on
CUDA too). ``repeats`` runs every row again in turn; the reported number is the median, the spread is kept.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from resnet_core.bench.config import BenchConfig
from resnet_core.bench.result import BenchResult
from resnet_core.bench.tutorial import PeakMemory, steady_rate, tutorial_row
from resnet_core.data.datasets import ImageSet, load_dataset
from resnet_core.models import build_cifar_net
from resnet_core.training import engine, frozen, numerics
from resnet_core.training.devices import describe_device, synchronize

TUTORIAL = "tutorial (Dataset + DataLoader, fp32)"
TUTORIAL_NUMERICS = "tutorial + engine numerics"
ENGINE_FP32 = "engine, fast=False (fp32)"
ENGINE_FAST = "engine (default fast path)"
ENGINE_COMPILE = "engine + torch.compile"
HEAD_RECOMPUTE = "head: recompute frozen backbone"
HEAD_CACHED = "head: cached features"


# ------------------------------------------------------------------------------------------------ helpers


def parse_model(spec: str) -> Callable[..., nn.Module]:
    spec = spec.lower()
    for prefix, residual in (("resnet", True), ("plain", False)):
        if spec.startswith(prefix) and spec[len(prefix) :].isdigit():
            depth = int(spec[len(prefix) :])
            return lambda in_channels, num_classes: build_cifar_net(
                depth, residual=residual, in_channels=in_channels, num_classes=num_classes
            )
    raise ValueError(f"unknown model {spec!r}: use resnetD or plainD with D = 6n+2 (e.g. resnet20)")


# ---------------------------------------------------------------------------------------------- the rows


def engine_row(
    build, data: ImageSet, cfg: BenchConfig, device: torch.device, seed: int, *, fast: bool, compile: bool = False
) -> dict:
    model = engine.seeded(lambda: build(data.channels, data.num_classes), seed)
    steps_per_epoch = max(1, len(data) // cfg.batch_size)
    config = engine.TrainConfig(
        epochs=math.ceil(cfg.steps / steps_per_epoch) + 1,
        batch_size=cfg.batch_size,
        max_steps=cfg.steps,
        log_every=cfg.warmup,  # the clock reads at the warm-up step and at the last step (always logged)
        eval_every_epoch=False,
        fast=fast,
        compile=compile,
        compile_mode=cfg.compile_mode,
        seed=seed,
    )
    times: dict[int, float] = {}

    def record(event: engine.ProgressEvent) -> None:
        if event.kind == "step":
            times[event.step] = event.elapsed

    with PeakMemory(device) as mem:
        result = engine.train(model, data, config, device=device, on_progress=record)
    if result.status != "done":
        raise RuntimeError(f"engine run {result.status}: {result.message}")
    return {
        "img_per_s": steady_rate(times, cfg.warmup, cfg.steps, cfg.batch_size),
        "peak_mem_mb": mem.mb,
        "numerics": result.numerics,
    }


@torch.no_grad()
def calibrate_batchnorm(model: nn.Module, data: ImageSet, device: torch.device, images: int = 512) -> None:
    """Give a randomly initialised backbone BatchNorm statistics of the data (like a trained one has), so that
    its frozen features are normalised and the head's training is well-conditioned in both arms of (c)."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration batches
    model.to(device).train()
    prep = engine.BatchPreparer(data.images, device=device, fast=False)
    for start in range(0, min(images, len(data)), 128):
        model(prep(data.images[start : start + 128].to(device)))
    model.eval()


def head_rows(build, data: ImageSet, cfg: BenchConfig, device: torch.device, seed: int) -> tuple[dict, dict]:
    """(c): E epochs of a new linear head on a frozen backbone, recomputed every step vs cached once."""
    if cfg.feature_images and cfg.feature_images < len(data):
        data = data.subset(torch.arange(cfg.feature_images))
    backbone = engine.seeded(lambda: build(data.channels, data.num_classes), seed)
    calibrate_batchnorm(backbone, data, device)
    head_cfg = engine.TrainConfig(
        epochs=cfg.head_epochs,
        batch_size=cfg.batch_size,
        augment=False,
        eval_every_epoch=False,
        seed=seed,
        log_every=10**9,
    )
    head0 = nn.Linear(backbone.fc.in_features, data.num_classes)
    rows = []

    # Recompute: the whole network through the engine with everything but the head frozen (BatchNorm too).
    model = backbone
    for p in model.parameters():
        p.requires_grad_(False)
    model.fc = engine.seeded(lambda: nn.Linear(head0.in_features, head0.out_features), seed)
    with PeakMemory(device) as mem:
        t0 = time.perf_counter()
        res = engine.train(
            model,
            data,
            head_cfg,
            device=device,
            param_groups=[{"params": model.fc.parameters()}],
            set_train_mode=lambda m: m.eval(),
        )
        synchronize(device)
        recompute_s = time.perf_counter() - t0
    rows.append(
        {
            "name": HEAD_RECOMPUTE,
            "seconds": recompute_s,
            "peak_mem_mb": mem.mb,
            "final_train_loss": res.history[-1]["train_loss"] if res.history else None,
        }
    )

    # Cached: one backbone pass in large batches, then the head alone on the features.
    with PeakMemory(device) as mem:
        t0 = time.perf_counter()
        feats = frozen.extract_features(model, data, device=device)
        head = engine.seeded(lambda: nn.Linear(head0.in_features, head0.out_features), seed)
        res = frozen.train_head(head, feats, data.labels, head_cfg, device=device)
        synchronize(device)
        cached_s = time.perf_counter() - t0
    rows.append(
        {
            "name": HEAD_CACHED,
            "seconds": cached_s,
            "peak_mem_mb": mem.mb,
            "final_train_loss": res.history[-1]["train_loss"] if res.history else None,
        }
    )
    for row in rows:
        row["img_per_s"] = len(data) * cfg.head_epochs / max(1e-9, row["seconds"])
        row["images"] = len(data)
        row["epochs"] = cfg.head_epochs
    return rows[0], rows[1]


def profile_engine(
    build, data: ImageSet, cfg: BenchConfig, device: torch.device, seed: int, top: int = 15
) -> list[dict]:
    """Where an engine step's time goes: torch.profiler over a few steps after warm-up, top ops by self time."""
    from torch.profiler import ProfilerActivity, profile

    model = engine.seeded(lambda: build(data.channels, data.num_classes), seed)
    config = engine.TrainConfig(epochs=1, batch_size=cfg.batch_size, max_steps=2, eval_every_epoch=False, seed=seed)
    engine.train(model, data, config, device=device)  # warm-up (allocator, oneDNN primitives)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    config = engine.TrainConfig(
        epochs=1, batch_size=cfg.batch_size, max_steps=max(3, cfg.steps // 4), eval_every_epoch=False, seed=seed
    )
    with profile(activities=activities) as prof:
        engine.train(model, data, config, device=device)
    attr = "self_device_time_total" if device.type == "cuda" else "self_cpu_time_total"
    events = [e for e in prof.key_averages() if getattr(e, attr, 0) > 0]
    total = sum(getattr(e, attr) for e in events) or 1.0
    events.sort(key=lambda e: getattr(e, attr), reverse=True)
    return [
        {"op": e.key, "self_ms": getattr(e, attr) / 1000, "percent": 100 * getattr(e, attr) / total, "calls": e.count}
        for e in events[:top]
    ]


# ----------------------------------------------------------------------------------------------- the run


def run_bench(
    config: BenchConfig,
    *,
    device: torch.device,
    on_progress: Callable[[str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> BenchResult:
    """Measure (a), (b) and (c) on ``device``. ``on_progress`` gets one line of text per finished row."""
    from resnet_core.provenance import provenance

    device = torch.device(device)
    cfg = config.resolved(device)
    threads = numerics.set_cpu_threads(cfg.threads)
    flags = numerics.configure_cuda(tf32=cfg.tf32, benchmark=True) if device.type == "cuda" else {}
    build = parse_model(cfg.model)
    data = load_dataset(cfg.dataset).train
    say = on_progress or (lambda line: None)
    names = [TUTORIAL, TUTORIAL_NUMERICS, ENGINE_FP32, ENGINE_FAST] + ([ENGINE_COMPILE] if cfg.compile else [])
    measured: dict[str, list[dict]] = {name: [] for name in names}
    for rep in range(cfg.repeats):
        for name in names:
            if should_stop is not None and should_stop():
                break
            seed = cfg.seed
            if name in (TUTORIAL, TUTORIAL_NUMERICS):
                row = tutorial_row(build, data, cfg, device, seed, numerics=name == TUTORIAL_NUMERICS)
            else:
                row = engine_row(
                    build, data, cfg, device, seed, fast=name != ENGINE_FP32, compile=name == ENGINE_COMPILE
                )
            measured[name].append(row)
            say(f"[{rep + 1}/{cfg.repeats}] {name}: {row['img_per_s']:.0f} img/s, peak {row['peak_mem_mb']:.0f} MB")

    rows = []
    for name in names:
        runs = measured[name]
        if not runs:
            continue
        rates = [r["img_per_s"] for r in runs]
        row = {
            "name": name,
            "img_per_s": statistics.median(rates),
            "peak_mem_mb": max(r["peak_mem_mb"] for r in runs),
            "img_per_s_all": rates,
            "numerics": runs[0]["numerics"]
            + (" (TF32 off)" if flags and not cfg.tf32 and "fp32" in runs[0]["numerics"] else ""),
        }
        if "data_fraction" in runs[0]:
            row["data_fraction"] = statistics.median(r["data_fraction"] for r in runs)
        rows.append(row)
    pairs = list(zip(measured[TUTORIAL], measured[ENGINE_FAST]))
    speedup_all = [e["img_per_s"] / t["img_per_s"] for t, e in pairs]
    speedup = statistics.median(speedup_all) if speedup_all else None
    same_numerics = [
        e["img_per_s"] / t["img_per_s"] for t, e in zip(measured[TUTORIAL_NUMERICS], measured[ENGINE_FAST])
    ]
    for row in rows:
        tut = next((r for r in rows if r["name"] == TUTORIAL), None)
        row["vs_tutorial"] = row["img_per_s"] / tut["img_per_s"] if tut else None

    cache_speedup = None
    if cfg.features and not (should_stop is not None and should_stop()):
        recompute, cached = head_rows(build, data, cfg, device, cfg.seed)
        cache_speedup = recompute["seconds"] / max(1e-9, cached["seconds"])
        rows += [recompute, cached]
        say(
            f"{HEAD_RECOMPUTE}: {recompute['seconds']:.1f}s; {HEAD_CACHED}: {cached['seconds']:.1f}s "
            f"({cache_speedup:.1f}x)"
        )

    page_rows: list[dict] = []
    if cfg.pages and not (should_stop is not None and should_stop()):
        from resnet_core.bench.pages import page_default_rows

        page_rows = page_default_rows(device, repeats=cfg.page_repeats, say=say, should_stop=should_stop)
    prof = profile_engine(build, data, cfg, device, cfg.seed) if cfg.profile else []
    return BenchResult(
        device=device.type,
        device_label=describe_device(device).describe(),
        rows=rows,
        speedup_vs_tutorial=speedup,
        feature_cache_speedup=cache_speedup,
        speedup_all=speedup_all,
        numerics=engine.fast_path(device).describe(),
        threads=threads,
        config=cfg.to_dict(),
        profile=prof,
        provenance=provenance(seed=cfg.seed, device=device, data=cfg.dataset),
        page_rows=page_rows,
        cuda_flags=flags,
        speedup_vs_tutorial_numerics=statistics.median(same_numerics) if same_numerics else None,
    )
