"""Partial fine-tuning on a cached frozen prefix.

Partial fine-tuning trains only the last stage of the body (and the head). Everything before it - the input
adapter, the stem and the earlier stages, all in eval mode with frozen BatchNorm - is a fixed function of the
image, so its output is computed once: for the clean labelled images, for ``feature_views`` augmented views of
each (the same augmentation-parity rule as feature extraction: one view drawn per image per step), and for the
validation images. Training then runs the last stage and the head only, on the cached activations, with the
engine's optimizer, schedule and numerics. On the default comparison this is 2-3x less compute for the strategy
than running the whole net every step (docs/PERFORMANCE.md); ``TransferConfig(cache_prefix=False)`` trains it
through the engine on freshly augmented images instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch

from resnet_core.data.datasets import ImageSet, augment
from resnet_core.models import CifarNet, blocks_per_stage
from resnet_core.training.batching import BatchPreparer, eval_batch_size
from resnet_core.training.numerics import StepScaler, fast_path
from resnet_core.transfer.config import TransferConfig
from resnet_core.transfer.head import train_on_cache
from resnet_core.transfer.models import TransferNet, configure_strategy
from resnet_core.transfer.target import TargetData

MAX_CACHE_BYTES = 1 << 30  # larger caches (e.g. big images, many shots) fall back to the engine


def split_prefix_tail(model: TransferNet) -> tuple[Callable, Callable] | None:
    """(prefix, tail): prefix(x) maps a normalised batch to the input of the last stage, tail(h) maps that to
    logits (last stage, pooling, dropout, head), so that tail(prefix(x)) == model(x). None for a body of
    unknown shape."""
    body = model.body
    if isinstance(body, CifarNet):
        cut = 2 * blocks_per_stage(body.config.depth)
        early, late = list(body.blocks[:cut]), list(body.blocks[cut:])

        def prefix(x: torch.Tensor) -> torch.Tensor:
            x = body.stem(model.adapter(x))
            for block in early:
                x = block(x)
            return x

        def tail(h: torch.Tensor) -> torch.Tensor:
            for block in late:
                h = block(h)
            return model.head(model.dropout(torch.flatten(body.pool(h), 1)))

        return prefix, tail
    if all(hasattr(body, name) for name in ("conv1", "bn1", "relu", "maxpool", "layer3", "layer4", "avgpool")):

        def tv_prefix(x: torch.Tensor) -> torch.Tensor:
            x = body.maxpool(body.relu(body.bn1(body.conv1(model.adapter(x)))))
            return body.layer3(body.layer2(body.layer1(x)))

        def tv_tail(h: torch.Tensor) -> torch.Tensor:
            return model.head(model.dropout(torch.flatten(body.avgpool(body.layer4(h)), 1)))

        return tv_prefix, tv_tail
    return None


@torch.inference_mode()
def _prefix_of(prefix: Callable, images: torch.Tensor, device: torch.device, batch: int) -> torch.Tensor:
    fp = fast_path(device)
    prep = BatchPreparer(images, device=device, fast=True)
    out = []
    for start in range(0, len(images), batch):
        with fp.autocast(device):
            h = prefix(prep(images[start : start + batch].to(device)))
        out.append(h.float())  # keeps the fast path's memory format (channels-last on CPU/CUDA)
    return torch.cat(out)


def cached_prefix(
    model: TransferNet,
    prefix: Callable,
    train_set: ImageSet,
    val_set: ImageSet,
    config: TransferConfig,
    *,
    seed: int,
    device: torch.device,
    batch: int | None = None,
) -> dict[str, torch.Tensor] | None:
    """Prefix activations (eval mode, computed once): "views" (V, N, C, H, W) of V augmented views of the labelled
    images (the clean images only with augmentation off or feature_views = 0), "train" (N, ...) clean, "val".
    None when the cache would exceed MAX_CACHE_BYTES."""
    was_training = model.training
    model.eval()
    fp = fast_path(device)
    if fp.channels_last:
        model.to(memory_format=torch.channels_last)
    batch = batch or eval_batch_size(train_set.images.shape[-1], 512)
    try:
        clean = _prefix_of(prefix, train_set.images, device, batch)
        views = config.feature_views if config.augment else 0
        per_image = clean[0].numel() * clean.element_size() if len(clean) else 0
        if per_image * (len(train_set) * (views + 1) + len(val_set)) > MAX_CACHE_BYTES:
            return None
        feats = {"train": clean, "val": _prefix_of(prefix, val_set.images, device, batch)}
        if views == 0:
            feats["views"] = clean.unsqueeze(0)
            return feats
        gen = torch.Generator().manual_seed(seed)
        images = train_set.images.cpu()
        # Same augmentation (random crop with pad 2 + flip) and the same generator draws as the cached features
        # of feature extraction, so both cached strategies see the same views of each image.
        feats["views"] = torch.stack(
            [_prefix_of(prefix, augment(images, generator=gen), device, batch) for _ in range(views)]
        )
        return feats
    finally:
        model.train(was_training)


def train_partial_on_prefix(
    model: TransferNet,
    train_set: ImageSet,
    target: TargetData,
    config: TransferConfig,
    *,
    seed: int,
    device: torch.device,
    start: float,
    should_stop,
    on_epoch: Callable,
) -> tuple[list[dict], str, dict, dict, Callable] | None:
    """Partial fine-tuning on cached prefix activations: (history, status, cache, labels, forward on the cache),
    or None where the body or the cache size does not allow it (the engine trains it then)."""
    split = split_prefix_tail(model)
    if split is None:
        return None
    prefix, tail = split
    cached = cached_prefix(model, prefix, train_set, target.val, config, seed=seed, device=device)
    if cached is None:
        return None
    labels = {"train": train_set.labels.to(device), "val": target.val.labels.to(device)}
    groups, set_mode = configure_strategy(model, "partial_finetune", config)
    fp = fast_path(device)

    def forward(h: torch.Tensor) -> torch.Tensor:
        return tail(h.contiguous(memory_format=torch.channels_last) if fp.channels_last else h)

    history, status = train_on_cache(
        model,
        forward,
        groups,
        set_mode,
        cached,
        labels,
        config,
        epochs=config.epochs,
        seed=seed,
        device=device,
        start_time=start,
        should_stop=should_stop,
        on_epoch=on_epoch,
        autocast=functools.partial(fp.autocast, device),
        scaler=StepScaler(fp, device),
    )
    return history, status, cached, labels, forward
