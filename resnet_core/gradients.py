"""Gradient flow in plain vs residual nets, and the degradation problem (He et al. 2016, Fig. 1/6).

Two experiments, both callable from the CLI (``python -m resnet_core gradients|degradation``) and from the app:

- :func:`run_gradients`: for each depth and variant (plain / residual), one forward/backward pass on a real
  batch of training images (optionally after N training steps) gives, per conv layer, the gradient norm
  ||dL/dW||; per block, the norm of the gradient reaching its input ||dL/dx||; and per block a random
  vector-Jacobian-product estimate of the block's input-output gain ||dy/dx|| (where the identity path shows:
  for a residual block y = act(F(x) + x), so dy/dx = act' (dF/dx + I)).
- :func:`run_degradation`: train plain and residual nets at two or more depths on the same data, recipe and
  seed, and record training and test error per epoch.

Nothing here imports streamlit; the page (``pages/gradient_flow.py``) only lays out widgets and plots.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from resnet_core import data as data_mod
from resnet_core.engine import HYPERPARAMS, ProgressEvent, TrainConfig, seeded, train
from resnet_core.models import Block, CifarNet, blocks_per_stage, build_cifar_net, count_parameters

ProgressFn = Callable[[ProgressEvent], None]
StopFn = Callable[[], bool]

DEFAULT_GRADIENT_DEPTHS = [8, 20, 56, 110]
DEFAULT_DEGRADATION_DEPTHS = [20, 56]


def _finite(x: float | None) -> float | None:
    """JSON has no inf/NaN: a non-finite measurement is stored as None (and shown as 'not finite')."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _finite_list(xs: list[float]) -> list[float | None]:
    return [_finite(x) for x in xs]


def variant_name(residual: bool, depth: int) -> str:
    return f"{'residual' if residual else 'plain'}-{depth}"


def parse_depths(text: str | list[int]) -> list[int]:
    depths = [int(d) for d in text.split(",") if d.strip()] if isinstance(text, str) else [int(d) for d in text]
    for d in depths:
        blocks_per_stage(d)  # raises ValueError with a helpful message for a depth that is not 6n+2
    if not depths:
        raise ValueError("give at least one depth")
    return depths


# ============================================================================================ gradients


@dataclass
class GradientConfig:
    depths: list[int] = field(default_factory=lambda: list(DEFAULT_GRADIENT_DEPTHS))
    variants: list[str] = field(default_factory=lambda: ["plain", "residual"])
    norm: str = "batch"
    activation: str = "relu"
    shortcut: str = "A"
    width: int = 16
    batch_size: int = 64
    seed: int = 0
    dataset: str = "bundled"
    train_steps: int = 0  # 0 = measure at initialisation; N = after N steps of the default recipe
    lr: float = HYPERPARAMS["lr"]
    jacobian_probes: int = 3  # random vectors per block for the ||dy/dx|| estimate (0 = skip it)
    jacobian_batch: int = 16  # images used for the Jacobian estimate (a sub-batch: it costs one backward each)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> GradientConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class GradientRun:
    depth: int
    residual: bool
    norm: str
    activation: str
    shortcut: str
    layer_names: list[str]
    layer_grad_norms: list[float | None]  # ||dL/dW|| for every main-path conv (stem, then conv1/conv2 per block)
    block_input_grad_norms: list[float | None]  # ||dL/dx|| at each block's input
    block_jacobian_gain: list[float | None]  # RMS ||J^T v|| / ||v|| over random v: ~1 for an identity map
    first_last_ratio: float | None  # ||dL/dW|| of blocks[0].conv1 / ||dL/dW|| of blocks[-1].conv1
    loss: float | None
    train_steps: int = 0
    seconds: float = 0.0
    parameters: int = 0
    shortcut_grad_norms: list[float | None] = field(default_factory=list)  # option-B projections, if any

    @property
    def name(self) -> str:
        return variant_name(self.residual, self.depth)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> GradientRun:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class GradientResult:
    config: dict
    runs: list[GradientRun]
    status: str = "done"  # done | cancelled
    seconds: float = 0.0
    provenance: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"config": self.config, "runs": [r.to_dict() for r in self.runs], "status": self.status,
                "seconds": self.seconds, "provenance": self.provenance}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict) -> GradientResult:
        return cls(config=dict(d.get("config", {})), runs=[GradientRun.from_dict(r) for r in d.get("runs", [])],
                   status=d.get("status", "done"), seconds=d.get("seconds", 0.0),
                   provenance=dict(d.get("provenance", {})))  # fmt: skip

    def run(self, depth: int, residual: bool) -> GradientRun | None:
        for r in self.runs:
            if r.depth == depth and r.residual == residual:
                return r
        return None


def gradient_batch(dataset: str, batch_size: int, seed: int) -> tuple[Tensor, Tensor, data_mod.ImageSet]:
    """A class-balanced batch of real training images (normalised float) with labels, and the train split."""
    train_set = data_mod.load_dataset(dataset).train
    k = max(1, math.ceil(batch_size / train_set.num_classes))
    idx = data_mod.stratified_kshot(train_set.labels, k, seed=seed)[:batch_size]
    batch = train_set.subset(idx)
    mean, std = data_mod.DATASET_STATS.get(batch.channels, data_mod.DATASET_STATS[1])
    return data_mod.normalize(batch.images, mean, std), batch.labels, train_set


def main_path_convs(model: CifarNet) -> list[tuple[str, nn.Conv2d]]:
    """The convs along the main path in forward order: the stem, then each block's conv1 and conv2."""
    convs = [("stem", model.stem[0])]
    for i, block in enumerate(model.blocks):
        convs += [(f"block{i}.conv1", block.conv1), (f"block{i}.conv2", block.conv2)]
    return convs


def block_jacobian_gain(block: Block, x: Tensor, *, probes: int, generator: torch.Generator) -> float:
    """RMS over Gaussian v of ||J^T v|| / ||v|| for the block's map y(x), J = dy/dx on the batch ``x``.

    E||J^T v||^2 / E||v||^2 = ||J||_F^2 / dim(y): it is 1 for the identity on same-shape tensors and ~0 for a
    map that forgets its input, so it shows how much of the signal (and the gradient) a block passes on.
    """
    x = x.detach().requires_grad_(True)
    y = block(x)
    num = 0.0
    den = 0.0
    for k in range(probes):
        v = torch.randn(y.shape, generator=generator, dtype=y.dtype).to(y.device)
        (g,) = torch.autograd.grad(y, x, v, retain_graph=k < probes - 1)
        num += float(g.double().pow(2).sum())
        den += float(v.double().pow(2).sum())
    return math.sqrt(num / den) if den > 0 else float("nan")


def measure_gradients(
    model: CifarNet,
    images: Tensor,
    labels: Tensor,
    *,
    jacobian_probes: int = 3,
    jacobian_batch: int = 16,
    seed: int = 0,
) -> dict:
    """One forward/backward pass of ``model`` (in training mode, as during training) on ``images``.

    Returns a dict with the per-layer, per-block numbers of :class:`GradientRun` (without the config fields).
    The model's weights are not changed (BatchNorm running statistics are restored afterwards).
    """
    was_training = model.training
    bn_state = {k: v.clone() for k, v in model.state_dict().items() if "running" in k or "num_batches" in k}
    model.train()
    model.zero_grad(set_to_none=True)
    block_inputs: list[Tensor] = []

    def grab_input(_module: nn.Module, inputs: tuple[Tensor, ...]) -> None:
        x = inputs[0]
        if x.requires_grad:
            x.retain_grad()
        block_inputs.append(x)

    handles = [b.register_forward_pre_hook(grab_input) for b in model.blocks]
    try:
        logits = model(images)
        loss = F.cross_entropy(logits.float(), labels)
        loss.backward()
    finally:
        for h in handles:
            h.remove()

    convs = main_path_convs(model)
    layer_norms = [float(c.weight.grad.norm()) if c.weight.grad is not None else 0.0 for _, c in convs]
    input_norms = [float(x.grad.norm()) if x.grad is not None else 0.0 for x in block_inputs]
    shortcut_norms = []
    for b in model.blocks:
        for m in b.shortcut.modules():
            if isinstance(m, nn.Conv2d) and m.weight.grad is not None:
                shortcut_norms.append(float(m.weight.grad.norm()))
    first = float(model.blocks[0].conv1.weight.grad.norm())
    last = float(model.blocks[-1].conv1.weight.grad.norm())
    ratio = first / last if last > 0 else float("inf")

    gains: list[float] = []
    if jacobian_probes > 0:
        gen = torch.Generator().manual_seed(seed)
        for block, x in zip(model.blocks, block_inputs):
            gains.append(block_jacobian_gain(block, x[:jacobian_batch], probes=jacobian_probes, generator=gen))
    model.zero_grad(set_to_none=True)
    model.load_state_dict(bn_state, strict=False)
    model.train(was_training)
    return {
        "layer_names": [n for n, _ in convs],
        "layer_grad_norms": _finite_list(layer_norms),
        "block_input_grad_norms": _finite_list(input_norms),
        "block_jacobian_gain": _finite_list(gains),
        "shortcut_grad_norms": _finite_list(shortcut_norms),
        "first_last_ratio": _finite(ratio),
        "loss": _finite(float(loss.detach())),
    }


def build_pair_model(config: GradientConfig, depth: int, residual: bool, *, in_channels: int = 1,
                     num_classes: int = 10) -> CifarNet:  # fmt: skip
    """The net for one (depth, variant); same seed -> plain and residual start from identical conv weights."""
    return seeded(lambda: build_cifar_net(depth, residual=residual, norm=config.norm, activation=config.activation,
                                          shortcut=config.shortcut, width=config.width, in_channels=in_channels,
                                          num_classes=num_classes), config.seed)  # fmt: skip


def run_gradients(
    config: GradientConfig | dict,
    *,
    device: torch.device | str = "cpu",
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    on_partial: Callable[[GradientResult], None] | None = None,
) -> GradientResult:
    """Measure gradient norms for every depth in ``config.depths`` and every variant in ``config.variants``."""
    if isinstance(config, dict):
        config = GradientConfig.from_dict(config)
    device = torch.device(device)
    depths = parse_depths(config.depths)
    variants = [v for v in config.variants if v in ("plain", "residual")]
    if not variants:
        raise ValueError("choose plain and/or residual")
    start = time.perf_counter()
    images, labels, train_set = gradient_batch(config.dataset, config.batch_size, config.seed)
    images, labels = images.to(device), labels.to(device)
    result = GradientResult(config=config.to_dict(), runs=[])
    total = len(depths) * len(variants)
    for depth in depths:
        for variant in variants:
            if should_stop is not None and should_stop():
                result.status = "cancelled"
                result.seconds = time.perf_counter() - start
                return result
            residual = variant == "residual"
            t0 = time.perf_counter()
            model = build_pair_model(config, depth, residual, in_channels=train_set.channels,
                                     num_classes=train_set.num_classes).to(device)  # fmt: skip
            steps_done = 0
            if config.train_steps > 0:
                steps_per_epoch = max(1, len(train_set) // config.batch_size)
                tc = TrainConfig(epochs=math.ceil(config.train_steps / steps_per_epoch), batch_size=config.batch_size,
                                 lr=config.lr, seed=config.seed, max_steps=config.train_steps, eval_every_epoch=False,
                                 log_every=max(1, min(20, config.train_steps)))  # fmt: skip
                tr = train(model, train_set, tc, device=device, should_stop=should_stop,
                           tag=variant_name(residual, depth))  # fmt: skip
                steps_done = tr.steps
                if tr.status == "cancelled":
                    result.status = "cancelled"
                    result.seconds = time.perf_counter() - start
                    return result
            measured = measure_gradients(model, images, labels, jacobian_probes=config.jacobian_probes,
                                         jacobian_batch=config.jacobian_batch, seed=config.seed)  # fmt: skip
            run = GradientRun(depth=depth, residual=residual, norm=config.norm, activation=config.activation,
                              shortcut=config.shortcut, train_steps=steps_done, seconds=time.perf_counter() - t0,
                              parameters=count_parameters(model), **measured)  # fmt: skip
            result.runs.append(run)
            result.seconds = time.perf_counter() - start
            if on_progress is not None:
                on_progress(ProgressEvent("step", len(result.runs), total, 0.0, run.loss or float("nan"), None,
                                          result.seconds, metrics={"first_last_ratio": run.first_last_ratio},
                                          tag=run.name))  # fmt: skip
            if on_partial is not None:
                on_partial(result)
    result.seconds = time.perf_counter() - start
    return result


# ========================================================================================== degradation


@dataclass
class DegradationConfig:
    depths: list[int] = field(default_factory=lambda: list(DEFAULT_DEGRADATION_DEPTHS))
    variants: list[str] = field(default_factory=lambda: ["plain", "residual"])
    dataset: str = "bundled"
    train_size: int | None = None  # stratified subset of the training split (None = all of it)
    test_size: int | None = None  # stratified subset of the test split evaluated every epoch (None = all)
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
    seed: int = 0
    max_steps: int | None = None
    log_every: int = HYPERPARAMS["log_every"]  # steps between live progress events

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> DegradationConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def train_config(self) -> TrainConfig:
        return TrainConfig(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, weight_decay=self.weight_decay,
                           schedule=self.schedule, augment=self.augment, seed=self.seed,
                           max_steps=self.max_steps, log_every=self.log_every)  # fmt: skip


@dataclass
class DegradationRun:
    depth: int
    residual: bool
    history: list[dict]  # per epoch: epoch, train_loss, train_err, test_err (+ step, test_loss, seconds, ...)
    status: str = "done"
    seconds: float = 0.0
    steps: int = 0
    parameters: int = 0
    message: str = ""

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
    provenance: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"config": self.config, "runs": [r.to_dict() for r in self.runs], "status": self.status,
                "seconds": self.seconds, "train_images": self.train_images, "test_images": self.test_images,
                "provenance": self.provenance}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict) -> DegradationResult:
        return cls(config=dict(d.get("config", {})), runs=[DegradationRun.from_dict(r) for r in d.get("runs", [])],
                   status=d.get("status", "done"), seconds=d.get("seconds", 0.0),
                   train_images=d.get("train_images", 0), test_images=d.get("test_images", 0),
                   provenance=dict(d.get("provenance", {})))  # fmt: skip

    def run(self, depth: int, residual: bool) -> DegradationRun | None:
        for r in self.runs:
            if r.depth == depth and r.residual == residual:
                return r
        return None


def history_row(row: dict) -> dict:
    """An engine history row with the error rates the degradation plots use."""
    out = dict(row)
    out["train_err"] = 1.0 - row["train_acc"]
    if "test_acc" in row:
        out["test_err"] = 1.0 - row["test_acc"]
    return out


def degradation_data(config: DegradationConfig) -> tuple[data_mod.ImageSet, data_mod.ImageSet]:
    splits = data_mod.load_dataset(config.dataset)
    train_set, test_set = splits.train, splits.test
    if config.train_size:
        k = max(1, config.train_size // train_set.num_classes)
        train_set = train_set.subset(data_mod.stratified_kshot(train_set.labels, k, seed=config.seed))
    if config.test_size:
        k = max(1, config.test_size // test_set.num_classes)
        test_set = test_set.subset(data_mod.stratified_kshot(test_set.labels, k, seed=config.seed))
    return train_set, test_set


def run_degradation(
    config: DegradationConfig | dict,
    *,
    device: torch.device | str = "cpu",
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    on_partial: Callable[[DegradationResult], None] | None = None,
) -> DegradationResult:
    """Train every (depth, variant) with the same data, recipe and seed; record train/test error per epoch.

    Runs go shallow to deep, plain before residual, so a stopped run keeps complete shallow pairs.
    ``on_progress`` gets the engine's events tagged with the run's name ("plain-20", ...); ``on_partial`` gets
    the result so far after every epoch.
    """
    if isinstance(config, dict):
        config = DegradationConfig.from_dict(config)
    device = torch.device(device)
    depths = parse_depths(config.depths)
    variants = [v for v in ("plain", "residual") if v in config.variants]
    if not variants:
        raise ValueError("choose plain and/or residual")
    train_set, test_set = degradation_data(config)
    tc = config.train_config()
    result = DegradationResult(config=config.to_dict(), runs=[], status="running", train_images=len(train_set),
                               test_images=len(test_set))  # fmt: skip
    start = time.perf_counter()
    for depth in depths:
        for variant in variants:
            if should_stop is not None and should_stop():
                result.status = "cancelled"
                break
            residual = variant == "residual"
            model = seeded(lambda: build_cifar_net(depth, residual=residual, norm=config.norm,
                                                   activation=config.activation, shortcut=config.shortcut,
                                                   width=config.width, in_channels=train_set.channels,
                                                   num_classes=train_set.num_classes), config.seed)  # fmt: skip
            run = DegradationRun(depth=depth, residual=residual, history=[], status="running",
                                 parameters=count_parameters(model))  # fmt: skip
            result.runs.append(run)

            def progress(event: ProgressEvent, run: DegradationRun = run) -> None:
                if event.kind == "epoch":
                    run.history.append(history_row(event.metrics))
                    result.seconds = time.perf_counter() - start
                    if on_partial is not None:
                        on_partial(result)
                if on_progress is not None:
                    on_progress(event)

            tr = train(model, train_set, tc, device=device, test_set=test_set, on_progress=progress,
                       should_stop=should_stop, tag=run.name)  # fmt: skip
            run.history = [history_row(r) for r in tr.history]
            run.status, run.seconds, run.steps, run.message = tr.status, tr.seconds, tr.steps, tr.message
            result.seconds = time.perf_counter() - start
            if on_partial is not None:
                on_partial(result)
            if tr.status == "cancelled":
                result.status = "cancelled"
                break
            if tr.status == "diverged":
                result.status = "diverged"  # keep going: the other runs still mean something
        if result.status == "cancelled":
            break
    if result.status == "running":
        result.status = "done"
    result.seconds = time.perf_counter() - start
    return result


# ================================================================================================= CLI


def _print_gradient_run(run: GradientRun) -> None:
    ratio = run.first_last_ratio
    first_in = run.block_input_grad_norms[0] if run.block_input_grad_norms else None
    gains = [g for g in run.block_jacobian_gain if g is not None]
    gain = f"{sum(gains) / len(gains):.3f}" if gains else "-"
    print(f"  {run.name:<13} first/last ||dL/dW|| {('%.3g' % ratio) if ratio is not None else 'not finite':>10}   "
          f"||dL/dx|| at block 0 {('%.3g' % first_in) if first_in is not None else '-':>10}   "
          f"mean block gain {gain}   [{run.seconds:.2f}s]", flush=True)  # fmt: skip


def cmd_gradients(args: argparse.Namespace) -> int:
    from resnet_core.devices import pick_device
    from resnet_core.provenance import provenance, write_json

    device = pick_device(args.device)
    variants = ["plain", "residual"] if args.variants == "both" else [args.variants]
    config = GradientConfig(depths=parse_depths(args.depths), variants=variants, norm=args.norm,
                            activation=args.activation, shortcut=args.shortcut, width=args.width,
                            batch_size=args.batch_size, seed=args.seed, dataset=args.dataset,
                            train_steps=args.steps, jacobian_probes=args.probes)  # fmt: skip
    print(f"gradient norms on {args.dataset} (batch {args.batch_size}), norm={args.norm}, activation={args.activation}, "
          f"{'at initialisation' if not args.steps else f'after {args.steps} training steps'}", flush=True)  # fmt: skip
    result = run_gradients(config, device=device, on_partial=lambda r: _print_gradient_run(r.runs[-1]))
    result.provenance = provenance(seed=args.seed, device=device, data=args.dataset)
    print(f"{len(result.runs)} runs in {result.seconds:.1f}s")
    if args.json:
        write_json(args.json, result.to_dict())
        print(f"wrote {args.json}")
    return 0


def cmd_degradation(args: argparse.Namespace) -> int:
    from resnet_core.commands.common import print_progress
    from resnet_core.devices import describe_device, pick_device
    from resnet_core.provenance import provenance, write_json

    device = pick_device(args.device)
    variants = ["plain", "residual"] if args.variants == "both" else [args.variants]
    config = DegradationConfig(depths=parse_depths(args.depths), variants=variants, dataset=args.dataset,
                               train_size=args.train_size, test_size=args.test_size, epochs=args.epochs,
                               batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
                               schedule=args.schedule, augment=not args.no_augment, norm=args.norm,
                               width=args.width, seed=args.seed, max_steps=args.max_steps)  # fmt: skip
    print(f"degradation: depths {config.depths}, {'/'.join(variants)}, {args.dataset}, {args.epochs} epochs, "
          f"on {describe_device(device).describe()}", flush=True)  # fmt: skip
    current = {"tag": None}

    def progress(event: ProgressEvent) -> None:
        if event.tag != current["tag"]:
            current["tag"] = event.tag
            print(f"{event.tag}:", flush=True)
        print_progress(event)

    prov = provenance(seed=args.seed, device=device, data=args.dataset)

    def save(result: DegradationResult) -> None:
        if args.json:
            result.provenance = prov
            write_json(args.json, result.to_dict())

    result = run_degradation(config, device=device, on_progress=progress, on_partial=save)
    result.provenance = prov
    print(f"\n{'run':<13} {'train err':>9} {'test err':>9} {'seconds':>8}")
    for run in result.runs:
        f = run.final
        print(f"{run.name:<13} {f.get('train_err', float('nan')):>9.4f} {f.get('test_err', float('nan')):>9.4f} "
              f"{run.seconds:>8.1f}  {run.status}")  # fmt: skip
    if args.json:
        write_json(args.json, result.to_dict())
        print(f"wrote {args.json}")
    return 0 if result.status == "done" else 3


def register_cli(subparsers: Any) -> None:
    from resnet_core.commands.common import add_common

    p = subparsers.add_parser("gradients", help="gradient norms by depth, plain vs residual (at init or after N steps)")
    add_common(p)
    p.add_argument("--depths", default="8,20,56,110", help="comma-separated 6n+2 depths")
    p.add_argument("--variants", choices=["both", "plain", "residual"], default="both")
    p.add_argument("--norm", choices=["batch", "none"], default="batch")
    p.add_argument("--activation", choices=["relu", "tanh", "sigmoid"], default="relu")
    p.add_argument("--shortcut", choices=["A", "B"], default="A")
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--dataset", choices=sorted(data_mod.DATASETS), default="bundled")
    p.add_argument("--steps", type=int, default=0, help="training steps before measuring (0 = at initialisation)")
    p.add_argument("--probes", type=int, default=3, help="random vectors per block for the ||dy/dx|| estimate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, default=None)
    p.set_defaults(func=cmd_gradients)

    p = subparsers.add_parser("degradation", help="train plain and residual nets at several depths (He et al. Fig. 6)")
    add_common(p)
    p.add_argument("--depths", default="20,56", help="comma-separated 6n+2 depths")
    p.add_argument("--variants", choices=["both", "plain", "residual"], default="both")
    p.add_argument("--dataset", choices=sorted(data_mod.DATASETS), default="bundled")
    p.add_argument("--train-size", type=int, default=None, help="stratified subset of the training split")
    p.add_argument("--test-size", type=int, default=None, help="stratified subset of the test split")
    p.add_argument("--epochs", type=int, default=HYPERPARAMS["epochs"])
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=HYPERPARAMS["batch_size"])
    p.add_argument("--lr", type=float, default=HYPERPARAMS["lr"])
    p.add_argument("--weight-decay", type=float, default=HYPERPARAMS["weight_decay"])
    p.add_argument("--schedule", choices=["onecycle", "cosine", "step", "constant"], default=HYPERPARAMS["schedule"])
    p.add_argument("--no-augment", action="store_true")
    p.add_argument("--norm", choices=["batch", "none"], default="batch")
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, default=None)
    p.set_defaults(func=cmd_degradation)
