"""Lesions of a trained CifarNet at test time: which blocks can go, random subsets and swaps, the delete-one sweep,
BatchNorm statistics re-estimated after a lesion, and the path-length arithmetic of Veit et al. (2016).

Pure functions and context managers over a model; :mod:`resnet_core.ablation.run` runs them as an experiment.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from resnet_core.data import datasets as data_mod
from resnet_core.models import CifarNet, deleted_blocks
from resnet_core.training.batching import BatchPreparer, StopFn
from resnet_core.training.numerics import autocast_for


def path_length_distribution(n: int) -> dict:
    """n blocks, each either taken or skipped: C(n, k) of the 2^n paths go through exactly k blocks."""
    counts = [math.comb(n, k) for k in range(n + 1)]
    total = 2**n
    fractions = [c / total for c in counts]
    # The central range holding >= 95% of the paths (k from lo to hi).
    lo, hi, mass = n // 2, n // 2, fractions[n // 2]
    while mass < 0.95 and (lo > 0 or hi < n):
        left = fractions[lo - 1] if lo > 0 else -1.0
        right = fractions[hi + 1] if hi < n else -1.0
        if left >= right:
            lo -= 1
            mass += left
        else:
            hi += 1
            mass += right
    return {
        "n_blocks": n,
        "n_paths": total,
        "lengths": list(range(n + 1)),
        "counts": counts,
        "fractions": fractions,
        "mean_length": n / 2,
        "std_length": math.sqrt(n) / 2,
        "central95": [lo, hi],
        "central95_mass": mass,
    }


def shape_keeping_blocks(model: CifarNet) -> list[int]:
    """Blocks whose input and output shapes match: deletable in residual and plain nets alike."""
    return [i for i, b in enumerate(model.blocks) if not b.downsample]


def swappable_groups(model: CifarNet) -> list[list[int]]:
    """Same-shape blocks, grouped by stage (a swap exchanges two blocks of one group)."""
    groups: dict[int, list[int]] = {}
    for row in model.block_info():
        if not row["downsample"]:
            groups.setdefault(row["stage"], []).append(row["block"])
    return [g for g in groups.values() if len(g) >= 2]


def random_swaps(groups: list[list[int]], count: int, rng: random.Random) -> list[tuple[int, int]]:
    """``count`` random swaps, each of two distinct blocks of one stage (stage chosen ∝ its pair count)."""
    weights = [len(g) * (len(g) - 1) for g in groups]
    pairs = []
    for _ in range(count):
        g = rng.choices(groups, weights=weights)[0]
        i, j = rng.sample(g, 2)
        pairs.append((i, j))
    return pairs


def delete_one_sweep(
    model: CifarNet,
    test: data_mod.ImageSet,
    *,
    device: torch.device,
    batch_size: int = 500,
    should_stop: StopFn | None = None,
    fast: bool = False,
) -> Iterator[tuple[int, dict | None]]:
    """Yield (block, {"loss", "acc"} or None if not removable) for every block, deleting one at a time.

    Same numbers as ``evaluate`` under ``deleted_blocks(model, [i])``, at about half the cost: the intact
    activations entering block i are kept (one tensor per batch, advanced block by block), so deleting block i
    only recomputes blocks i+1..n instead of the whole net. ``fast``: the engine's fast path (bf16 autocast where
    native, channels-last); default fp32, like ``evaluate(fast=False)`` and the manifest's accuracies."""
    model.eval()
    images, labels = test.images.to(device), test.labels.to(device)
    prep = BatchPreparer(images, device=device, fast=fast)
    n = max(1, len(test))
    starts = range(0, len(test), batch_size)
    ys = [labels[s : s + batch_size] for s in starts]
    # Grad mode and autocast are entered around each computation, never across a ``yield``: a generator that
    # yields inside them would leave them switched on in the caller.
    with torch.no_grad(), autocast_for(device, fast):
        xs = [model.stem(prep(images[s : s + batch_size])) for s in starts]
    for i, block in enumerate(model.blocks):
        if should_stop is not None and should_stop():
            return
        if not block.removable:
            yield i, None
        else:
            loss = torch.zeros((), device=device)
            correct = torch.zeros((), device=device, dtype=torch.long)
            with torch.no_grad(), autocast_for(device, fast), deleted_blocks(model, [i]):
                for x, y in zip(xs, ys):
                    h = x
                    for b in model.blocks[i:]:
                        h = b(h)
                    logits = model.fc(torch.flatten(model.pool(h), 1)).float()
                    loss += F.cross_entropy(logits, y, reduction="sum")
                    correct += (logits.argmax(1) == y).sum()
            yield i, {"loss": loss.item() / n, "acc": correct.item() / n}
        if i + 1 < len(model.blocks):
            with torch.no_grad(), autocast_for(device, fast):
                xs = [block(x) for x in xs]


def draw_subsets(pool: list[int], k: int, trials: int, rng: random.Random) -> list[list[int]]:
    """``trials`` random k-subsets of ``pool``; all of them (each once) when there are no more than ``trials``."""
    if math.comb(len(pool), k) <= trials:
        return [list(c) for c in itertools.combinations(pool, k)]
    return [sorted(rng.sample(pool, k)) for _ in range(trials)]


BN_STATS = ("raw", "recompute")


def _bn_layers(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


@contextmanager
def recomputed_bn_stats(model: CifarNet, images: Tensor, *, batch_size: int = 500) -> Iterator[CifarNet]:
    """Re-estimate every BatchNorm layer's running statistics on ``images`` (uint8, on the model's device) for the
    model as it is now (e.g. with blocks deleted), then restore the trained statistics on exit.

    Why: deleting a block changes the distribution reaching every later layer, so the statistics stored at
    training time no longer describe it; evaluating with them mixes two effects (a missing block, stale
    normalisation). The re-estimate is a cumulative average over the batches (``momentum=None``), in fp32.
    """
    layers = _bn_layers(model)
    saved = [
        (bn.momentum, bn.running_mean.clone(), bn.running_var.clone(), bn.num_batches_tracked.clone()) for bn in layers
    ]
    was_training = model.training
    prep = BatchPreparer(images, device=images.device, fast=False)
    try:
        for bn in layers:
            bn.reset_running_stats()
            bn.momentum = None
        model.train()
        with torch.no_grad():
            for start in range(0, len(images), batch_size):
                model(prep(images[start : start + batch_size]))
        model.eval()
        yield model
    finally:
        for bn, (momentum, mean, var, count) in zip(layers, saved):
            bn.momentum = momentum
            bn.running_mean.copy_(mean)
            bn.running_var.copy_(var)
            bn.num_batches_tracked.copy_(count)
        model.train(was_training)


def bn_calibration_images(dataset: str, n: int, *, seed: int = 0) -> Tensor:
    """``n`` class-balanced training images (uint8) for re-estimating BatchNorm statistics."""
    train = data_mod.load_dataset(dataset).train
    k = max(1, math.ceil(n / train.num_classes))
    return train.subset(data_mod.stratified_kshot(train.labels, k, seed=seed)[:n]).images
