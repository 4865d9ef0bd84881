"""Frozen backbones: features computed once (``extract_features``) and a new head trained on them
(``train_head``) with the same optimiser, schedule and batch order as :func:`resnet_core.training.engine.train`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from resnet_core.data.datasets import ImageSet
from resnet_core.training.divergence import DivergenceCheck
from resnet_core.training.engine import (
    BatchPreparer,
    ProgressEvent,
    ProgressFn,
    StopFn,
    TrainConfig,
    TrainResult,
    batches,
    end_message,
    lr_factor,
    make_optimizer,
)
from resnet_core.training.numerics import (
    fast_path,
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
    "eval_batch_size": 1024,
}

Schedule = Literal["onecycle", "cosine", "step", "constant"]


@torch.no_grad()
def extract_features(
    model: nn.Module,
    data: ImageSet,
    *,
    device: torch.device,
    batch_size: int = HYPERPARAMS["eval_batch_size"],
    fast: bool = True,
    feature_fn: Callable[[Tensor], Tensor] | None = None,
    should_stop: StopFn | None = None,
) -> Tensor:
    """The frozen backbone's features of every image in ``data``, computed once: eval mode (BatchNorm uses its
    running statistics), large batches, no autograd. Returns fp32 ``[N, D]`` on ``device``.

    ``feature_fn`` maps a normalised batch to features (default ``model.features``). Train a new head on the
    result with ``train_head``: for E epochs that costs one backbone pass instead of E.
    """
    feature_fn = feature_fn or model.features  # type: ignore[assignment]
    was_training = model.training
    model.eval()
    fp = fast_path(device, fast)
    model.to(device)
    if fp.channels_last:
        model.to(memory_format=torch.channels_last)
    images = data.images.to(device)
    prep = BatchPreparer(images, device=device, fast=fast)
    out = []
    for start in range(0, len(data), batch_size):
        if should_stop is not None and should_stop():
            break
        with fp.autocast(device):
            feats = feature_fn(prep(images[start : start + batch_size]))  # type: ignore[misc]
        out.append(torch.flatten(feats, 1).float())
    model.train(was_training)
    return torch.cat(out) if out else torch.empty(0, device=device)


def train_head(
    head: nn.Module,
    features: Tensor,
    labels: Tensor,
    config: TrainConfig,
    *,
    device: torch.device,
    val: tuple[Tensor, Tensor] | None = None,
    test: tuple[Tensor, Tensor] | None = None,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    tag: str = "",
) -> TrainResult:
    """Train ``head`` (e.g. a Linear, or Dropout + Linear) on cached ``features`` with the engine's optimizer and
    schedule; per-epoch history like ``train`` (val/test metrics from the given cached feature sets). fp32: the
    head is tiny. No augmentation: the features are of the un-augmented images."""
    start_time = time.perf_counter()
    head.to(device)
    features, labels = features.to(device), labels.to(device)
    gen = torch.Generator().manual_seed(config.seed)
    optimizer = make_optimizer([p for p in head.parameters() if p.requires_grad], config)
    base_lrs = [g["lr"] for g in optimizer.param_groups]
    n = len(labels)
    steps_per_epoch = max(1, n // config.batch_size) if n > config.batch_size else 1
    total_steps = steps_per_epoch * config.epochs
    if config.max_steps is not None:
        total_steps = min(total_steps, config.max_steps)
    status: Literal["done", "cancelled", "diverged"] = "done"
    history: list[dict] = []
    step, epoch, diverged_at = 0, 0, None
    divergence = DivergenceCheck()

    @torch.no_grad()
    def metrics(feats: Tensor, ys: Tensor) -> tuple[float, float]:
        was = head.training
        head.eval()
        logits = head(feats.to(device))
        ys = ys.to(device)
        loss, acc = F.cross_entropy(logits, ys).item(), (logits.argmax(1) == ys).float().mean().item()
        head.train(was)
        return loss, acc

    while step < total_steps:
        head.train()
        epoch_loss = torch.zeros((), device=device)
        epoch_correct = torch.zeros((), device=device)
        count = 0
        for idx in batches(n, config.batch_size, generator=gen, shuffle=True, device=device):
            if step >= total_steps:
                break
            if should_stop is not None and should_stop():
                status = "cancelled"
                break
            factor = lr_factor(config.schedule, step, total_steps, config.warmup_fraction)
            for group, base in zip(optimizer.param_groups, base_lrs):
                group["lr"] = base * factor
            logits = head(features[idx])
            loss = F.cross_entropy(logits, labels[idx], label_smoothing=config.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            epoch_loss += loss.detach() * len(idx)
            epoch_correct += (logits.detach().argmax(1) == labels[idx]).sum()
            count += len(idx)
            step += 1
        if status != "done" or count == 0:
            break
        epoch += 1
        train_loss = epoch_loss.item() / count
        if divergence.train_loss(step, train_loss) is not None:
            status, diverged_at = "diverged", divergence.found.step
            break
        row: dict[str, Any] = {
            "epoch": epoch,
            "step": step,
            "train_loss": train_loss,
            "train_acc": epoch_correct.item() / count,
        }
        for name, pair in (("val", val), ("test", test)):
            if pair is not None:
                row[f"{name}_loss"], row[f"{name}_acc"] = metrics(*pair)
                if divergence.eval_loss(step, row[f"{name}_loss"], name) is not None:
                    status, diverged_at = "diverged", step
        row["seconds"] = time.perf_counter() - start_time
        history.append(row)
        if on_progress is not None:
            on_progress(ProgressEvent.epoch_end(row, step=step, total_steps=total_steps, epoch=epoch, tag=tag))
        if status != "done":
            break
    message = end_message(status, step, diverged_at, divergence.found.reason if divergence.found else "")
    return TrainResult(status, step, time.perf_counter() - start_time, history, diverged_at, message, "fp32")
