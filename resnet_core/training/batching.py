"""Getting images into a model: batch preparation on the device (augment, normalise, memory format), index
batches, evaluation batch sizes, and evaluation itself. The training loop (:mod:`resnet_core.training.engine`) and every
experiment share these."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from resnet_core.data.datasets import DATASET_STATS, ImageSet, augment, normalize
from resnet_core.training.numerics import autocast_for, fast_path

EVAL_BATCH_SIZE = 1024  # images per evaluation batch at the lab's image sizes (eval_batch_size scales it)
StopFn = Callable[[], bool]


class BatchPreparer:
    """uint8 images on the device -> (augmented) normalised float batches in the right memory format."""

    def __init__(self, images: Tensor, *, device: torch.device, fast: bool, generator: torch.Generator | None = None):
        self.mean, self.std = DATASET_STATS.get(images.shape[1], DATASET_STATS[1])
        self.channels_last = fast_path(device, fast).channels_last
        self.generator = generator

    def __call__(self, images: Tensor, *, train_augment: bool = False, pad: int = 2, flip: bool = True) -> Tensor:
        if train_augment:
            images = augment(images, pad=pad, flip=flip, generator=self.generator)
        x = normalize(images, self.mean, self.std)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x


def eval_batch_size(image_size: int, base: int = EVAL_BATCH_SIZE, base_size: int = 64) -> int:
    """Evaluation / feature-extraction batch for images of ``image_size`` pixels: ``base`` images up to
    ``base_size`` px, then fewer (a power of two, at least 16) so that a batch holds about as many pixels: 512
    images of 224 px would be ~3 GB of activations (double in fp32 on MPS)."""
    if image_size <= base_size:
        return base
    fit = int(base * (base_size / image_size) ** 2)
    return max(16, 1 << max(0, fit.bit_length() - 1))


def device_generator(device: torch.device, seed: int) -> torch.Generator | None:
    try:
        return torch.Generator(device=device).manual_seed(seed)
    except RuntimeError:  # a backend without device generators: fall back to the global RNG
        return None


def batches(
    n: int,
    batch_size: int,
    *,
    generator: torch.Generator | None,
    shuffle: bool,
    device: torch.device | str | None = None,
) -> Iterator[Tensor]:
    """Index batches over n examples. Training drops a ragged last batch (BatchNorm needs > 1 example and
    equal-sized batches keep step times flat), unless the set is smaller than one batch. The order is drawn on
    the CPU (same order on every device) and moved to ``device`` once per epoch; batches are slices of it there,
    so a step copies no index from the host."""
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    if device is not None:
        order = order.to(device)
    if shuffle and n > batch_size:
        n = (n // batch_size) * batch_size
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: ImageSet,
    *,
    device: torch.device,
    batch_size: int = EVAL_BATCH_SIZE,
    fast: bool = True,
    return_predictions: bool = False,
    should_stop: StopFn | None = None,
) -> dict:
    """Loss and accuracy of ``model`` on ``data`` (moved to ``device`` if needed), in eval mode, large batches."""
    was_training = model.training
    model.eval()
    images, labels = data.images.to(device), data.labels.to(device)
    prep = BatchPreparer(images, device=device, fast=fast)
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    preds = []
    for start in range(0, len(data), batch_size):
        if should_stop is not None and should_stop():
            break
        x = prep(images[start : start + batch_size])
        y = labels[start : start + batch_size]
        with autocast_for(device, fast):
            logits = model(x)
        total_loss += F.cross_entropy(logits.float(), y, reduction="sum")
        pred = logits.argmax(1)
        correct += (pred == y).sum()
        if return_predictions:
            preds.append(pred)
    model.train(was_training)
    n = max(1, len(data))
    out = {"loss": total_loss.item() / n, "acc": correct.item() / n}
    if return_predictions:
        out["predictions"] = torch.cat(preds).cpu() if preds else torch.empty(0, dtype=torch.long)
    return out
