"""Running a comparison: every strategy x seed x label budget on the same data draws (same seed -> same k shots,
same head initialisation), each run in readable steps: draw, build, train (cached head phase and/or the engine),
restore the best weights when early stopping, test."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import torch

from resnet_core.data.datasets import ImageSet, stratified_kshot
from resnet_core.experiment import PartialFn, ProgressFn, StopFn
from resnet_core.models import count_parameters
from resnet_core.provenance import provenance
from resnet_core.training import threads
from resnet_core.training.engine import (
    ProgressEvent,
)
from resnet_core.transfer.config import PRETRAINED, TransferConfig
from resnet_core.transfer.head import (
    EarlyStopper,
    cached_features,
    train_head_on_features,
)
from resnet_core.transfer.models import (
    SourceModel,
    bn_drift,
    bn_statistics,
    build_model,
    configure_strategy,
    load_source,
)
from resnet_core.transfer.phases import engine_phase, tested_accuracies
from resnet_core.transfer.prefix import train_partial_on_prefix
from resnet_core.transfer.result import RunResult, TransferResult, closing_message
from resnet_core.transfer.target import TargetData, load_target

CACHED = ("feature_extraction", "staged")  # strategies whose (first) phase trains a head on cached features


RUN_COST = {"scratch": 5.0, "full_finetune": 4.0, "staged": 3.0, "partial_finetune": 1.0}  # relative, measured


def run_one(
    strategy: str,
    seed: int,
    shots: int | None,
    *,
    config: TransferConfig,
    source: SourceModel,
    target: TargetData,
    device: torch.device,
    on_progress: Callable[[ProgressEvent], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> RunResult | None:
    """Train ``strategy`` on k=``shots`` images per class (drawn with ``seed``) and test it (None if stopped)."""
    from resnet_core.training.devices import describe_device, synchronize

    should_stop = should_stop or (lambda: False)
    tag = f"{strategy}/k={shots if shots else 'all'}/seed={seed}"
    # 1. Draw the labelled images and build the net (same seed -> same images and head for every strategy).
    train_set = target.pool.subset(stratified_kshot(target.pool.labels, shots, seed=seed))
    model = build_model(
        source,
        train_set.channels,
        train_set.images.shape[-1],
        len(target.class_names),
        pretrained=strategy != "scratch",
        seed=seed,
        dropout=config.dropout,
    )
    model.to(device)
    configure_strategy(model, strategy, config)
    trainable = count_parameters(model, trainable_only=True)
    bn_before = bn_statistics(model) if strategy in PRETRAINED else None
    stopper = EarlyStopper(model, config.early_stopping, config.patience)
    start = time.perf_counter()
    history: list[dict] = []

    def epoch_hook(row: dict, step: int, total: int) -> bool:
        stopper.update(row["epoch"], row.get("val_acc"))
        if on_progress is not None:
            on_progress(
                ProgressEvent(
                    "epoch",
                    step,
                    total,
                    float(row["epoch"]),
                    row["train_loss"],
                    row["train_acc"],
                    row["seconds"],
                    metrics=dict(row),
                    tag=tag,
                )
            )
        return stopper.triggered

    # 2. Cached phase: a head on frozen features (all of feature extraction; staged's first epochs).
    status, cached, labels = "done", None, None
    if strategy in CACHED:
        head_epochs = (
            config.epochs if strategy == "feature_extraction" else min(config.staged_head_epochs, config.epochs)
        )
        cached = cached_features(model, train_set, target.val, config, seed=seed, device=device)
        labels = {"train": train_set.labels.to(device), "val": target.val.labels.to(device)}
        history, status = train_head_on_features(
            model,
            cached,
            labels,
            config,
            epochs=head_epochs,
            seed=seed,
            device=device,
            start_time=start,
            should_stop=should_stop,
            on_epoch=epoch_hook,
        )
    cached_forward = None
    if strategy == "partial_finetune" and config.cache_prefix:
        phase = train_partial_on_prefix(
            model,
            train_set,
            target,
            config,
            seed=seed,
            device=device,
            start=start,
            should_stop=should_stop,
            on_epoch=epoch_hook,
        )
        if phase is not None:
            history, status, cached, labels, cached_forward = phase
            model.train()  # what the engine leaves behind too (train_on_cache ends in eval mode)
    # 3. Engine phase: everything else (staged: the rest of the epochs with all layers unfrozen).
    if (
        strategy != "feature_extraction"
        and cached_forward is None
        and status == "done"
        and len(history) < config.epochs
    ):
        phase = "full_finetune" if strategy == "staged" else strategy
        status = engine_phase(
            model,
            train_set,
            target,
            config,
            strategy=phase,
            epochs=config.epochs - len(history),
            offset=len(history),
            seed=seed,
            device=device,
            start=start,
            history=history,
            epoch_hook=epoch_hook,
            stopper=stopper,
            should_stop=should_stop,
            tag=tag,
        )
    synchronize(device)
    train_seconds = time.perf_counter() - start
    if status == "cancelled" or should_stop():
        return None  # stopped by request: an unfinished run is not a result (its curve stays in the progress events)
    # 4. Early stopping: test the best-validation weights. 5. Test once.
    stopper.restore()
    same_weights = not (config.early_stopping and stopper.best_state is not None)
    last_val = history[-1].get("val_acc") if history and status == "done" and same_weights else None
    acc = tested_accuracies(
        model,
        strategy,
        train_set,
        target,
        cached,
        labels,
        device,
        cached_forward=cached_forward,
        known_val_acc=last_val,
    )
    preds, true = acc["preds"], target.test.labels.cpu()
    test_acc = (preds == true).float().mean().item() if len(true) else float("nan")
    c = len(target.class_names)
    confusion = torch.bincount(true * c + preds, minlength=c * c).view(c, c).tolist()
    wrong = torch.nonzero(preds != true).flatten()[:48].tolist()
    val_accs = [r["val_acc"] for r in history if r.get("val_acc") is not None]
    final_val = val_accs[-1] if val_accs else float("nan")
    if config.early_stopping and stopper.best_state is not None:
        final_val = stopper.best_acc  # the weights kept are the best ones
    epochs_run = len(history)
    return RunResult(
        strategy=strategy,
        seed=seed,
        shots=shots,
        best_val_acc=max(val_accs) if val_accs else float("nan"),
        final_val_acc=final_val,
        test_acc=test_acc,
        train_seconds=train_seconds,
        trainable_params=trainable,
        history=[
            {k: r.get(k) for k in ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds")}
            for r in history
        ],
        test_loss=acc["test_loss"],
        test_images=len(true),
        shots_used=min(train_set.class_counts()),
        tested_val_acc=acc["val_acc"],
        final_train_acc=acc["train_acc"],
        train_val_gap=acc["train_acc"] - final_val if val_accs else float("nan"),
        seconds_per_epoch=train_seconds / max(1, epochs_run),
        epochs_run=epochs_run,
        best_epoch=stopper.best_epoch,
        status=status,
        total_params=count_parameters(model),
        train_images=len(train_set),
        device=describe_device(device).describe(),
        bn_drift=bn_drift(bn_before, bn_statistics(model)) if bn_before is not None else {},
        confusion=confusion,
        misclassified=[{"index": i, "true": int(true[i]), "pred": int(preds[i])} for i in wrong],
    )


def run_transfer(
    config: TransferConfig | dict,
    *,
    device: torch.device | str,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    on_partial: PartialFn | None = None,
    upload: ImageSet | None = None,
    source_checkpoint_path: Path | None = None,
) -> TransferResult:
    """Every strategy x seed x label budget of ``config``, on the same data draws (same seed -> same k shots).

    ``on_progress`` gets epoch events tagged "strategy/k=../seed=.." with a global step count (for one progress
    bar); ``on_partial`` gets the partial TransferResult (status "running") after every finished run.
    """
    if isinstance(config, dict):
        config = TransferConfig.from_dict(config)
    device = torch.device(device)
    should_stop = should_stop or (lambda: False)
    start = time.perf_counter()
    source = load_source(config, checkpoint_path=source_checkpoint_path)
    target = load_target(config, upload)
    runs = [(k, seed, s) for k in config.shots for seed in config.seeds for s in config.strategies]
    data_info = {
        "target": target.description,
        "pool_images": len(target.pool),
        "val_images": len(target.val),
        "test_images": len(target.test),
        "pool_class_counts": target.pool.class_counts(),
    }
    prov = provenance(
        seed=config.seeds[0] if config.seeds else None,
        device=device,
        data=target.description,
        seeds=list(config.seeds),
        split_seed=config.split_seed,
    )
    out = TransferResult(
        config=config.to_dict(),
        results=[],
        class_names=target.class_names,
        source_info=source.info,
        data_info=data_info,
        provenance=prov,
        status="running",
    )
    total_units = len(runs) * config.epochs  # one progress bar over all runs: each run counts as config.epochs
    done_units = [0] * len(runs)  # runs may train side by side (resnet_core.training.threads): the bar sums them
    progress_lock = threading.Lock()

    def one(item: tuple[int, tuple]) -> RunResult | None:
        i, (k, seed, strategy) = item

        def progress(event: ProgressEvent) -> None:
            if on_progress is None:
                return
            with progress_lock:
                done_units[i] = min(config.epochs, int(event.metrics.get("epoch", event.epoch)))
                on_progress(
                    ProgressEvent(
                        event.kind,
                        sum(done_units),
                        total_units,
                        event.epoch,
                        event.loss,
                        event.acc,
                        time.perf_counter() - start,
                        metrics={**event.metrics, "epochs": config.epochs},
                        tag=event.tag,
                    )
                )

        return run_one(
            strategy,
            seed,
            k,
            config=config,
            source=source,
            target=target,
            device=device,
            on_progress=progress,
            should_stop=should_stop,
        )

    # Dropout draws from torch's global generator, which runs side by side would share: those go one by one.
    n_workers = threads.workers(device) if config.dropout == 0 else 1
    items = list(enumerate(runs))
    cost = [RUN_COST.get(strategy, 0.5) * (k or 1000) for _, (k, _, strategy) in items]
    for r in threads.run_side_by_side(one, items, n_workers=n_workers, should_stop=should_stop, cost=cost):
        if r is None:
            break
        out.results.append(r)
        out.seconds = time.perf_counter() - start
        if on_partial is not None:
            on_partial(TransferResult.from_dict(out.to_dict()))
    out.seconds = time.perf_counter() - start
    if should_stop() or len(out.results) < len(runs):
        out.status, out.message = "cancelled", f"stopped by request after {len(out.results)} of {len(runs)} runs"
    else:
        out.status, out.message = "done", closing_message(out.results, out.seconds)
    return out
