"""A user-uploaded zip of class folders (ImageFolder layout) -> a validated :class:`ImageSet`.

Nothing is extracted to disk: members are read one at a time from the zip in memory, with hard caps on the
number of files, on the bytes of each file (counted while reading, not trusted from the zip's header) and in
total, and on the pixels of each image (read from the image header before decoding; Pillow's own decompression
bomb guard is set to the same limit). Every problem raises :class:`UploadError` (a ValueError) whose message
says what is wrong and with which file, so a page can show it as it is.

Accepted layouts::

    cats/001.png, dogs/002.jpg, ...                 (class folders at the top)
    mydata/cats/001.png, mydata/dogs/002.jpg, ...   (one wrapping folder)

Images of any mode are converted to RGB: transparency (RGBA, LA, P with transparency) is composited on white,
CMYK and 16-bit/float greys are converted, and everything is resized to ``size`` x ``size``.
"""

from __future__ import annotations

import io
import stat
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import BinaryIO

import numpy as np
import torch

from resnet_core.data import ImageSet

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm"}
JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}


class UploadError(ValueError):
    """The upload cannot be used; the message says why (shown to the user as it is)."""


@dataclass(frozen=True)
class UploadLimits:
    max_upload_bytes: int = 50 * 2**20  # the zip itself
    max_files: int = 5000  # entries in the zip (folders included)
    max_total_bytes: int = 200 * 2**20  # uncompressed, all members
    max_file_bytes: int = 20 * 2**20  # uncompressed, one member
    max_pixels: int = 4096 * 4096  # one image (width x height), checked before decoding
    max_classes: int = 100
    min_classes: int = 2
    min_per_class: int = 4  # a few for training, one for validation, one for testing


@dataclass
class UploadReport:
    classes: list[str]
    counts: list[int]
    modes: dict[str, int] = field(default_factory=dict)  # original image modes seen, e.g. {"RGBA": 3, "L": 10}
    ignored: list[str] = field(default_factory=list)  # junk like __MACOSX/ or .DS_Store
    size: int = 32

    def summary(self) -> str:
        per = ", ".join(f"{c} ({n})" for c, n in zip(self.classes, self.counts))
        modes = ", ".join(f"{m} x{n}" for m, n in sorted(self.modes.items()))
        return f"{sum(self.counts)} images in {len(self.classes)} classes: {per}. Modes: {modes}."


def _is_junk(parts: tuple[str, ...]) -> bool:
    return any(p == "__MACOSX" or p.startswith("._") for p in parts) or parts[-1].lower() in JUNK_NAMES or any(
        p.startswith(".") for p in parts
    )


def _check_name(name: str) -> PurePosixPath:
    """Reject absolute paths and path traversal (zip-slip), whatever separator the archive used."""
    raw = name.replace("\\", "/")
    if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":") or raw.startswith("//"):
        raise UploadError(f"the zip contains an absolute path ({name!r}); only relative class folders are allowed")
    path = PurePosixPath(raw)
    if any(part == ".." for part in path.parts):
        raise UploadError(f"the zip contains a path that climbs out of its folder ({name!r}); refusing it")
    return path


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """Read one member, counting the bytes really produced (a zip header's size can lie)."""
    with zf.open(info) as f:
        data = f.read(cap + 1)
    if len(data) > cap:
        raise UploadError(f"{info.filename} is larger than {cap / 2**20:.0f} MB uncompressed; refusing it")
    return data


def _to_rgb(img, name: str):
    from PIL import Image

    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        arr = np.zeros_like(arr) if hi <= lo else (arr - lo) / (hi - lo) * 255.0
        img = Image.fromarray(arr.astype(np.uint8), mode="L")
        mode = "L"
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode in ("1", "L", "CMYK", "YCbCr", "LAB", "HSV"):
        img = img.convert("RGB")
    elif mode in ("LA", "PA"):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img).convert("RGB")
    if img.mode != "RGB":
        try:
            img = img.convert("RGB")
        except (ValueError, OSError) as exc:
            raise UploadError(f"{name}: image mode {mode!r} cannot be converted to RGB ({exc})") from exc
    return img


def _decode(data: bytes, name: str, size: int, limits: UploadLimits) -> tuple[np.ndarray, str]:
    from PIL import Image

    # The size check below runs on the header, before any pixel is decoded. Pillow's own guard
    # (Image.MAX_IMAGE_PIXELS, a process-wide setting this module leaves alone because other threads share it)
    # stays as a second line: its DecompressionBombError is caught and reported like ours.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return _decode_checked(data, name, size, limits)


def _decode_checked(data: bytes, name: str, size: int, limits: UploadLimits) -> tuple[np.ndarray, str]:
    from PIL import Image, UnidentifiedImageError

    try:
        try:
            img = Image.open(io.BytesIO(data))  # lazy: reads the header only
        except UnidentifiedImageError as exc:
            raise UploadError(f"{name} is not an image Pillow can read (corrupt, or not an image at all)") from exc
        w, h = img.size
        if w * h > limits.max_pixels or w <= 0 or h <= 0:
            raise UploadError(f"{name} is {w}x{h} pixels, more than the {limits.max_pixels:,} allowed per image "
                              "(a decompression bomb, or simply too big: shrink it first)")  # fmt: skip
        mode = img.mode
        try:
            img.load()
        except Image.DecompressionBombError as exc:
            raise UploadError(f"{name}: decompression bomb refused ({exc})") from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise UploadError(f"{name} is a corrupt or truncated image ({exc})") from exc
        if getattr(img, "n_frames", 1) > 1:
            img.seek(0)
        img = _to_rgb(img, name)
        img = img.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=None)
        return np.asarray(img, dtype=np.uint8).transpose(2, 0, 1).copy(), mode
    except Image.DecompressionBombError as exc:
        raise UploadError(f"{name}: decompression bomb refused ({exc})") from exc


def load_image_zip(
    source: bytes | BinaryIO,
    *,
    size: int = 32,
    limits: UploadLimits = UploadLimits(),
) -> tuple[ImageSet, UploadReport]:
    """Validate and decode a zip of class folders; returns (uint8 RGB ImageSet [N,3,size,size], report)."""
    if isinstance(source, (bytes, bytearray)):
        blob = bytes(source)
    else:
        blob = source.read(limits.max_upload_bytes + 1)
    if len(blob) > limits.max_upload_bytes:
        raise UploadError(f"the upload is larger than {limits.max_upload_bytes / 2**20:.0f} MB")
    if len(blob) == 0:
        raise UploadError("the upload is empty")
    try:
        zf = zipfile.ZipFile(io.BytesIO(blob))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise UploadError(f"this is not a readable zip file ({exc})") from exc

    with zf:
        if len(infos) > limits.max_files:
            raise UploadError(f"the zip holds {len(infos):,} entries; at most {limits.max_files:,} are allowed")
        declared = sum(i.file_size for i in infos)
        if declared > limits.max_total_bytes:
            raise UploadError(f"the zip unpacks to {declared / 2**20:.0f} MB; at most "
                              f"{limits.max_total_bytes / 2**20:.0f} MB are allowed")  # fmt: skip

        files: list[tuple[zipfile.ZipInfo, tuple[str, ...]]] = []
        dirs: list[tuple[str, ...]] = []
        ignored: list[str] = []
        for info in infos:
            path = _check_name(info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise UploadError(f"the zip contains a symbolic link ({info.filename!r}); links are not allowed")
            if info.flag_bits & 0x1:
                raise UploadError(f"{info.filename} is encrypted; upload an unencrypted zip")
            parts = tuple(p for p in path.parts if p not in ("", "."))
            if not parts:
                continue
            if _is_junk(parts):
                ignored.append(info.filename)
                if len(parts) >= 2 and not _is_junk(parts[:-1]):
                    dirs.append(parts[:-1])  # e.g. dogs/.DS_Store: "dogs" is still a (perhaps empty) class folder
            elif info.is_dir():
                dirs.append(parts)
            else:
                files.append((info, parts))

        if not files:
            raise UploadError("the zip has no files in it")
        # Strip one wrapping folder when everything sits inside the same top folder and files are 3 deep.
        tops = {parts[0] for _, parts in files} | {parts[0] for parts in dirs}
        if len(tops) == 1 and all(len(parts) >= 3 for _, parts in files):
            files = [(info, parts[1:]) for info, parts in files]
            dirs = [parts[1:] for parts in dirs if len(parts) > 1]
        loose = [info.filename for info, parts in files if len(parts) == 1]
        if loose:
            raise UploadError(f"files must be inside one folder per class (e.g. cats/001.png); these are not: "
                              f"{', '.join(loose[:5])}{' …' if len(loose) > 5 else ''}")  # fmt: skip
        deep = [info.filename for info, parts in files if len(parts) > 2]
        if deep:
            raise UploadError(f"class folders must hold images directly, without subfolders; found "
                              f"{', '.join(deep[:5])}{' …' if len(deep) > 5 else ''}")  # fmt: skip
        # Every top folder is a class, including one that holds no images (it is reported as empty).
        class_dirs = {parts[0] for _, parts in files} | {parts[0] for parts in dirs}
        classes = sorted(class_dirs)
        if len(classes) < limits.min_classes:
            raise UploadError(f"found {len(classes)} class folder{'s' if len(classes) != 1 else ''} "
                              f"({', '.join(classes) or 'none'}); a classifier needs at least {limits.min_classes}")  # fmt: skip
        if len(classes) > limits.max_classes:
            raise UploadError(f"found {len(classes)} class folders; at most {limits.max_classes} are allowed")

        not_images = [info.filename for info, parts in files if PurePosixPath(parts[-1]).suffix.lower()
                      not in IMAGE_EXTENSIONS]  # fmt: skip
        if not_images:
            raise UploadError(f"these files are not images (allowed: {', '.join(sorted(IMAGE_EXTENSIONS))}): "
                              f"{', '.join(not_images[:5])}{' …' if len(not_images) > 5 else ''}")  # fmt: skip

        arrays: list[np.ndarray] = []
        labels: list[int] = []
        modes: dict[str, int] = {}
        total = 0
        index = {c: i for i, c in enumerate(classes)}
        for info, parts in files:
            data = _read_capped(zf, info, limits.max_file_bytes)
            total += len(data)
            if total > limits.max_total_bytes:
                raise UploadError(f"the zip unpacks to more than {limits.max_total_bytes / 2**20:.0f} MB")
            arr, mode = _decode(data, info.filename, size, limits)
            modes[mode] = modes.get(mode, 0) + 1
            arrays.append(arr)
            labels.append(index[parts[0]])

    counts = np.bincount(np.array(labels, dtype=np.int64), minlength=len(classes)).tolist()
    empty = [c for c, n in zip(classes, counts) if n == 0]
    if empty:
        raise UploadError(f"these class folders hold no images: {', '.join(empty)}")
    few = [f"{c} ({n})" for c, n in zip(classes, counts) if n < limits.min_per_class]
    if few:
        raise UploadError(f"every class needs at least {limits.min_per_class} images (for training, validation "
                          f"and testing); too few in: {', '.join(few)}")  # fmt: skip
    images = torch.from_numpy(np.stack(arrays))
    imageset = ImageSet(images, torch.tensor(labels, dtype=torch.long), classes, "upload")
    return imageset, UploadReport(classes, counts, modes, ignored, size)
