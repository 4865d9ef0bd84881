"""``python -m resnet_core bench``: the project's engine against a tutorial-style loop, side by side, in one run.

(a) tutorial: a per-sample ``torch.utils.data.Dataset`` over the same uint8 images with torchvision transforms
    (RandomCrop(28, padding=2), RandomHorizontalFlip, ToTensor, Normalize), a ``DataLoader``, fp32, and
    ``loss.item()`` every step;
(b) the engine: ``resnet_core.engine.train`` with ``max_steps`` (data on the device, batched on-device
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
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from resnet_core import engine, frozen, numerics
from resnet_core.bench_tutorial import PeakMemory, steady_rate, tutorial_row
from resnet_core.data import ImageSet, load_dataset
from resnet_core.devices import describe_device, synchronize
from resnet_core.models import build_cifar_net

TUTORIAL = "tutorial (Dataset + DataLoader, fp32)"
TUTORIAL_NUMERICS = "tutorial + engine numerics"
ENGINE_FP32 = "engine, fast=False (fp32)"
ENGINE_FAST = "engine (default fast path)"
ENGINE_COMPILE = "engine + torch.compile"
HEAD_RECOMPUTE = "head: recompute frozen backbone"
HEAD_CACHED = "head: cached features"


@dataclass
class BenchConfig:
    model: str = "resnet20"  # resnetD or plainD, D = 6n+2
    steps: int | None = None  # per row; default 20 on CPU, 200 on CUDA
    warmup: int | None = None  # steps excluded from the timing; default 5 on CPU, 50 on CUDA
    batch_size: int | None = None  # default 128 on CPU, 512 on CUDA
    repeats: int = 5
    threads: int | None = None  # torch CPU threads for the whole run (None: the process's setting)
    workers: int | None = None  # DataLoader workers of the tutorial loop (None: 4 persistent on CUDA, 0 on a CPU)
    dataset: str = "bundled"
    compile: bool = False  # add a torch.compile row
    compile_mode: str | None = None  # its mode; None: "reduce-overhead" on CUDA (CUDA graphs), default elsewhere
    tf32: bool = False  # CUDA: allow TF32 convolutions/matmuls (off: the fp32 rows are fp32)
    pages: bool = True  # rows for the page defaults (transfer, gradients, delete-one)
    page_repeats: int | None = None  # default: repeats
    features: bool = True  # run (c)
    head_epochs: int = 10
    feature_images: int | None = None  # images for (c); default 1,000 on CPU, all on CUDA
    profile: bool = False  # torch.profiler over a few engine steps; top ops go in the result
    seed: int = 0

    def resolved(self, device: torch.device) -> BenchConfig:
        cuda = device.type == "cuda"
        out = BenchConfig(**asdict(self))
        out.steps = self.steps or (200 if cuda else 20)
        out.warmup = self.warmup if self.warmup is not None else (50 if cuda else 5)
        out.warmup = max(1, min(out.warmup, out.steps - 1))
        out.batch_size = self.batch_size or (512 if cuda else 128)
        out.feature_images = self.feature_images or (None if cuda else 1000)
        out.compile_mode = self.compile_mode or ("reduce-overhead" if cuda else None)
        out.page_repeats = self.page_repeats or self.repeats
        return out

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class BenchResult:
    device: str  # "cpu" / "cuda"
    device_label: str
    rows: list[dict]  # name, img_per_s (median), peak_mem_mb, img_per_s_all, ...
    speedup_vs_tutorial: float | None
    feature_cache_speedup: float | None
    speedup_all: list[float] = field(default_factory=list)  # one ratio per repeat (same-repeat rows)
    numerics: str = ""
    threads: int = 0
    config: dict = field(default_factory=dict)
    profile: list[dict] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)
    page_rows: list[dict] = field(default_factory=list)  # one per page default: wall s, images/s, spread
    cuda_flags: dict = field(default_factory=dict)  # TF32 / cudnn.benchmark as set for the run (CUDA only)
    speedup_vs_tutorial_numerics: float | None = None  # engine fast path / tutorial loop with the same numerics

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> BenchResult:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


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
        from resnet_core.bench_pages import page_default_rows

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
