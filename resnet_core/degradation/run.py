"""The degradation problem (He et al. 2016, Fig. 1 and 6): deeper plain nets train *worse*; residual nets do not.

:func:`run_degradation` trains plain and residual nets at two or more depths, for one or more seeds, on the same
data and recipe, and records per epoch:

- ``train_err``: the error on a fixed subset of the training images, measured in eval mode after the epoch (the
  optimisation question: how well do the current weights fit the training data?);
- ``running_train_err``: the running error over the augmented batches of the epoch, while the weights change
  (what He et al. plot; noisier, and biased by augmentation);
- ``test_err`` on the (subset of the) test split.

Verdicts about the result live in :mod:`resnet_core.degradation.report`.
"""

from __future__ import annotations

import dataclasses
import math
import time

import torch

from resnet_core.data import datasets as data_mod
from resnet_core.degradation.config import TRAIN_EVAL_SEED, DegradationConfig
from resnet_core.degradation.result import DegradationResult, DegradationRun, history_row
from resnet_core.experiment import PartialFn, ProgressFn, StopFn
from resnet_core.models import build_cifar_net, count_parameters, parse_depths
from resnet_core.provenance import provenance
from resnet_core.training.engine import ProgressEvent, seeded, train


def degradation_data(config: DegradationConfig, seed: int) -> tuple[data_mod.ImageSet, ...]:
    """(train, test, train_eval): the training subset for this seed, the test subset, and the fixed eval subset
    of the training images actually trained on."""
    splits = data_mod.load_dataset(config.dataset)
    train_set, test_set = splits.train, splits.test
    if config.train_size:
        k = max(1, config.train_size // train_set.num_classes)
        train_set = train_set.subset(data_mod.stratified_kshot(train_set.labels, k, seed=seed))
    if config.test_size:
        k = max(1, config.test_size // test_set.num_classes)
        test_set = test_set.subset(data_mod.stratified_kshot(test_set.labels, k, seed=TRAIN_EVAL_SEED))
    k = max(1, math.ceil(min(config.train_eval_size, len(train_set)) / train_set.num_classes))
    train_eval = train_set.subset(data_mod.stratified_kshot(train_set.labels, k, seed=TRAIN_EVAL_SEED))
    return train_set, test_set, train_eval


def run_degradation(
    config: DegradationConfig | dict,
    *,
    device: torch.device | str = "cpu",
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    on_partial: PartialFn | None = None,
) -> DegradationResult:
    """Train every (seed, depth, variant) with the same data and recipe; record train/test error per epoch.

    Runs go seed by seed, shallow to deep, plain before residual, so a stopped run keeps complete seeds and
    shallow pairs. ``on_progress`` gets the engine's events tagged "plain-20 · seed 1"; ``on_partial`` gets
    the result so far after every epoch.
    """
    if isinstance(config, dict):
        config = DegradationConfig.from_dict(config)
    device = torch.device(device)
    depths = parse_depths(config.depths)
    variants = [v for v in ("plain", "residual") if v in config.variants]
    if not variants:
        raise ValueError("choose plain and/or residual")
    if not config.seeds:
        raise ValueError("give at least one seed")
    prov = provenance(seed=config.seeds[0], device=device, data=config.dataset, seeds=list(config.seeds))
    result = DegradationResult(config=config.to_dict(), runs=[], status="running", provenance=prov)
    start = time.perf_counter()
    for seed in config.seeds:
        train_set, test_set, train_eval = degradation_data(config, seed)
        result.train_images, result.test_images, result.train_eval_images = map(len, (train_set, test_set, train_eval))
        for depth in depths:
            for variant in variants:
                if should_stop is not None and should_stop():
                    result.status = "cancelled"
                    break
                run = _train_one(
                    config,
                    seed,
                    depth,
                    variant == "residual",
                    (train_set, test_set, train_eval),
                    device=device,
                    result=result,
                    start=start,
                    on_progress=on_progress,
                    should_stop=should_stop,
                    on_partial=on_partial,
                )
                if run.status == "cancelled":
                    result.status = "cancelled"
                elif run.status == "diverged":
                    result.status = "diverged"  # keep going: the other runs still mean something
            if result.status == "cancelled":
                break
        if result.status == "cancelled":
            break
    if result.status == "running":
        result.status = "done"
    result.seconds = time.perf_counter() - start
    return result


def _train_one(
    config: DegradationConfig,
    seed: int,
    depth: int,
    residual: bool,
    sets: tuple,
    *,
    device: torch.device,
    result: DegradationResult,
    start: float,
    on_progress: ProgressFn | None,
    should_stop: StopFn | None,
    on_partial: PartialFn | None,
) -> DegradationRun:
    train_set, test_set, train_eval = sets
    model = seeded(
        lambda: build_cifar_net(
            depth,
            residual=residual,
            norm=config.norm,
            activation=config.activation,
            shortcut=config.shortcut,
            width=config.width,
            in_channels=train_set.channels,
            num_classes=train_set.num_classes,
        ),
        seed,
    )
    run = DegradationRun(
        depth=depth, residual=residual, history=[], status="running", parameters=count_parameters(model), seed=seed
    )
    result.runs.append(run)
    tag = f"{run.name} · seed {seed}" if len(config.seeds) > 1 else run.name

    index, runs = len(result.runs) - 1, config.total_runs
    where = {
        "depth": depth,
        "residual": residual,
        "seed": seed,
        "run": index + 1,
        "runs": runs,
        "epochs": config.epochs,
    }

    def progress(event: ProgressEvent) -> None:
        if event.kind == "epoch":
            run.history.append(history_row(event.metrics))
            result.seconds = time.perf_counter() - start
            if on_partial is not None:
                on_partial(result)
        if on_progress is not None:  # one bar for the whole job: every run trains the same number of steps
            on_progress(
                dataclasses.replace(
                    event,
                    step=index * event.total_steps + event.step,
                    total_steps=runs * event.total_steps,
                    metrics={**event.metrics, **where},
                )
            )

    tr = train(
        model,
        train_set,
        config.train_config(seed),
        device=device,
        test_set=test_set,
        on_progress=progress,
        should_stop=should_stop,
        tag=tag,
        extra_eval={"train_eval": train_eval},
    )
    run.history = [history_row(r) for r in tr.history]
    run.status, run.seconds, run.steps, run.message = tr.status, tr.seconds, tr.steps, tr.message
    result.seconds = time.perf_counter() - start
    if on_partial is not None:
        on_partial(result)
    return run
