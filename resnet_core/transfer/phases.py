"""Two steps of a transfer run: training through the engine (augmented batches, per-group learning rates) and
testing the kept weights (from cached features or prefix activations where the run has them)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from resnet_core.data.datasets import ImageSet
from resnet_core.training.batching import eval_batch_size, evaluate
from resnet_core.training.engine import ProgressEvent, TrainConfig, fast_path, train
from resnet_core.training.frozen import extract_features
from resnet_core.transfer.config import TransferConfig
from resnet_core.transfer.head import EarlyStopper, cached_metrics, epoch_set
from resnet_core.transfer.models import TransferNet, configure_strategy
from resnet_core.transfer.target import TargetData


def engine_phase(
    model: TransferNet,
    train_set: ImageSet,
    target: TargetData,
    config: TransferConfig,
    *,
    strategy: str,
    epochs: int,
    offset: int,
    seed: int,
    device: torch.device,
    start: float,
    history: list[dict],
    epoch_hook: Callable,
    stopper: EarlyStopper,
    should_stop,
    tag: str,
) -> str:
    """Train through the engine (augmented batches, per-group learning rates); appends rows to ``history``."""
    groups, set_mode = configure_strategy(model, strategy, config)
    repeated = epoch_set(train_set, config.min_epoch_images)
    tconf = TrainConfig(
        epochs=epochs,
        batch_size=min(config.batch_size, len(repeated)),
        lr=config.lr_head,
        weight_decay=config.weight_decay,
        augment=config.augment,
        seed=seed,
        log_every=10**9,
        eval_batch_size=eval_batch_size(train_set.images.shape[-1], 512),
    )
    keys = ("epoch", "step", "train_loss", "train_acc", "val_loss", "val_acc", "seconds")

    def engine_progress(event: ProgressEvent) -> None:
        if event.kind != "epoch":
            return
        row = {k: event.metrics[k] for k in keys if k in event.metrics}
        row["epoch"] = offset + int(row["epoch"])
        row["seconds"] = time.perf_counter() - start
        history.append(row)
        epoch_hook(row, event.step, event.total_steps)

    result = train(
        model,
        repeated,
        tconf,
        device=device,
        val_set=target.val,
        param_groups=groups,
        set_train_mode=set_mode,
        should_stop=lambda: should_stop() or stopper.triggered,
        on_progress=engine_progress,
        tag=tag,
    )
    if result.status == "diverged":
        return "diverged"
    if stopper.triggered:
        return "early-stopped"
    return "cancelled" if result.status == "cancelled" else "done"


@torch.no_grad()
def tested_accuracies(
    model: TransferNet,
    strategy: str,
    train_set: ImageSet,
    target: TargetData,
    cached: dict | None,
    labels: dict | None,
    device: torch.device,
    *,
    cached_forward: Callable | None = None,
    known_val_acc: float | None = None,
) -> dict:
    """Test loss, predictions, and the accuracy of the tested weights on the labelled and validation images
    (from cached features or prefix activations where the run has them; ``known_val_acc``: the last epoch's
    validation accuracy when the tested weights are that epoch's, so it is not computed twice)."""
    model.eval()
    batch = eval_batch_size(target.test.images.shape[-1], 512)
    if strategy == "feature_extraction" and cached is not None and labels is not None:
        logits = model.head(extract_features(model, target.test, device=device, batch_size=batch))
        test_y = target.test.labels.to(device)
        return {
            "test_loss": F.cross_entropy(logits, test_y).item(),
            "preds": logits.argmax(1).cpu(),
            "train_acc": cached_metrics(model.head, cached["train"], labels["train"])[1],
            "val_acc": cached_metrics(model.head, cached["val"], labels["val"])[1],
        }
    ev = evaluate(model, target.test, device=device, batch_size=batch, return_predictions=True)
    out = {"test_loss": ev["loss"], "preds": ev["predictions"]}
    if cached_forward is not None and cached is not None and labels is not None:
        autocast = functools.partial(fast_path(device).autocast, device)
        out["train_acc"] = cached_metrics(cached_forward, cached["train"], labels["train"], autocast)[1]
        out["val_acc"] = cached_metrics(cached_forward, cached["val"], labels["val"], autocast)[1]
        return out
    out["train_acc"] = evaluate(model, train_set, device=device, batch_size=batch)["acc"]
    if known_val_acc is None:
        known_val_acc = evaluate(model, target.val, device=device, batch_size=batch)["acc"]
    out["val_acc"] = known_val_acc
    return out
