"""The one training / evaluation loop every experiment shares.

Why it is shaped like this (measured with ``python -m resnet_core bench``; numbers in docs/PERFORMANCE.md):
- the whole dataset sits on the device as uint8 tensors, a batch is an index slice, and augmentation (random
  crop + flip) runs on the whole batch on the device: no per-sample Dataset/DataLoader, no worker processes;
- on CUDA the forward/backward run with channels-last tensors under bf16 autocast where the GPU has native bf16
  (compute capability >= 8.0), else fp16 autocast with a GradScaler; on a CPU the fast path is channels-last,
  plus bf16 autocast where the CPU has native bf16 instructions (AVX512-BF16 / AMX); ``TrainConfig(fast=False)``
  gives the plain fp32 path everywhere (resnet_core.training.numerics);
- ``torch.compile`` is opt-in (``TrainConfig(compile=True)``): it falls back to eager mode if compilation fails;
- a frozen backbone's features are computed once and the head trains on the cached features
  (:mod:`resnet_core.training.frozen`); batches, their preparation on the device and evaluation are in
  :mod:`resnet_core.training.batching`;
- the host never waits for the device inside the loop: loss and accuracy accumulate in device tensors and are
  read every ``log_every`` steps; a non-finite loss is recorded on the device with its step number, so a
  divergent run ends as "diverged at step N" instead of raising or printing NaN curves;
- ``should_stop`` is checked before every step, so a cancelled run stops within one step and keeps its history.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from resnet_core.data.datasets import ImageSet
from resnet_core.i18n import gettext as _
from resnet_core.training.batching import EVAL_BATCH_SIZE, BatchPreparer, StopFn, batches, device_generator, evaluate
from resnet_core.training.devices import synchronize
from resnet_core.training.divergence import Divergence, DivergenceCheck
from resnet_core.training.numerics import (  # re-exported: the numerics used to live here
    FastPath,
    StepScaler,
    fast_path,
    maybe_compile,
)

# The default recipe in one place (airbench style). He et al. use SGD 0.1 / momentum 0.9 / wd 1e-4 / batch 128
# for ~164 epochs; the lab trains for a handful of epochs, where a one-cycle schedule with Nesterov momentum and
# slightly stronger weight decay gets much further in the same number of steps.
HYPERPARAMS: dict[str, Any] = {
    "epochs": 5,
    "batch_size": 128,
    "optimizer": "sgd",
    "lr": 0.1,
    "momentum": 0.9,
    "nesterov": True,
    "weight_decay": 5e-4,
    "schedule": "onecycle",  # linear warm-up over warmup_fraction, then linear decay to zero
    "warmup_fraction": 0.15,
    "augment": True,
    "crop_pad": 2,  # 28x28 images: 2 px is He et al.'s 4 px on 32x32, scaled
    "flip": True,
    "label_smoothing": 0.0,
    "log_every": 20,  # steps between host reads of the running loss (the only sync in the loop)
    "eval_batch_size": EVAL_BATCH_SIZE,
}

Schedule = Literal["onecycle", "cosine", "step", "constant"]


@dataclass
class TrainConfig:
    epochs: int = HYPERPARAMS["epochs"]
    batch_size: int = HYPERPARAMS["batch_size"]
    optimizer: Literal["sgd", "adam", "adamw"] = HYPERPARAMS["optimizer"]
    lr: float = HYPERPARAMS["lr"]
    momentum: float = HYPERPARAMS["momentum"]
    nesterov: bool = HYPERPARAMS["nesterov"]
    weight_decay: float = HYPERPARAMS["weight_decay"]
    schedule: Schedule = HYPERPARAMS["schedule"]
    warmup_fraction: float = HYPERPARAMS["warmup_fraction"]
    augment: bool = HYPERPARAMS["augment"]
    crop_pad: int = HYPERPARAMS["crop_pad"]
    flip: bool = HYPERPARAMS["flip"]
    label_smoothing: float = HYPERPARAMS["label_smoothing"]
    seed: int = 0
    log_every: int = HYPERPARAMS["log_every"]
    eval_batch_size: int = HYPERPARAMS["eval_batch_size"]
    max_steps: int | None = None  # stop after this many steps (quick demos, tests, benchmarks)
    fast: bool = True  # bf16 autocast + channels-last on CUDA (CPU: see fast_path); False: the plain fp32 path
    eval_every_epoch: bool = True
    compile: bool = False  # torch.compile the model (falls back to eager mode if compilation fails)
    compile_mode: str | None = None  # torch.compile mode, e.g. "reduce-overhead" (CUDA graphs: ~1 launch a step)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ProgressEvent:
    """What a job or a CLI progress line gets while training runs."""

    kind: Literal["step", "epoch"]
    step: int
    total_steps: int
    epoch: float  # fractional for step events
    loss: float
    acc: float | None
    elapsed: float
    metrics: dict = field(default_factory=dict)  # epoch events: val/test metrics
    tag: str = ""  # which run of a multi-run experiment this belongs to

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def epoch_end(cls, row: dict, *, step: int, total_steps: int, epoch: int, tag: str = "") -> ProgressEvent:
        """The event at an epoch's end, from its history row (train loss and accuracy, eval metrics, seconds)."""
        return cls(
            "epoch",
            step,
            total_steps,
            float(epoch),
            row["train_loss"],
            row["train_acc"],
            row["seconds"],
            metrics=dict(row),
            tag=tag,
        )


@dataclass
class TrainResult:
    status: Literal["done", "cancelled", "diverged"]
    steps: int
    seconds: float
    history: list[dict]  # one row per epoch
    diverged_at_step: int | None = None
    message: str = ""
    numerics: str = ""  # e.g. "bf16 autocast + channels-last" (what fast_path chose on the device)

    def to_dict(self) -> dict:
        return asdict(self)


ProgressFn = Callable[[ProgressEvent], None]

# Model construction draws from torch's global RNG; a lock keeps concurrent jobs from interleaving their draws,
# so that the same seed builds the same weights even while another user's job is starting.
_RNG_LOCK = threading.Lock()


def rng_devices() -> tuple[list[int], str]:
    """(device indices, device type) of the accelerator generators ``fork_rng`` must save and restore: every
    initialised CUDA device, or MPS. ``torch.manual_seed`` reseeds those too, so forking only the CPU one would
    let one job's model construction reseed the dropout of another job running on the GPU."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        return list(range(torch.cuda.device_count())), "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return [0], "mps"
    return [], "cuda"


def seeded(build: Callable[[], nn.Module], seed: int) -> nn.Module:
    """Build a model with weights determined by ``seed`` alone. Only the CPU generator is seeded (models are
    built on the CPU), inside a fork of every generator, device ones included, so no other job's random stream
    moves."""
    devices, device_type = rng_devices()
    with _RNG_LOCK, torch.random.fork_rng(devices=devices, device_type=device_type):
        torch.default_generator.manual_seed(seed)
        return build()


def lr_factor(schedule: Schedule, step: int, total: int, warmup_fraction: float) -> float:
    """Multiplier of the base learning rate at ``step`` of ``total``."""
    progress = step / max(1, total)
    if schedule == "constant":
        return 1.0
    if schedule == "step":  # He et al.: divide by 10 at 50% and 75% of training
        return 1.0 if progress < 0.5 else 0.1 if progress < 0.75 else 0.01
    warm = warmup_fraction
    if warm > 0 and progress < warm:
        return (step + 1) / max(1, round(warm * total))
    rest = (progress - warm) / max(1e-9, 1 - warm)
    if schedule == "onecycle":
        return max(0.0, 1 - rest)
    if schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * min(1.0, rest)))
    raise ValueError(f"unknown schedule {schedule!r}")


def make_optimizer(params: Iterable, config: TrainConfig) -> torch.optim.Optimizer:
    params = list(params)
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            params,
            lr=config.lr,
            momentum=config.momentum,
            nesterov=config.nesterov and config.momentum > 0,
            weight_decay=config.weight_decay,
        )
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    raise ValueError(f"unknown optimizer {config.optimizer!r}")


def _forward_backward(
    net: nn.Module,
    x: Tensor,
    y: Tensor,
    fp: FastPath,
    device: torch.device,
    label_smoothing: float,
    scaler: StepScaler | None = None,
) -> tuple[Tensor, Tensor]:
    with fp.autocast(device):
        logits = net(x)
    loss = F.cross_entropy(logits.float(), y, label_smoothing=label_smoothing)
    if scaler is not None:
        scaler.backward(loss)
    else:
        loss.backward()
    return logits, loss


def end_message(status: str, step: int, diverged_at: int | None, reason: str = "") -> str:
    """How a run ended, in words for the page and the CLI."""
    if status == "diverged":
        return Divergence(diverged_at, reason or _("the loss became NaN or infinite")).message()
    if status == "cancelled":
        return _("stopped by request after {step} steps").format(step=step)
    return _("finished {step} steps").format(step=step)


def train(
    model: nn.Module,
    train_set: ImageSet,
    config: TrainConfig,
    *,
    device: torch.device,
    val_set: ImageSet | None = None,
    test_set: ImageSet | None = None,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    param_groups: list[dict] | None = None,
    set_train_mode: Callable[[nn.Module], None] | None = None,
    tag: str = "",
    extra_eval: dict[str, ImageSet] | None = None,
) -> TrainResult:
    """Train ``model`` in place on ``train_set`` and return its per-epoch history.

    ``param_groups``: optimizer groups (``{"params": [...], "lr": ...}``) for per-layer learning rates; the
    schedule scales each group's own base rate. Default: every parameter that requires a gradient.
    ``set_train_mode``: how to put the model in training mode each epoch (transfer learning keeps frozen
    BatchNorm layers in eval mode); default ``model.train()``.
    ``extra_eval``: more sets evaluated (eval mode) whenever val/test are, as ``{name}_loss``/``{name}_acc``
    (e.g. a fixed training subset, for a training error that is not a running average over augmented batches).
    """
    start_time = time.perf_counter()
    fp = fast_path(device, config.fast)
    model.to(device)
    if fp.channels_last:
        model.to(memory_format=torch.channels_last)
    net = maybe_compile(model, config.compile, config.compile_mode)
    compile_checked = net is model
    images, labels = train_set.images.to(device), train_set.labels.to(device)
    cpu_gen = torch.Generator().manual_seed(config.seed)
    prep = BatchPreparer(images, device=device, fast=config.fast, generator=device_generator(device, config.seed))

    groups = param_groups or [{"params": [p for p in model.parameters() if p.requires_grad]}]
    optimizer = make_optimizer(groups, config)
    base_lrs = [g["lr"] for g in optimizer.param_groups]
    scaler = StepScaler(fp, torch.device(device))  # fp16 loss scaling on GPUs without native bf16
    n = len(train_set)
    steps_per_epoch = max(1, n // config.batch_size) if n > config.batch_size else 1
    total_steps = steps_per_epoch * config.epochs
    if config.max_steps is not None:
        total_steps = min(total_steps, config.max_steps)
    set_mode = set_train_mode or (lambda m: m.train())

    history: list[dict] = []
    step = 0
    # Running sums live on the device; the host reads them every log_every steps.
    run_loss = torch.zeros((), device=device)
    run_correct = torch.zeros((), device=device)
    run_count = 0
    first_bad_step = torch.full((), -1, device=device, dtype=torch.long)
    status: Literal["done", "cancelled", "diverged"] = "done"
    diverged_at: int | None = None
    divergence = DivergenceCheck()  # the shared rule (resnet_core.training.divergence): non-finite, blow-up, eval loss

    def check_divergence(logged_loss: float | None = None) -> bool:
        nonlocal status, diverged_at
        bad = int(first_bad_step.item())
        found = divergence.train_loss(bad, float("nan")) if bad >= 0 else None
        if found is None and logged_loss is not None:
            found = divergence.train_loss(step, logged_loss)
        if found is not None:
            status, diverged_at = "diverged", found.step
        return found is not None

    epoch = 0
    while step < total_steps:
        set_mode(model)
        epoch_loss = torch.zeros((), device=device)
        epoch_correct = torch.zeros((), device=device)
        epoch_count = 0
        for idx in batches(n, config.batch_size, generator=cpu_gen, shuffle=True, device=device):
            if step >= total_steps:
                break
            if should_stop is not None and should_stop():
                status = "cancelled"
                break
            x = prep(images[idx], train_augment=config.augment, pad=config.crop_pad, flip=config.flip)
            y = labels[idx]
            factor = lr_factor(config.schedule, step, total_steps, config.warmup_fraction)
            for group, base in zip(optimizer.param_groups, base_lrs):
                group["lr"] = base * factor
            optimizer.zero_grad(set_to_none=True)
            try:
                logits, loss = _forward_backward(net, x, y, fp, device, config.label_smoothing, scaler)
            except Exception:  # only a failing first compiled step is caught
                if compile_checked:
                    raise
                net = model  # torch.compile failed here (no compiler, unsupported op, ...): run eagerly
                optimizer.zero_grad(set_to_none=True)
                logits, loss = _forward_backward(net, x, y, fp, device, config.label_smoothing, scaler)
            compile_checked = True
            scaler.step(optimizer)

            detached = loss.detach()
            first_bad_step = torch.where(
                (first_bad_step < 0) & ~torch.isfinite(detached), torch.full_like(first_bad_step, step), first_bad_step
            )
            batch_correct = (logits.detach().argmax(1) == y).sum()
            run_loss += detached * len(y)
            run_correct += batch_correct
            epoch_loss += detached * len(y)
            epoch_correct += batch_correct
            run_count += len(y)
            epoch_count += len(y)
            step += 1

            if step % config.log_every == 0 or step == total_steps:
                logged_loss = run_loss.item() / run_count
                if check_divergence(logged_loss):
                    break
                if on_progress is not None:
                    on_progress(
                        ProgressEvent(
                            "step",
                            step,
                            total_steps,
                            epoch + epoch_count / max(1, steps_per_epoch * config.batch_size),
                            logged_loss,
                            run_correct.item() / run_count,
                            time.perf_counter() - start_time,
                            tag=tag,
                        )
                    )
                run_loss.zero_(), run_correct.zero_()
                run_count = 0
        if status == "done" and epoch_count:
            check_divergence(epoch_loss.item() / epoch_count)
        if status != "done" or epoch_count == 0:
            break
        epoch += 1
        row: dict[str, Any] = {
            "epoch": epoch,
            "step": step,
            "train_loss": epoch_loss.item() / epoch_count,
            "train_acc": epoch_correct.item() / epoch_count,
        }
        if config.eval_every_epoch or step >= total_steps:
            for name, data in (("val", val_set), ("test", test_set), *(extra_eval or {}).items()):
                if data is not None:
                    metrics = evaluate(model, data, device=device, batch_size=config.eval_batch_size, fast=config.fast)
                    row[f"{name}_loss"], row[f"{name}_acc"] = metrics["loss"], metrics["acc"]
                    if divergence.eval_loss(step, metrics["loss"], name) is not None:
                        status, diverged_at = "diverged", step
        synchronize(device)
        row["seconds"] = time.perf_counter() - start_time
        history.append(row)
        if on_progress is not None:
            on_progress(ProgressEvent.epoch_end(row, step=step, total_steps=total_steps, epoch=epoch, tag=tag))
        if status != "done":
            break

    message = end_message(status, step, diverged_at, divergence.found.reason if divergence.found else "")
    compiled = f" + torch.compile({config.compile_mode or 'default'})" if net is not model else ""
    numerics = fp.describe() + compiled
    return TrainResult(status, step, time.perf_counter() - start_time, history, diverged_at, message, numerics)
