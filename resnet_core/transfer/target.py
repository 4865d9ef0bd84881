"""The target task: k labelled images per class are drawn from a pool, a fixed validation split, a test set (the
held-out classes of the split from the bundled Fashion-MNIST subset, CIFAR-10, or an upload)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from resnet_core.data import datasets as data_mod
from resnet_core.data.datasets import FASHION_CLASSES, ImageSet, stratified_kshot
from resnet_core.transfer.config import VAL_SPLIT_SEED, TransferConfig, draw_split, split_label


@dataclass
class TargetData:
    pool: ImageSet  # labelled images the k shots are drawn from
    val: ImageSet
    test: ImageSet
    class_names: list[str]
    description: str


def load_target(config: TransferConfig, upload: ImageSet | None = None) -> TargetData:
    """The target task: a fixed validation split, a pool to draw k shots from, and a test set."""
    if config.target == "fashion-heldout":
        target_classes = draw_split(config.split_seed)[1]
        splits = data_mod.load_dataset("bundled")
        train_all = splits.train.select_classes(target_classes)
        test = splits.test.select_classes(target_classes)
        names = ", ".join(FASHION_CLASSES[c] for c in target_classes)
        desc = f"held-out Fashion-MNIST classes {names} (bundled; {split_label(config.split_seed)})"
    elif config.target == "cifar10":
        splits = data_mod.load_dataset("cifar10")
        train_all, test = splits.train, splits.test
        desc = "CIFAR-10"
    else:
        if upload is None:
            raise ValueError("target 'upload' needs an uploaded data set (a zip of class folders)")
        rest, held = data_mod.stratified_split(upload.labels, config.upload_test_fraction, seed=VAL_SPLIT_SEED)
        train_all, test = upload.subset(rest), upload.subset(held)
        desc = f"uploaded images ({len(upload)} in {upload.num_classes} classes)"
    # Fixed validation split: val_per_class of every class, chosen with a seed that never changes (uploads: at
    # most a quarter of the smallest class, so that training images remain).
    val_k = config.val_per_class
    if config.target == "upload":
        val_k = max(1, min(val_k, min(train_all.class_counts()) // 4))
    val_idx = stratified_kshot(train_all.labels, val_k, seed=VAL_SPLIT_SEED)
    mask = torch.ones(len(train_all), dtype=torch.bool)
    mask[val_idx] = False
    pool = train_all.subset(torch.nonzero(mask).flatten())
    if len(pool) == 0 or min(pool.class_counts()) == 0:
        raise ValueError(
            "after taking the validation images, some class has no training images left: "
            "lower the validation size or add images"
        )
    if config.test_per_class:
        test = test.subset(stratified_kshot(test.labels, config.test_per_class, seed=VAL_SPLIT_SEED).sort().values)
    return TargetData(pool, train_all.subset(val_idx), test, list(train_all.class_names), desc)
