"""Gradient flow in plain vs residual nets (He et al. 2016; Balduzzi et al. 2017), measured on real images.

:func:`run_gradients`: for each seed, depth and variant (plain / residual), one forward/backward pass on a
class-balanced batch of training images (optionally after N training steps) gives

- per block, the norm of the gradient reaching its input ||dL/dx|| -- the headline: in a residual block
  y = F(x) + x, so dy/dx = dF/dx + I and the gradient reaches early blocks through the identity path;
  ``first_last_ratio`` = ||dL/dx|| at block 0's input / at the last block's input;
- per main-path conv, ||dL/dW|| and the relative gradient ||dL/dW|| / ||W|| (scale-free, so layers of different
  sizes compare like with like); ``weight_first_last_ratio`` is that relative gradient, block 0's first conv
  over the last block's first conv;
- per block, a random vector-Jacobian-product estimate of the block's input-output gain ||dy/dx||.

Verdicts live in :mod:`resnet_core.gradients.report`.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from resnet_core.data import datasets as data_mod
from resnet_core.experiment import PartialFn, ProgressFn, StopFn
from resnet_core.gradients.config import GradientConfig
from resnet_core.gradients.result import GradientResult, GradientRun, _finite, _finite_list
from resnet_core.models import Block, CifarNet, build_cifar_net, count_parameters, parse_depths, variant_name
from resnet_core.provenance import provenance
from resnet_core.training import threads
from resnet_core.training.engine import ProgressEvent, TrainConfig, seeded, train
from resnet_core.training.numerics import fast_path


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


def block_jacobian_gain(
    block: Block, x: Tensor, *, probes: int, generator: torch.Generator, autocast: Callable = contextlib.nullcontext
) -> float:
    """RMS over Gaussian v of ||J^T v|| / ||v|| for the block's map y(x), J = dy/dx on the batch ``x``.

    E||J^T v||^2 / E||v||^2 = ||J||_F^2 / dim(y): it is 1 for the identity on same-shape tensors and ~0 for a
    map that forgets its input, so it shows how much of the signal (and the gradient) a block passes on.
    """
    x = x.detach().requires_grad_(True)
    with autocast():
        y = block(x)
    num = 0.0
    den = 0.0
    for k in range(probes):
        v = torch.randn(y.shape, generator=generator).to(y.device, y.dtype, memory_format=torch.preserve_format)
        (g,) = torch.autograd.grad(y, x, v, retain_graph=k < probes - 1)
        num += float(g.detach().float().pow(2).sum())  # float32 on the device: MPS has no float64
        den += float(v.float().pow(2).sum())
    return math.sqrt(num / den) if den > 0 else float("nan")


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("inf")


def measure_gradients(
    model: CifarNet,
    images: Tensor,
    labels: Tensor,
    *,
    jacobian_probes: int = 3,
    jacobian_batch: int = 16,
    seed: int = 0,
    fast: bool = False,
) -> dict:
    """One forward/backward pass of ``model`` (in training mode, as during training) on ``images``.

    Returns a dict with the per-layer, per-block numbers of :class:`GradientRun` (without the config fields).
    The model's weights are not changed (BatchNorm running statistics are restored afterwards). ``fast``: the
    engine's fast numerics (the model is moved to channels-last then).
    """
    fp = fast_path(images.device, fast)
    autocast = functools.partial(fp.autocast, images.device)
    if fp.channels_last:
        model.to(memory_format=torch.channels_last)
        images = images.contiguous(memory_format=torch.channels_last)
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
        with autocast():
            logits = model(images)
        loss = F.cross_entropy(logits.float(), labels)
        loss.backward()
    finally:
        for h in handles:
            h.remove()

    convs = main_path_convs(model)
    layer_norms = [float(c.weight.grad.norm()) if c.weight.grad is not None else 0.0 for _, c in convs]
    input_norms = [float(x.grad.float().norm()) if x.grad is not None else 0.0 for x in block_inputs]
    shortcut_norms = []
    for b in model.blocks:
        for m in b.shortcut.modules():
            if isinstance(m, nn.Conv2d) and m.weight.grad is not None:
                shortcut_norms.append(float(m.weight.grad.norm()))
    relative = [
        float(c.weight.grad.norm() / c.weight.detach().norm()) if c.weight.grad is not None else 0.0 for _, c in convs
    ]
    names = [n for n, _ in convs]
    w_first, w_last = (
        relative[names.index("block0.conv1")],
        relative[names.index(f"block{len(model.blocks) - 1}.conv1")],
    )

    gains: list[float] = []
    if jacobian_probes > 0:
        gen = torch.Generator().manual_seed(seed)
        for block, x in zip(model.blocks, block_inputs):
            gains.append(
                block_jacobian_gain(block, x[:jacobian_batch], probes=jacobian_probes, generator=gen, autocast=autocast)
            )
    model.zero_grad(set_to_none=True)
    model.load_state_dict(bn_state, strict=False)
    model.train(was_training)
    return {
        "layer_names": [n for n, _ in convs],
        "layer_grad_norms": _finite_list(layer_norms),
        "block_input_grad_norms": _finite_list(input_norms),
        "block_jacobian_gain": _finite_list(gains),
        "shortcut_grad_norms": _finite_list(shortcut_norms),
        "layer_relative_grads": _finite_list(relative),
        "first_last_ratio": _finite(_ratio(input_norms[0], input_norms[-1])),
        "weight_first_last_ratio": _finite(_ratio(w_first, w_last)),
        "loss": _finite(float(loss.detach())),
    }


def build_pair_model(
    config: GradientConfig, depth: int, residual: bool, *, seed: int, in_channels: int = 1, num_classes: int = 10
) -> CifarNet:
    """The net for one (seed, depth, variant). Plain and residual nets of one seed start from identical
    main-path weights: with option-B shortcuts the projection convs are extra modules, so the main path is
    copied from the plain net of the same seed (otherwise they would draw different random numbers)."""

    def build(res: bool, shortcut: str) -> CifarNet:
        return seeded(
            lambda: build_cifar_net(
                depth,
                residual=res,
                norm=config.norm,
                activation=config.activation,
                shortcut=shortcut,
                width=config.width,
                in_channels=in_channels,
                num_classes=num_classes,
            ),
            seed,
        )

    model = build(residual, config.shortcut)
    if residual and config.shortcut != "A":
        plain = build(False, "A").state_dict()
        own = model.state_dict()
        model.load_state_dict({k: plain[k] if k in plain and plain[k].shape == v.shape else v for k, v in own.items()})
    return model


def run_gradients(
    config: GradientConfig | dict,
    *,
    device: torch.device | str = "cpu",
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    on_partial: PartialFn | None = None,
) -> GradientResult:
    """Measure gradient norms for every depth in ``config.depths`` and every variant in ``config.variants``."""
    if isinstance(config, dict):
        config = GradientConfig.from_dict(config)
    device = torch.device(device)
    depths = parse_depths(config.depths)
    variants = [v for v in config.variants if v in ("plain", "residual")]
    if not variants:
        raise ValueError("choose plain and/or residual")
    if not config.seeds:
        raise ValueError("give at least one seed")
    start = time.perf_counter()
    prov = provenance(seed=config.seeds[0], device=device, data=config.dataset, seeds=list(config.seeds))
    result = GradientResult(config=config.to_dict(), runs=[], status="running", provenance=prov)
    total = len(config.seeds) * len(depths) * len(variants)
    batches = {}
    for seed in config.seeds:
        images, labels, train_set = gradient_batch(config.dataset, config.batch_size, seed)
        batches[seed] = (images.to(device), labels.to(device), train_set)
    items = [(seed, depth, variant) for seed in config.seeds for depth in depths for variant in variants]

    def one(item: tuple[int, int, str]) -> GradientRun | None:
        seed, depth, variant = item
        images, labels, train_set = batches[seed]
        return _measure_one(
            config,
            seed,
            depth,
            variant == "residual",
            images,
            labels,
            train_set,
            device=device,
            should_stop=should_stop,
        )

    # Independent nets: computed side by side on a CPU (resnet_core.training.threads), deepest first; reported in order.
    runs = threads.run_side_by_side(
        one,
        items,
        n_workers=threads.workers(device),
        should_stop=should_stop,
        cost=[float(depth) for _, depth, _ in items],
    )
    for run in runs:
        if run is None:
            break
        result.runs.append(run)
        result.seconds = time.perf_counter() - start
        if on_progress is not None:
            on_progress(
                ProgressEvent(
                    "step",
                    len(result.runs),
                    total,
                    0.0,
                    float("nan"),
                    None,
                    result.seconds,
                    metrics={"depth": run.depth, "residual": run.residual, "seed": run.seed},
                    tag=f"{run.name} · seed {run.seed}",
                )
            )
        if on_partial is not None:
            on_partial(result)
    if len(result.runs) < total:
        result.status = "cancelled"
        result.seconds = time.perf_counter() - start
        return result
    result.status = "done"
    result.seconds = time.perf_counter() - start
    return result


def _measure_one(
    config: GradientConfig,
    seed: int,
    depth: int,
    residual: bool,
    images: Tensor,
    labels: Tensor,
    train_set: data_mod.ImageSet,
    *,
    device: torch.device,
    should_stop: StopFn | None,
) -> GradientRun | None:
    """Build (and optionally train) one net and measure it; None when stopped during its training steps."""
    t0 = time.perf_counter()
    model = build_pair_model(
        config, depth, residual, seed=seed, in_channels=train_set.channels, num_classes=train_set.num_classes
    ).to(device)
    steps_done = 0
    if config.train_steps > 0:
        steps_per_epoch = max(1, len(train_set) // config.batch_size)
        tc = TrainConfig(
            epochs=math.ceil(config.train_steps / steps_per_epoch),
            batch_size=config.batch_size,
            lr=config.lr,
            seed=seed,
            max_steps=config.train_steps,
            eval_every_epoch=False,
            log_every=max(1, min(20, config.train_steps)),
        )
        tr = train(model, train_set, tc, device=device, should_stop=should_stop, tag=variant_name(residual, depth))
        steps_done = tr.steps
        if tr.status == "cancelled":
            return None
    measured = measure_gradients(
        model,
        images,
        labels,
        jacobian_probes=config.jacobian_probes,
        jacobian_batch=config.jacobian_batch,
        seed=seed,
        fast=config.fast,
    )
    return GradientRun(
        depth=depth,
        residual=residual,
        norm=config.norm,
        activation=config.activation,
        shortcut=config.shortcut,
        train_steps=steps_done,
        seconds=time.perf_counter() - t0,
        parameters=count_parameters(model),
        seed=seed,
        **measured,
    )
