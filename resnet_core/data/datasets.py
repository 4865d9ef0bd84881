"""Datasets as uint8 tensors, the registry of data sources, splits, k-shot sampling and on-device augmentation.

Everything the lab trains on is small enough to live on the device as one uint8 tensor, so there is no
per-sample Dataset/DataLoader anywhere: batches are index slices, normalisation and augmentation run on the
whole batch on the device (the airbench approach; see ``docs/PERFORMANCE.md`` for what it buys).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from resnet_core.i18n import N_, gettext

REPO_ROOT = Path(__file__).resolve().parents[2]  # resnet_core/data/datasets.py -> the repository
BUNDLED_PATH = REPO_ROOT / "assets" / "data" / "fashion_mnist_subset.npz"

# English names in data, results and downloads; class_label() shows them in the reader's language.
FASHION_CLASSES = [
    N_("T-shirt/top"),
    N_("Trouser"),
    N_("Pullover"),
    N_("Dress"),
    N_("Coat"),
    N_("Sandal"),
    N_("Shirt"),
    N_("Sneaker"),
    N_("Bag"),
    N_("Ankle boot"),
]
CIFAR10_CLASSES = [N_("airplane"), N_("automobile"), N_("bird"), N_("cat"), N_("deer"), N_("dog"), N_("frog")]
CIFAR10_CLASSES += [N_("horse"), N_("ship"), N_("truck")]


def class_label(name: str) -> str:
    """A Fashion-MNIST or CIFAR-10 class name as shown to the reader (translated); any other name (an uploaded
    folder's, an ImageNet class) is shown as it is."""
    return gettext(name) if name in _KNOWN_CLASSES else name


_KNOWN_CLASSES = frozenset(FASHION_CLASSES + CIFAR10_CLASSES)


@dataclass
class ImageSet:
    """Images as uint8 [N, C, H, W], labels as int64 [N], and the class names the labels index."""

    images: Tensor
    labels: Tensor
    class_names: list[str]
    source: str = ""

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise ValueError(f"images must be uint8 [N, C, H, W], got {self.images.dtype} {tuple(self.images.shape)}")
        if self.labels.shape != (self.images.shape[0],):
            raise ValueError("one label per image is needed")
        self.labels = self.labels.long()

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def channels(self) -> int:
        return self.images.shape[1]

    def subset(self, indices: Tensor | list[int]) -> ImageSet:
        idx = torch.as_tensor(indices, dtype=torch.long, device=self.images.device)
        return ImageSet(self.images[idx], self.labels[idx], list(self.class_names), self.source)

    def to(self, device: torch.device | str) -> ImageSet:
        return ImageSet(self.images.to(device), self.labels.to(device), list(self.class_names), self.source)

    def class_counts(self) -> list[int]:
        return torch.bincount(self.labels.cpu(), minlength=self.num_classes).tolist()

    def content_hash(self) -> str:
        """sha256 of the pixels, labels and class names: names this set wherever a result depends on it (an
        upload's results are stored and shared under it). Computed once per set."""
        cached = self.__dict__.get("_content_hash")
        if cached is None:
            digest = hashlib.sha256()
            digest.update(repr((tuple(self.images.shape), self.class_names)).encode())
            digest.update(self.images.cpu().contiguous().numpy().tobytes())
            digest.update(self.labels.cpu().numpy().astype("int64").tobytes())
            cached = self.__dict__["_content_hash"] = digest.hexdigest()
        return cached

    def select_classes(self, classes: list[int]) -> ImageSet:
        """Keep only ``classes`` (original label ids) and relabel them 0..len(classes)-1 in that order."""
        remap = torch.full((self.num_classes,), -1, dtype=torch.long)
        for new, old in enumerate(classes):
            remap[old] = new
        new_labels = remap[self.labels.cpu()]
        keep = torch.nonzero(new_labels >= 0).flatten()
        return ImageSet(
            self.images[keep.to(self.images.device)],
            new_labels[keep].to(self.labels.device),
            [self.class_names[c] for c in classes],
            self.source,
        )


@dataclass
class Splits:
    train: ImageSet
    test: ImageSet


# ---------------------------------------------------------------------------------------------- file formats


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (the MNIST/Fashion-MNIST format), gzipped or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _find_idx(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


FASHION_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def fashion_mnist_dirs() -> list[Path]:
    """Where the full Fashion-MNIST may be: $RESNET_LAB_DATA, Debian's package, torchvision's folder."""
    dirs = []
    if env := os.environ.get("RESNET_LAB_DATA"):
        dirs += [Path(env), Path(env) / "fashion-mnist", Path(env) / "FashionMNIST" / "raw"]
    dirs += [Path("/usr/share/datasets/fashion-mnist"), Path.home() / ".cache" / "resnet_lab" / "FashionMNIST" / "raw"]
    return dirs


def find_fashion_mnist() -> Path | None:
    for d in fashion_mnist_dirs():
        if all(_find_idx(d, stem) for stem in FASHION_FILES.values()):
            return d
    return None


def load_fashion_mnist_full(folder: Path | None = None) -> Splits:
    folder = folder or find_fashion_mnist()
    if folder is None:
        raise FileNotFoundError(
            "The full Fashion-MNIST was not found. Install Debian's package 'dataset-fashion-mnist', or put the four "
            "IDX files in $RESNET_LAB_DATA, or use the bundled subset."
        )
    arrays = {key: read_idx(_find_idx(folder, stem)) for key, stem in FASHION_FILES.items()}  # type: ignore[arg-type]
    return Splits(
        ImageSet(
            torch.from_numpy(arrays["train_images"].copy()).unsqueeze(1),
            torch.from_numpy(arrays["train_labels"].astype(np.int64)),
            list(FASHION_CLASSES),
            "fashion-full",
        ),
        ImageSet(
            torch.from_numpy(arrays["test_images"].copy()).unsqueeze(1),
            torch.from_numpy(arrays["test_labels"].astype(np.int64)),
            list(FASHION_CLASSES),
            "fashion-full",
        ),
    )


def download_fashion_mnist(root: Path | None = None) -> Path:
    """Download with torchvision (needs internet; the hosted demo has it, this lab's CI does not)."""
    from torchvision.datasets import FashionMNIST

    root = root or Path.home() / ".cache" / "resnet_lab"
    FashionMNIST(str(root), train=True, download=True)
    FashionMNIST(str(root), train=False, download=True)
    return root / "FashionMNIST" / "raw"


def load_bundled(path: Path = BUNDLED_PATH) -> Splits:
    """The stratified Fashion-MNIST subset shipped in ``assets/data`` (always there, no download)."""
    with np.load(path, allow_pickle=False) as z:
        names = [str(n) for n in z["class_names"]]
        return Splits(
            ImageSet(
                torch.from_numpy(z["train_images"]).unsqueeze(1),
                torch.from_numpy(z["train_labels"]).long(),
                names,
                "bundled",
            ),
            ImageSet(
                torch.from_numpy(z["test_images"]).unsqueeze(1),
                torch.from_numpy(z["test_labels"]).long(),
                names,
                "bundled",
            ),
        )


def cifar10_root() -> Path | None:
    candidates = []
    if env := os.environ.get("RESNET_LAB_DATA"):
        candidates.append(Path(env))
    candidates.append(Path.home() / ".cache" / "resnet_lab")
    for root in candidates:
        if (root / "cifar-10-batches-py" / "data_batch_1").is_file():
            return root
    return None


def load_cifar10(download: bool = False) -> Splits:
    from torchvision.datasets import CIFAR10

    root = cifar10_root()
    if root is None:
        if not download:
            raise FileNotFoundError(
                "CIFAR-10 was not found. Put torchvision's 'cifar-10-batches-py' folder in $RESNET_LAB_DATA "
                "or ~/.cache/resnet_lab, or allow the download (needs internet)."
            )
        root = Path.home() / ".cache" / "resnet_lab"
    sets = []
    for train in (True, False):
        ds = CIFAR10(str(root), train=train, download=download)
        images = torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous()
        sets.append(ImageSet(images, torch.tensor(ds.targets), list(CIFAR10_CLASSES), "cifar10"))
    return Splits(*sets)


# ------------------------------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class DataSource:
    key: str
    title: str
    available: Callable[[], bool]
    load: Callable[[], Splits]
    how_to_get: str
    info: dict = field(default_factory=dict)


DATASETS: dict[str, DataSource] = {
    "bundled": DataSource(
        "bundled",
        N_("Fashion-MNIST subset (bundled)"),
        lambda: BUNDLED_PATH.is_file(),
        load_bundled,
        N_("Shipped in assets/data; rebuild with `python scripts/build_bundled_subset.py`."),
    ),
    "fashion": DataSource(
        "fashion",
        N_("Fashion-MNIST (full, 70,000 images)"),
        lambda: find_fashion_mnist() is not None,
        load_fashion_mnist_full,
        N_(
            "apt-get install dataset-fashion-mnist, or the IDX files in $RESNET_LAB_DATA, "
            "or `python -m resnet_core download fashion` (needs internet)."
        ),
    ),
    "cifar10": DataSource(
        "cifar10",
        N_("CIFAR-10 (60,000 colour images)"),
        lambda: cifar10_root() is not None,
        load_cifar10,
        N_(
            "Put 'cifar-10-batches-py' in $RESNET_LAB_DATA or ~/.cache/resnet_lab, "
            "or `python -m resnet_core download cifar10` (needs internet)."
        ),
    ),
}

_CACHE: dict[str, Splits] = {}


def load_dataset(key: str = "bundled") -> Splits:
    """Load a registered dataset on the CPU (cached per process: the app's users share one copy)."""
    if key not in DATASETS:
        raise KeyError(f"unknown dataset {key!r}; choose one of {sorted(DATASETS)}")
    if key not in _CACHE:
        source = DATASETS[key]
        if not source.available():
            raise FileNotFoundError(f"{source.title} is not available here. {source.how_to_get}")
        _CACHE[key] = source.load()
    return _CACHE[key]


def dataset_status() -> list[dict]:
    return [
        {"key": s.key, "title": s.title, "available": s.available(), "how_to_get": s.how_to_get}
        for s in DATASETS.values()
    ]


# ------------------------------------------------------------------------------------------ splits, k-shot


def stratified_kshot(labels: Tensor, k: int | None, *, seed: int) -> Tensor:
    """Indices of ``k`` random examples of every class (all of a class if it has fewer; all if k is None)."""
    labels = labels.cpu()
    gen = torch.Generator().manual_seed(seed)
    chosen = []
    for c in torch.unique(labels).tolist():
        idx = torch.nonzero(labels == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=gen)]
        chosen.append(idx if k is None else idx[:k])
    out = torch.cat(chosen)
    return out[torch.randperm(len(out), generator=gen)]


def stratified_split(labels: Tensor, fraction: float, *, seed: int) -> tuple[Tensor, Tensor]:
    """Split indices into (rest, held_out) with ``fraction`` of every class held out (at least one each)."""
    labels = labels.cpu()
    gen = torch.Generator().manual_seed(seed)
    rest, held = [], []
    for c in torch.unique(labels).tolist():
        idx = torch.nonzero(labels == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=gen)]
        n_held = max(1, round(len(idx) * fraction)) if len(idx) > 1 else 0
        held.append(idx[:n_held])
        rest.append(idx[n_held:])
    return torch.cat(rest), torch.cat(held)


# ------------------------------------------------------------------------------- device-side preprocessing

DATASET_STATS = {
    # Per-channel mean/std of the training images, on a 0..1 scale.
    1: ((0.2860,), (0.3530,)),  # Fashion-MNIST
    3: ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),  # CIFAR-10
}


@functools.lru_cache(maxsize=64)
def _channel_constants(values: tuple[float, ...], dtype: torch.dtype, device: str) -> Tensor:
    """A (1, C, 1, 1) constant, built once per (values, dtype, device): building it per call would be a blocking
    host->device copy on every batch on a GPU."""
    return torch.tensor(values, dtype=dtype, device=device).view(1, -1, 1, 1)


def normalize(images: Tensor, mean: tuple[float, ...], std: tuple[float, ...], dtype=torch.float32) -> Tensor:
    """uint8 [N,C,H,W] -> float, scaled to 0..1 and standardised per channel (on whatever device it is on)."""
    x = images.to(dtype).div_(255)
    device = str(x.device)
    return (x - _channel_constants(tuple(mean), dtype, device)) / _channel_constants(tuple(std), dtype, device)


def augment(images: Tensor, *, pad: int = 2, flip: bool = True, generator: torch.Generator | None = None) -> Tensor:
    """Random crop with zero padding and random horizontal flip, for a whole batch at once on its device.

    One gather replaces N per-image crops: build each image's shifted row/column indices and index the padded
    batch with them. Works on any dtype (uint8 before normalisation, or float).
    """
    n, c, h, w = images.shape
    dev = images.device
    if pad > 0:
        padded = torch.nn.functional.pad(images, (pad, pad, pad, pad))
        dy = torch.randint(0, 2 * pad + 1, (n,), device=dev, generator=generator)
        dx = torch.randint(0, 2 * pad + 1, (n,), device=dev, generator=generator)
        rows = dy[:, None] + torch.arange(h, device=dev)[None, :]  # [n, h]
        cols = dx[:, None] + torch.arange(w, device=dev)[None, :]  # [n, w]
        batch = torch.arange(n, device=dev)[:, None, None, None]
        chan = torch.arange(c, device=dev)[None, :, None, None]
        images = padded[batch, chan, rows[:, None, :, None], cols[:, None, None, :]]
    if flip:
        do_flip = torch.rand(n, device=dev, generator=generator) < 0.5
        images = torch.where(do_flip[:, None, None, None], images.flip(3), images)
    return images
