"""Build assets/data/fashion_mnist_subset.npz: a stratified, seeded subset of the full Fashion-MNIST.

    apt-get install dataset-fashion-mnist        # the full 70,000 images (MIT licence)
    python scripts/build_bundled_subset.py       # writes the subset and prints its size and sha256

Same seed, same files in, same subset out. The sizes are chosen to stay under 8 MB in git while leaving enough
images to pretrain a small source model (1,000 per class) and to evaluate on 3,000 test images.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from resnet_core.data.datasets import BUNDLED_PATH, FASHION_CLASSES, load_fashion_mnist_full, stratified_kshot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-per-class", type=int, default=1000)
    parser.add_argument("--test-per-class", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=BUNDLED_PATH)
    args = parser.parse_args()

    full = load_fashion_mnist_full()
    train_idx = stratified_kshot(full.train.labels, args.train_per_class, seed=args.seed).sort().values
    test_idx = stratified_kshot(full.test.labels, args.test_per_class, seed=args.seed + 1).sort().values
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        train_images=full.train.images[train_idx, 0].numpy(),
        train_labels=full.train.labels[train_idx].numpy().astype(np.uint8),
        test_images=full.test.images[test_idx, 0].numpy(),
        test_labels=full.test.labels[test_idx].numpy().astype(np.uint8),
        # Indices into the original files, so anyone can check the subset against the source.
        train_source_index=train_idx.numpy().astype(np.int32),
        test_source_index=test_idx.numpy().astype(np.int32),
        class_names=np.array(FASHION_CLASSES),
    )
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(
        f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB): {len(train_idx)} train, "
        f"{len(test_idx)} test images; sha256 {digest}"
    )


if __name__ == "__main__":
    main()
