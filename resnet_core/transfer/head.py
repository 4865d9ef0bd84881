"""Training a new head on cached features of a frozen backbone (feature extraction, staged's first phase), with
augmentation parity: the features of a few augmented views of each labelled image are computed once and each
step draws one view per image, so these strategies see augmented images as the others do. Plus the early stopper
every strategy shares."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import nullcontext

import torch
import torch.nn.functional as F
from torch import nn

from resnet_core.data.datasets import ImageSet, augment
from resnet_core.training.batching import eval_batch_size
from resnet_core.training.divergence import DivergenceCheck
from resnet_core.training.engine import lr_factor
from resnet_core.training.frozen import extract_features
from resnet_core.transfer.config import TransferConfig


class EarlyStopper:
    """Tracks validation accuracy per epoch, keeps a copy of the best weights, asks to stop after ``patience``
    epochs without improvement (when enabled); ``restore`` puts the best weights back."""

    def __init__(self, model: nn.Module, enabled: bool, patience: int) -> None:
        self.model, self.enabled, self.patience = model, enabled, patience
        self.best_acc, self.best_epoch, self.since, self.best_state = -1.0, 0, 0, None
        self.triggered = False

    def update(self, epoch: int, val_acc: float | None) -> None:
        if val_acc is None:
            return
        if val_acc > self.best_acc:
            self.best_acc, self.best_epoch, self.since = val_acc, epoch, 0
            if self.enabled:
                self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        else:
            self.since += 1
            if self.enabled and self.since >= self.patience:
                self.triggered = True

    def restore(self) -> None:
        if self.enabled and self.best_state is not None:
            self.model.load_state_dict(self.best_state)


def epoch_set(train_set: ImageSet, min_images: int) -> ImageSet:
    """Repeat a tiny training set up to ``min_images`` per epoch (each copy gets fresh augmentation)."""
    n = len(train_set)
    if n >= min_images:
        return train_set
    return train_set.subset(torch.arange(n).repeat(math.ceil(min_images / n)))


def cached_features(
    model: nn.Module, train_set: ImageSet, val_set: ImageSet, config: TransferConfig, *, seed: int, device: torch.device
) -> dict[str, torch.Tensor]:
    """Features computed once in eval mode: "views" (V, N, D) of the training images (V augmented views with
    augmentation on and feature_views > 0, else the clean images only), "train" (N, D) clean, "val" (M, D)."""
    batch = eval_batch_size(train_set.images.shape[-1], 512)
    clean = extract_features(model, train_set, device=device, batch_size=batch)
    feats = {"train": clean, "val": extract_features(model, val_set, device=device, batch_size=batch)}
    views = config.feature_views if config.augment else 0
    if views == 0:
        feats["views"] = clean.unsqueeze(0)  # (1, N, D)
        return feats
    gen = torch.Generator().manual_seed(seed)
    images = train_set.images.cpu()
    out = []
    for _ in range(views):
        shifted = augment(images, generator=gen)  # uint8 (N, C, H, W): random crop (pad 2) + flip, as the engine
        view = ImageSet(shifted, train_set.labels.cpu(), list(train_set.class_names), train_set.source)
        out.append(extract_features(model, view, device=device, batch_size=batch))
    feats["views"] = torch.stack(out)  # (V, N, D)
    return feats


def train_head_on_features(
    model: nn.Module,
    feats: dict,
    labels: dict,
    config: TransferConfig,
    *,
    epochs: int,
    seed: int,
    device: torch.device,
    start_time: float,
    should_stop: Callable[[], bool],
    on_epoch: Callable[[dict, int, int], bool],
    lr: float | None = None,
) -> tuple[list[dict], str]:
    """Train only the head (SGD + Nesterov, one-cycle, like the engine) on cached features; each step takes one
    random view of each image in the batch. Returns (per-epoch rows, status); a NaN or infinite loss (or head
    weight) or a blow-up by the shared rule (:mod:`resnet_core.training.divergence`) ends the run as "diverged"."""
    head = model.head

    def set_mode(m: nn.Module) -> None:
        head.train()
        m.dropout.train()

    return train_on_cache(
        model,
        lambda x: head(model.dropout(x)),
        [{"params": list(head.parameters()), "lr": config.lr_head if lr is None else lr}],
        set_mode,
        feats,
        labels,
        config,
        epochs=epochs,
        seed=seed,
        device=device,
        start_time=start_time,
        should_stop=should_stop,
        on_epoch=on_epoch,
    )


def train_on_cache(
    model: nn.Module,
    forward: Callable[[torch.Tensor], torch.Tensor],
    groups: list[dict],
    set_mode: Callable[[nn.Module], None],
    feats: dict,
    labels: dict,
    config: TransferConfig,
    *,
    epochs: int,
    seed: int,
    device: torch.device,
    start_time: float,
    should_stop: Callable[[], bool],
    on_epoch: Callable[[dict, int, int], bool],
    autocast=None,
    scaler=None,
    eval_batch: int = 512,
) -> tuple[list[dict], str]:
    """The loop of every cached phase: ``forward`` maps cached inputs (a batch of ``feats["views"][v, i]``) to
    logits and trains the parameters of ``groups`` (SGD + Nesterov, one-cycle with warm-up, like the engine);
    ``set_mode`` puts the model in training mode each epoch (frozen BatchNorm stays in eval mode). Validation on
    ``feats["val"]`` every epoch. ``autocast``: a context factory for the forward passes (None: fp32);
    ``scaler``: a :class:`resnet_core.training.numerics.StepScaler` (fp16 loss scaling) or None."""
    autocast = autocast or nullcontext
    params = [p for g in groups for p in g["params"]]
    opt = torch.optim.SGD(groups, lr=groups[0]["lr"], momentum=0.9, nesterov=True, weight_decay=config.weight_decay)
    base_lrs = [g["lr"] for g in opt.param_groups]
    views, y_train = feats["views"], labels["train"]
    n_views, n = views.shape[0], len(y_train)
    per_epoch = max(n, config.min_epoch_images)
    bs = min(config.batch_size, per_epoch)
    steps_per_epoch = max(1, per_epoch // bs)
    total = steps_per_epoch * epochs
    gen = torch.Generator().manual_seed(seed)
    history, status, step = [], "done", 0
    divergence = DivergenceCheck()
    for epoch in range(epochs):
        set_mode(model)
        reps = math.ceil(per_epoch / n)
        # One shuffle per epoch, moved to the device once and sliced there (no host->device copy per step).
        order = torch.cat([torch.randperm(n, generator=gen) for _ in range(reps)])[:per_epoch].to(device)
        view_of = torch.randint(n_views, (per_epoch,), generator=gen).to(device)
        ep_loss = torch.zeros((), device=device)
        ep_correct = torch.zeros((), device=device, dtype=torch.long)
        ep_count = 0
        for s in range(steps_per_epoch):
            if should_stop():
                status = "cancelled"
                break
            idx = order[s * bs : (s + 1) * bs]
            vidx = view_of[s * bs : (s + 1) * bs]
            factor = lr_factor("onecycle", step, total, 0.15)
            for g, base in zip(opt.param_groups, base_lrs):
                g["lr"] = base * factor
            with autocast():
                logits = forward(views[vidx, idx])  # (B, classes)
            loss = F.cross_entropy(logits.float(), y_train[idx])
            opt.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.backward(loss)
                scaler.step(opt)
            else:
                loss.backward()
                opt.step()
            step += 1
            # Summed on the device and read once per epoch: no host sync per step.
            ep_loss += loss.detach() * len(idx)
            ep_correct += (logits.detach().argmax(1) == y_train[idx]).sum()
            ep_count += len(idx)
        if status != "done" or ep_count == 0:
            break
        train_loss = ep_loss.item() / ep_count
        weights_finite = all(bool(torch.isfinite(p).all()) for p in params)
        if not weights_finite or divergence.train_loss(step, train_loss) is not None:
            status = "diverged"
            break
        model.eval()
        val_loss, val_acc = cached_metrics(forward, feats["val"], labels["val"], autocast, eval_batch)
        seconds = time.perf_counter() - start_time
        row = {
            "epoch": epoch + 1,
            "step": step,
            "train_loss": train_loss,
            "train_acc": ep_correct.item() / ep_count,
            "val_loss": val_loss,
            "val_acc": val_acc,
            "seconds": seconds,
        }
        history.append(row)
        if divergence.eval_loss(step, val_loss, "validation") is not None:
            status = "diverged"
            break
        if on_epoch(row, step, total):
            status = "early-stopped"
            break
    return history, status


@torch.inference_mode()
def cached_metrics(forward, inputs: torch.Tensor, ys: torch.Tensor, autocast=None, batch: int = 512):
    """(loss, accuracy) of ``forward`` on cached inputs (the model already in eval mode), in batches."""
    autocast = autocast or nullcontext
    if len(ys) == 0:
        return float("nan"), float("nan")
    total = torch.zeros((), device=ys.device)
    correct = torch.zeros((), device=ys.device, dtype=torch.long)
    for start in range(0, len(ys), batch):
        with autocast():
            logits = forward(inputs[start : start + batch]).float()
        y = ys[start : start + batch]
        total += F.cross_entropy(logits, y, reduction="sum")
        correct += (logits.argmax(1) == y).sum()
    return total.item() / len(ys), correct.item() / len(ys)
