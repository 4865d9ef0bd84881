"""The degradation problem (He et al. 2016, Fig. 1 and 6): deeper plain nets train *worse*; residual nets do not.

:func:`run_degradation` trains plain and residual nets at two or more depths, for one or more seeds, on the same
data and recipe, and records per epoch:

- ``train_err``: the error on a fixed subset of the training images, measured in eval mode after the epoch (the
  optimisation question: how well do the current weights fit the training data?);
- ``running_train_err``: the running error over the augmented batches of the epoch, while the weights change
  (what He et al. plot; noisier, and biased by augmentation);
- ``test_err`` on the (subset of the) test split.

Verdicts about the result live in :mod:`resnet_core.reports.degradation`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch

from resnet_core import data as data_mod
from resnet_core.engine import HYPERPARAMS, ProgressEvent, TrainConfig, seeded, train
from resnet_core.models import build_cifar_net, count_parameters, parse_depths, variant_name

ProgressFn = Callable[[ProgressEvent], None]
StopFn = Callable[[], bool]

DEFAULT_DEGRADATION_DEPTHS = [20, 56]
TRAIN_EVAL_SEED = 4242  # the fixed training subset scored in eval mode does not move with the run seed


@dataclass
class DegradationConfig:
    depths: list[int] = field(default_factory=lambda: list(DEFAULT_DEGRADATION_DEPTHS))
    variants: list[str] = field(default_factory=lambda: ["plain", "residual"])
    dataset: str = "bundled"
    train_size: int | None = None  # stratified subset of the training split (None = all of it)
    test_size: int | None = None  # stratified subset of the test split evaluated every epoch (None = all)
    train_eval_size: int = 1000  # fixed subset of the training images scored in eval mode after every epoch
    epochs: int = HYPERPARAMS["epochs"]
    batch_size: int = HYPERPARAMS["batch_size"]
    lr: float = HYPERPARAMS["lr"]
    weight_decay: float = HYPERPARAMS["weight_decay"]
    schedule: str = HYPERPARAMS["schedule"]
    augment: bool = HYPERPARAMS["augment"]
    norm: str = "batch"
    activation: str = "relu"
    shortcut: str = "A"
    width: int = 16
    seeds: list[int] = field(default_factory=lambda: [0])
    max_steps: int | None = None
    log_every: int = HYPERPARAMS["log_every"]  # steps between live progress events

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> DegradationConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        if "seeds" not in d and "seed" in d:  # files written before multi-seed runs
            known["seeds"] = [int(d["seed"])]
        return cls(**known)

    def train_config(self, seed: int) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            schedule=self.schedule,
            augment=self.augment,
            seed=seed,
            max_steps=self.max_steps,
            log_every=self.log_every,
        )

    @property
    def total_runs(self) -> int:
        return len(self.depths) * len(self.variants) * len(self.seeds)


@dataclass
class DegradationRun:
    depth: int
    residual: bool
    history: list[dict]  # per epoch: epoch, train_err, running_train_err, test_err (+ step, losses, seconds)
    status: str = "done"
    seconds: float = 0.0
    steps: int = 0
    parameters: int = 0
    message: str = ""
    seed: int = 0

    @property
    def name(self) -> str:
        return variant_name(self.residual, self.depth)

    @property
    def final(self) -> dict:
        return self.history[-1] if self.history else {}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> DegradationRun:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class DegradationResult:
    config: dict
    runs: list[DegradationRun]
    status: str = "done"  # running (partial) | done | cancelled | diverged (when any run diverged)
    seconds: float = 0.0
    train_images: int = 0
    test_images: int = 0
    train_eval_images: int = 0
    provenance: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "config": self.config,
            "runs": [r.to_dict() for r in self.runs],
            "status": self.status,
            "seconds": self.seconds,
            "train_images": self.train_images,
            "test_images": self.test_images,
            "train_eval_images": self.train_eval_images,
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, d: dict) -> DegradationResult:
        config = dict(d.get("config", {}))
        if "seeds" not in config and "seed" in config:
            config["seeds"] = [int(config["seed"])]
        runs = [DegradationRun.from_dict({"seed": config.get("seeds", [0])[0], **r}) for r in d.get("runs", [])]
        return cls(
            config=config,
            runs=runs,
            status=d.get("status", "done"),
            seconds=d.get("seconds", 0.0),
            train_images=d.get("train_images", 0),
            test_images=d.get("test_images", 0),
            train_eval_images=d.get("train_eval_images", 0),
            provenance=dict(d.get("provenance", {})),
        )

    @property
    def seeds(self) -> list[int]:
        return sorted({r.seed for r in self.runs})

    @property
    def complete(self) -> bool:
        """Every configured run finished (done or diverged): only then may a verdict be drawn."""
        expected = DegradationConfig.from_dict(self.config).total_runs
        finished = [r for r in self.runs if r.status in ("done", "diverged")]
        return self.status in ("done", "diverged") and len(finished) == expected

    def run(self, depth: int, residual: bool, seed: int | None = None) -> DegradationRun | None:
        for r in self.runs:
            if r.depth == depth and r.residual == residual and (seed is None or r.seed == seed):
                return r
        return None


def history_row(row: dict) -> dict:
    """An engine history row with the error rates the degradation plots use."""
    out = dict(row)
    out["running_train_err"] = 1.0 - row["train_acc"]
    # Eval-mode error on the fixed training subset; files from before it existed fall back to the running one.
    out["train_err"] = 1.0 - row["train_eval_acc"] if "train_eval_acc" in row else out["running_train_err"]
    if "test_acc" in row:
        out["test_err"] = 1.0 - row["test_acc"]
    return out


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
    on_partial: Callable[[DegradationResult], None] | None = None,
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
    result = DegradationResult(config=config.to_dict(), runs=[], status="running")
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
    on_partial: Callable | None,
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

    def progress(event: ProgressEvent) -> None:
        if event.kind == "epoch":
            run.history.append(history_row(event.metrics))
            result.seconds = time.perf_counter() - start
            if on_partial is not None:
                on_partial(result)
        if on_progress is not None:
            on_progress(event)

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


def merge_results(parts: list[DegradationResult]) -> DegradationResult:
    """One result from runs of the same configuration over different seeds (e.g. run in parallel processes).

    Refuses parts whose configurations differ in anything but the seeds, or that repeat a seed."""
    if not parts:
        raise ValueError("nothing to merge")
    base = {k: v for k, v in parts[0].config.items() if k != "seeds"}
    seeds: list[int] = []
    for p in parts:
        other = {k: v for k, v in p.config.items() if k != "seeds"}
        if other != base:
            diff = sorted(k for k in set(base) | set(other) if base.get(k) != other.get(k))
            raise ValueError(f"cannot merge results whose configurations differ in {', '.join(diff)}")
        part_seeds = list(p.config.get("seeds") or p.seeds)
        if set(part_seeds) & set(seeds):
            raise ValueError(f"seed {sorted(set(part_seeds) & set(seeds))[0]} appears in more than one part")
        seeds += part_seeds
    statuses = {p.status for p in parts}
    status = (
        "cancelled"
        if "cancelled" in statuses
        else "running"
        if "running" in statuses
        else ("diverged" if "diverged" in statuses else "done")
    )
    return DegradationResult(
        config={**base, "seeds": seeds},
        runs=[r for p in parts for r in p.runs],
        status=status,
        seconds=sum(p.seconds for p in parts),
        train_images=parts[0].train_images,
        test_images=parts[0].test_images,
        train_eval_images=parts[0].train_eval_images,
        provenance={"parts": [p.provenance for p in parts]},
    )
