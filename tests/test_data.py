import numpy as np
import pytest
import torch

from resnet_core.data.datasets import (
    BUNDLED_PATH,
    ImageSet,
    augment,
    load_dataset,
    normalize,
    read_idx,
    stratified_kshot,
    stratified_split,
)


def test_bundled_subset_is_stratified_and_big_enough(bundled):
    assert BUNDLED_PATH.stat().st_size < 8e6
    assert bundled.train.images.shape[1:] == (1, 28, 28) and bundled.train.images.dtype == torch.uint8
    assert len(bundled.test) >= 2000
    assert set(bundled.train.class_counts()) == {1000}
    assert set(bundled.test.class_counts()) == {300}
    assert bundled.train.class_names[0] == "T-shirt/top"


def test_kshot_is_stratified_seeded_and_distinct(bundled):
    labels = bundled.train.labels
    a = stratified_kshot(labels, 5, seed=1)
    assert len(a) == 50 and len(set(a.tolist())) == 50
    assert torch.bincount(labels[a], minlength=10).tolist() == [5] * 10
    assert torch.equal(a, stratified_kshot(labels, 5, seed=1))
    assert not torch.equal(a, stratified_kshot(labels, 5, seed=2))


def test_kshot_all_and_small_classes():
    labels = torch.tensor([0, 0, 0, 1])
    assert sorted(stratified_kshot(labels, None, seed=0).tolist()) == [0, 1, 2, 3]
    assert sorted(stratified_kshot(labels, 2, seed=0).tolist()) in ([0, 1, 3], [0, 2, 3], [1, 2, 3])


def test_stratified_split_holds_out_a_fraction_of_every_class(bundled):
    rest, held = stratified_split(bundled.test.labels, 0.2, seed=0)
    assert len(set(rest.tolist()) & set(held.tolist())) == 0
    assert torch.bincount(bundled.test.labels[held], minlength=10).tolist() == [60] * 10


def test_select_classes_relabels(bundled):
    sub = bundled.test.select_classes([9, 2])
    assert sub.class_names == ["Ankle boot", "Pullover"]
    assert sub.class_counts() == [300, 300]


def test_augment_keeps_shape_dtype_and_content():
    images = torch.randint(0, 256, (16, 1, 28, 28), dtype=torch.uint8)
    out = augment(images, pad=2, flip=True)
    assert out.shape == images.shape and out.dtype == torch.uint8
    # With no padding and no flip it is the identity; with padding every image is a shifted copy.
    assert torch.equal(augment(images, pad=0, flip=False), images)
    flipped_only = augment(images, pad=0, flip=True)
    for a, b in zip(images, flipped_only):
        assert torch.equal(a, b) or torch.equal(a.flip(2), b)


def test_augment_actually_changes_images():
    """A no-op augment would pass the shape tests above: with padding and flips most of 64 images must change,
    and both flipped and unflipped ones occur."""
    torch.manual_seed(0)
    images = torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8)
    out = augment(images, pad=2, flip=True)
    changed = sum(not torch.equal(a, b) for a, b in zip(images, out))
    assert changed > 48
    flips = [torch.equal(b, a.flip(2)) for a, b in zip(images, augment(images, pad=0, flip=True))]
    assert 10 < sum(flips) < 54


def test_augment_crop_is_a_shift_of_the_padded_image():
    img = torch.arange(36, dtype=torch.uint8).view(1, 1, 6, 6)
    torch.manual_seed(3)
    out = augment(img, pad=1, flip=False)
    padded = torch.nn.functional.pad(img, (1, 1, 1, 1))
    assert any(torch.equal(out[0, 0], padded[0, 0, dy : dy + 6, dx : dx + 6]) for dy in range(3) for dx in range(3))


def test_normalize_standardises():
    x = normalize(torch.full((2, 1, 4, 4), 255, dtype=torch.uint8), (0.5,), (0.25,))
    assert torch.allclose(x, torch.full_like(x, 2.0))


def test_imageset_validates_inputs():
    with pytest.raises(ValueError):
        ImageSet(torch.zeros(2, 1, 4, 4), torch.zeros(2), ["a"])
    with pytest.raises(ValueError):
        ImageSet(torch.zeros(2, 1, 4, 4, dtype=torch.uint8), torch.zeros(3), ["a"])


def test_read_idx_roundtrip(tmp_path):
    import gzip
    import struct

    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "x-idx3-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">HBB", 0, 8, 3) + struct.pack(">3I", 2, 3, 4) + arr.tobytes())
    assert np.array_equal(read_idx(path), arr)


def test_unknown_or_missing_dataset_gives_a_clear_message(monkeypatch):
    with pytest.raises(KeyError, match="unknown dataset"):
        load_dataset("imagenet")
    monkeypatch.setattr("resnet_core.data.datasets.cifar10_root", lambda: None)
    with pytest.raises(FileNotFoundError, match="CIFAR-10"):
        load_dataset("cifar10")
