"""Preprocessing step by step: the ImageNet pipeline (Resize 256 -> CenterCrop 224 -> ToTensor -> Normalize) and
the lab's own 28x28 grey pipeline, each stage kept so that a page can show it with its shape and value range.

The ImageNet stages are torchvision ``transforms.v2`` built from the parameters the weights carry
(``ResNet50_Weights.IMAGENET1K_V1.transforms()``: resize 256, crop 224, bilinear, ImageNet mean/std), so that
what is shown is what the pretrained network expects; the tests check that the last stage equals the weights'
own ``transforms()`` output. Bundled photos: ``assets/photos`` (CC0 / public domain, see its README).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.transforms import v2

from resnet_core.data.datasets import DATASET_STATS, REPO_ROOT, normalize
from resnet_core.i18n import gettext as _

PHOTO_DIR = REPO_ROOT / "assets" / "photos"
LAB_SIZE = 28
MAX_UPLOAD_PIXELS = 40_000_000  # a decompression bomb is refused before decoding
MAX_SIDE = 1024  # uploads are shrunk to this first: the pipeline's first step goes to 256 anyway


def list_photos() -> list[str]:
    return sorted(p.stem for p in PHOTO_DIR.glob("*.jpg"))


def load_photo(source: str | bytes | Path) -> Image.Image:
    """A bundled photo by name, a path, or uploaded bytes, as an RGB PIL image (longest side <= MAX_SIDE)."""
    if isinstance(source, bytes):
        img = Image.open(io.BytesIO(source))
    else:
        path = Path(source) if isinstance(source, Path) else PHOTO_DIR / f"{source}.jpg"
        if not path.is_file():
            raise FileNotFoundError(f"no bundled photo {source!r}; have {', '.join(list_photos())}")
        img = Image.open(path)
    if img.width * img.height > MAX_UPLOAD_PIXELS:
        raise ValueError(f"image is {img.width}x{img.height}: more than {MAX_UPLOAD_PIXELS:,} pixels")
    img = img.convert("RGB")
    img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BILINEAR)
    return img


@dataclass
class Step:
    """One stage of a pipeline: what it did and what came out."""

    title: str
    detail: str
    shape: list[int]  # C, H, W (a PIL image is reported as 3, H, W too)
    dtype: str
    vmin: float
    vmax: float
    display: np.ndarray  # H x W x 3 uint8, for showing (normalised tensors are rescaled min..max per image)
    tensor: torch.Tensor | None = None  # the stage's output as a tensor (None for PIL stages)


def to_display(x: torch.Tensor | Image.Image) -> np.ndarray:
    """H x W x 3 uint8: PIL images as they are; float tensors rescaled from their own min..max to 0..255."""
    if isinstance(x, Image.Image):
        return np.asarray(x.convert("RGB"))
    x = x.detach().float()
    if x.dtype == torch.uint8:
        arr = x
    else:
        lo, hi = x.min(), x.max()
        arr = (x - lo) / (hi - lo).clamp_min(1e-8) * 255
    arr = arr.round().clamp(0, 255).to(torch.uint8)
    if arr.shape[0] == 1:
        arr = arr.expand(3, -1, -1)
    return arr.permute(1, 2, 0).numpy()


def _pil_step(title: str, detail: str, img: Image.Image) -> Step:
    arr = np.asarray(img)
    return Step(
        title,
        detail,
        [len(img.getbands()), img.height, img.width],
        "uint8 (PIL)",
        float(arr.min()),
        float(arr.max()),
        to_display(img),
    )


def _tensor_step(title: str, detail: str, x: torch.Tensor) -> Step:
    return Step(
        title,
        detail,
        list(x.shape),
        str(x.dtype).removeprefix("torch."),
        float(x.min()),
        float(x.max()),
        to_display(x),
        x,
    )


def imagenet_preset(weights: str = "ResNet50_Weights") -> dict:
    """Resize, crop, interpolation, mean and std from the weights' own ``transforms()`` (metadata; no download)."""
    import torchvision.models as tvm

    t = getattr(tvm, weights).IMAGENET1K_V1.transforms()
    return {
        "resize": t.resize_size[0],
        "crop": t.crop_size[0],
        "interpolation": t.interpolation,
        "mean": tuple(t.mean),
        "std": tuple(t.std),
        "preset": t,
    }


def imagenet_steps(img: Image.Image, weights: str = "ResNet50_Weights") -> list[Step]:
    """Original -> Resize(256) -> CenterCrop(224) -> ToImage + ToDtype(float32, scale) -> Normalize(mean, std)."""
    p = imagenet_preset(weights)
    resize = v2.Resize(p["resize"], interpolation=p["interpolation"], antialias=True)
    crop = v2.CenterCrop(p["crop"])
    to_tensor = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])
    norm = v2.Normalize(p["mean"], p["std"])
    resized = resize(img)
    cropped = crop(resized)
    as_tensor = to_tensor(cropped)  # (3, 224, 224), 0..1
    normed = norm(as_tensor)  # (3, 224, 224), about -2.1..2.6
    mean = ", ".join(f"{m:.3f}" for m in p["mean"])
    std = ", ".join(f"{s:.3f}" for s in p["std"])
    return [
        _pil_step(_("Original"), _("{w}x{h} RGB image").format(w=img.width, h=img.height), img),
        _pil_step(
            f"Resize({p['resize']})",
            _("shorter side -> {size} px, aspect ratio kept ({interpolation}, antialiased)").format(
                size=p["resize"], interpolation=p["interpolation"].value
            ),
            resized,
        ),
        _pil_step(f"CenterCrop({p['crop']})", _("the central {size}x{size} square").format(size=p["crop"]), cropped),
        _tensor_step(
            "ToTensor", _("ToImage + ToDtype(float32, scale=True): channels first, 0..255 -> 0..1"), as_tensor
        ),
        _tensor_step(
            "Normalize",
            _("(x - mean) / std per channel, mean ({mean}), std ({std}); shown rescaled").format(mean=mean, std=std),
            normed,
        ),
    ]


def lab_steps(img: Image.Image, size: int = LAB_SIZE) -> list[Step]:
    """The lab's pipeline for a photo: grey, resized to 28x28 (bilinear, as uploads are), 0..1, normalised with
    the Fashion-MNIST mean and std by the same ``data.normalize`` the engine uses."""
    grey = img.convert("L")
    small = grey.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=None)
    as_uint8 = torch.from_numpy(np.asarray(small).copy())[None]  # (1, 28, 28) uint8
    as_float = as_uint8.float() / 255
    mean, std = DATASET_STATS[1]
    normed = normalize(as_uint8[None], mean, std)[0]
    return [
        _pil_step(_("Original"), _("{w}x{h} RGB image").format(w=img.width, h=img.height), img),
        _pil_step(_("Grey"), "PIL 'L': 0.299 R + 0.587 G + 0.114 B", grey),
        _pil_step(f"Resize({size}x{size})", _("squashed to a square, bilinear (like the lab's uploads)"), small),
        _tensor_step(_("To 0..1"), _("uint8 -> float32 / 255, one channel"), as_float),
        _tensor_step(
            "Normalize",
            _("(x - {mean:.4f}) / {std:.4f}: Fashion-MNIST's mean and std; shown rescaled").format(
                mean=mean[0], std=std[0]
            ),
            normed,
        ),
    ]


def lab_input(img: Image.Image) -> torch.Tensor:
    """The (1, 1, 28, 28) batch the lab's ResNet-20 gets for ``img``."""
    return lab_steps(img)[-1].tensor[None]


def imagenet_input(img: Image.Image) -> torch.Tensor:
    """The (1, 3, 224, 224) batch an ImageNet ResNet gets for ``img``."""
    return imagenet_steps(img)[-1].tensor[None]


def enlarge(arr: np.ndarray, min_side: int = 140) -> np.ndarray:
    """Nearest-neighbour upscaling of a small H x W x 3 image so that a browser shows its pixels, not a blur."""
    factor = max(1, min_side // max(1, min(arr.shape[:2])))
    return arr if factor == 1 else np.repeat(np.repeat(arr, factor, 0), factor, 1)
