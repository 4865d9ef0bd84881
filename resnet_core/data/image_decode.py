"""One uploaded image's bytes -> uint8 RGB ``size`` x ``size``, as bounded work (see :mod:`resnet_core.data.uploads`, which
walks the zip): only the allowed formats are opened, the pixel budgets are checked from the header before decoding
(large JPEGs decode at 1/2..1/8 scale), any mode is converted to RGB (transparency on white, 16-bit/float greys
stretched, NaN or infinity refused), and every failure is an :class:`UploadError` naming the file."""

from __future__ import annotations

import io
import warnings
import zipfile

import numpy as np

from resnet_core.data.upload_errors import UploadError

ALLOWED_FORMATS = ("PNG", "JPEG", "MPO", "BMP", "GIF", "WEBP", "TIFF", "PPM")  # MPO: JPEGs from phone cameras


def _to_rgb(img, name: str, size: int):
    from PIL import Image

    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # 16-bit / 32-bit greys: resize first (as 32-bit floats), then stretch the small result to 0..255, so a
        # 4096x4096 16-bit image costs one float copy, not several float64 ones.
        if mode == "F" and not np.isfinite(np.asarray(img)).all():
            raise UploadError("nan_pixels", name=name)
        small = (img if mode == "F" else img.convert("F")).resize(
            (size, size), Image.Resampling.BILINEAR, reducing_gap=2.0
        )
        arr = np.asarray(small, dtype=np.float32)
        if not np.isfinite(arr).all():
            raise UploadError("huge_pixels", name=name)
        lo, hi = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 0.0)
        arr = np.zeros_like(arr) if hi <= lo else (arr - lo) / (hi - lo) * 255.0
        img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), mode="L")
        mode = "L"
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode in ("1", "L", "CMYK", "YCbCr", "LAB", "HSV"):
        img = img.convert("RGB")
    elif mode in ("LA", "PA", "La"):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img).convert("RGB")
    if img.mode != "RGB":
        img = img.convert("RGB")
    return img


def _open_checked(data: bytes, name: str, size: int, *, max_pixels: int, pixels_left: int, max_total_pixels: int):
    """Open lazily (header only), check format and pixel budgets, pick a JPEG draft scale. -> (img, pixels)."""
    from PIL import Image, UnidentifiedImageError

    Image.init()  # registers every plugin, so that each allowed format name is known
    try:
        img = Image.open(io.BytesIO(data), formats=[f for f in ALLOWED_FORMATS if f in Image.OPEN])
    except UnidentifiedImageError as exc:
        raise UploadError("not_an_image", name=name, formats=", ".join(sorted(set(ALLOWED_FORMATS)))) from exc
    if img.format == "JPEG" or img.format == "MPO":
        img.draft(None, (size * 2, size * 2))  # decode at 1/2..1/8 scale: bounded work for big photos
    w, h = img.size
    if w <= 0 or h <= 0 or w * h > max_pixels:
        raise UploadError("too_many_pixels", name=name, w=w, h=h, max=max_pixels)
    pixels = w * h
    if pixels > pixels_left:
        raise UploadError("total_pixels", mpx=max_total_pixels / 1e6, name=name)
    return img, pixels


def decode_image(
    data: bytes, name: str, size: int, *, max_pixels: int, pixels_left: int, max_total_pixels: int
) -> tuple[np.ndarray, str, int]:
    """-> (uint8 [3, size, size], original mode, decoded pixel values). Any failure is an UploadError."""
    from PIL import Image

    # Pillow's own guard (Image.MAX_IMAGE_PIXELS, process-wide, left alone here because other threads share it)
    # stays as a second line behind the header check: its DecompressionBombError is caught like everything else.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        img, pixels = _open_checked(
            data, name, size, max_pixels=max_pixels, pixels_left=pixels_left, max_total_pixels=max_total_pixels
        )
        mode = img.mode
        img.load()
        if getattr(img, "n_frames", 1) > 1:
            img.seek(0)
        img = _to_rgb(img, name, size)
        img = img.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
        arr = np.asarray(img, dtype=np.uint8)
    if arr.shape != (size, size, 3):
        raise UploadError("bad_shape", name=name, shape=arr.shape)
    return arr.transpose(2, 0, 1).copy(), mode, pixels


def member_error(name: str, exc: BaseException) -> UploadError:
    """One line naming the file for any failure reading or decoding a member."""
    import zlib

    from PIL import Image

    if isinstance(exc, Image.DecompressionBombError):
        why = "bomb"
    elif isinstance(exc, (zlib.error, zipfile.BadZipFile, EOFError)):
        why = "corrupt_data"
    elif isinstance(exc, NotImplementedError):
        why = "unreadable_method"
    elif isinstance(exc, MemoryError):
        why = "too_large_to_decode"
    else:
        why = "corrupt_image"
    detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    return UploadError(why, name=name, error=f"{type(exc).__name__}: {detail}")
