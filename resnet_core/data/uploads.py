"""A user-uploaded zip of class folders (ImageFolder layout) -> a validated :class:`ImageSet`, as bounded work.

Nothing is extracted to disk: members are read one at a time from the zip in memory. The work is bounded in
every dimension a hostile or careless upload can push:

- entries, bytes per member (counted while reading, never trusted from the zip's header) and bytes in total;
- pixels per image and decoded pixels in total, both read from the image header *before* decoding (a large
  JPEG is decoded at 1/2, 1/4 or 1/8 scale with Pillow's ``draft``, and is counted at that scale);
- wall-clock seconds, checked between members, and a ``should_stop`` callable (the owning job's stop check)
  checked between members, so a closed tab's upload ends within one image;
- only the allowed formats are decoded (``Image.open(..., formats=...)``), whatever the file's extension says.

Every problem raises :class:`UploadError` (a ValueError) whose message says what is wrong and with which file;
any failure while reading or decoding one member (corrupt deflate data, CRC errors, unsupported compression,
truncated images, text-chunk bombs, ...) becomes one too, so a page can show the message as it is.

Accepted layouts::

    cats/001.png, dogs/002.jpg, ...                 (class folders at the top)
    mydata/cats/001.png, mydata/dogs/002.jpg, ...   (one wrapping folder)

Ignored everywhere: ``__MACOSX/``, dot-files (``.DS_Store``, ``._x``), ``Thumbs.db``, ``desktop.ini``; ignored at
the top (or directly inside the wrapping folder): README / LICENSE / COPYING files. Class names are Unicode NFC;
two folders whose names differ only in case or Unicode form are rejected, naming both.

Images of any mode are converted to RGB: transparency (RGBA, LA, P with transparency) is composited on white,
CMYK and 16-bit/float greys are converted (float images with NaN or infinity are rejected), and everything is
resized to ``size`` x ``size``.
"""

from __future__ import annotations

import io
import re
import stat
import time
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import BinaryIO

import numpy as np
import torch

from resnet_core.data.datasets import ImageSet
from resnet_core.data.image_decode import decode_image, member_error
from resnet_core.data.upload_errors import UploadError

# Extension -> the Pillow formats allowed to decode it. The set of all of them is what Image.open may try:
# a .jpg that is really a PNG is fine, an AVIF/ICO/TGA/... renamed .png is not.
FORMATS_BY_EXTENSION = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".bmp": "BMP",
    ".gif": "GIF",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".ppm": "PPM",
    ".pgm": "PPM",
}
IMAGE_EXTENSIONS = set(FORMATS_BY_EXTENSION)
JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
DOC_STEMS = {"readme", "license", "licence", "copying", "notice", "authors", "citation", "changelog"}
# Zip compression methods Python's zipfile decodes: stored, deflate, bzip2, lzma. Others (Deflate64 = 9,
# AES = 99, ...) are refused up front with a message instead of a NotImplementedError at read time.
SUPPORTED_METHODS = {
    zipfile.ZIP_STORED: "stored",
    zipfile.ZIP_DEFLATED: "deflate",
    zipfile.ZIP_BZIP2: "bzip2",
    zipfile.ZIP_LZMA: "lzma",
}
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _listed(names: list[str]) -> str:
    return ", ".join(names[:5]) + (" …" if len(names) > 5 else "")


@dataclass(frozen=True)
class UploadLimits:
    max_upload_bytes: int = 50 * 2**20  # the zip itself
    max_files: int = 5000  # entries in the zip (folders included)
    max_total_bytes: int = 200 * 2**20  # uncompressed, all members
    max_file_bytes: int = 20 * 2**20  # uncompressed, one member
    max_pixels: int = 4096 * 4096  # one image (width x height at the decoded scale), checked before decoding
    # All images together, at the scale they are decoded (JPEG drafts count reduced). 200 Mpx decode in ~10-20 s
    # on one CPU core: hundreds of photos (decoded at 1/8 scale), or 12 PNGs of the maximal size.
    max_total_pixels: int = 200_000_000
    max_seconds: float = 120.0  # wall clock for the whole upload, checked between members
    max_classes: int = 100
    min_classes: int = 2
    min_per_class: int = 4  # a few for training, one for validation, one for testing


@dataclass
class UploadReport:
    classes: list[str]
    counts: list[int]
    modes: dict[str, int] = field(default_factory=dict)  # original image modes seen, e.g. {"RGBA": 3, "L": 10}
    ignored: list[str] = field(default_factory=list)  # junk like __MACOSX/ or .DS_Store, README at the top
    size: int = 32
    decoded_pixels: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        """Plain text (class names are the uploader's: show this with st.text or escaped, never as Markdown)."""
        per = ", ".join(f"{c} ({n})" for c, n in zip(self.classes, self.counts))
        modes = ", ".join(f"{m} x{n}" for m, n in sorted(self.modes.items()))
        return f"{sum(self.counts)} images in {len(self.classes)} classes: {per}. Modes: {modes}."


def _is_junk(parts: tuple[str, ...]) -> bool:
    return any(p == "__MACOSX" or p.startswith(".") for p in parts) or parts[-1].lower() in JUNK_NAMES


def _is_doc(name: str) -> bool:
    return PurePosixPath(name).stem.lower() in DOC_STEMS or name.lower() in DOC_STEMS


def _check_name(name: str) -> tuple[str, ...]:
    """Reject absolute paths and path traversal (zip-slip), whatever separator the archive used. The parts stay
    as written (class names are normalised to NFC later, after checking that no two collide)."""
    raw = name.replace("\\", "/")
    if raw.startswith("/") or _DRIVE.match(raw):
        raise UploadError("absolute_path", name=name)
    parts = tuple(p for p in PurePosixPath(raw).parts if p not in ("", "."))
    if any(part == ".." for part in parts):
        raise UploadError("climbs_out", name=name)
    if any(_CONTROL.search(p) for p in parts):
        raise UploadError("control_chars", name=name)
    return parts


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """Read one member, counting the bytes really produced (a zip header's size can lie)."""
    with zf.open(info) as f:
        data = f.read(cap + 1)
    if len(data) > cap:
        raise UploadError("member_too_large", name=info.filename, mb=cap / 2**20)
    if len(data) != info.file_size:
        raise UploadError("size_mismatch", name=info.filename, said=info.file_size, held=len(data))
    return data


def _list_entries(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]):
    """-> (files [(info, parts)], dirs [parts], ignored [names]) with junk, docs and the wrapper folder handled."""
    files: list[tuple[zipfile.ZipInfo, tuple[str, ...]]] = []
    dirs: list[tuple[str, ...]] = []
    ignored: list[str] = []
    seen: dict[str, str] = {}
    for info in infos:
        parts = _check_name(info.filename)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise UploadError("symlink", name=info.filename)
        if not parts:
            continue
        key = "/".join(parts) + ("/" if info.is_dir() else "")
        if key in seen:
            raise UploadError("duplicate", name=info.filename)
        seen[key] = info.filename
        if _is_junk(parts):
            ignored.append(info.filename)
            if len(parts) >= 2 and not _is_junk(parts[:-1]):
                dirs.append(parts[:-1])  # e.g. dogs/.DS_Store: "dogs" is still a (perhaps empty) class folder
            continue
        if info.is_dir():
            dirs.append(parts)
            continue
        if info.flag_bits & 0x1:
            raise UploadError("encrypted", name=info.filename)
        if info.compress_type not in SUPPORTED_METHODS:
            raise UploadError("zip_method", name=info.filename, method=info.compress_type)
        files.append((info, parts))

    def drop_docs(entries):
        kept = []
        for info, parts in entries:
            if len(parts) == 1 and _is_doc(parts[0]):
                ignored.append(info.filename)
            else:
                kept.append((info, parts))
        return kept

    files = drop_docs(files)
    # Strip one wrapping folder when everything (docs inside it aside) sits inside the same top folder.
    tops = {parts[0] for _, parts in files} | {parts[0] for parts in dirs}
    if len(tops) == 1 and files and all(len(parts) >= 2 for _, parts in files):
        inner = [(info, parts[1:]) for info, parts in files]
        docs_inside = [(info, parts) for info, parts in inner if len(parts) == 1 and _is_doc(parts[0])]
        inner = [entry for entry in inner if entry not in docs_inside]
        if inner and all(len(parts) >= 2 for _, parts in inner):
            files = inner
            dirs = [parts[1:] for parts in dirs if len(parts) > 1]
            ignored.extend(info.filename for info, _ in docs_inside)
    return files, dirs, ignored


def load_image_zip(
    source: bytes | BinaryIO,
    *,
    size: int = 32,
    limits: UploadLimits = UploadLimits(),
    should_stop: Callable[[], bool] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[ImageSet, UploadReport]:
    """Validate and decode a zip of class folders; returns (uint8 RGB ImageSet [N,3,size,size], report).

    ``should_stop`` (e.g. the owning job's) is checked between members: True ends the work with an UploadError
    "cancelled". ``on_progress(done, total)`` is called after every image.
    """
    started = time.monotonic()
    if isinstance(source, (bytes, bytearray, memoryview)):
        blob = bytes(source)
    else:
        blob = source.read(limits.max_upload_bytes + 1)
    if len(blob) > limits.max_upload_bytes:
        raise UploadError("upload_too_large", mb=limits.max_upload_bytes / 2**20)
    if len(blob) == 0:
        raise UploadError("empty")
    try:
        zf = zipfile.ZipFile(io.BytesIO(blob))
        infos = zf.infolist()
    except Exception as exc:  # BadZipFile, LargeZipFile, OSError, ValueError, struct errors, ...
        raise UploadError("not_a_zip", error=f"{type(exc).__name__}: {exc}") from exc

    with zf:
        if len(infos) > limits.max_files:
            raise UploadError("too_many_entries", n=len(infos), max=limits.max_files)
        declared = sum(i.file_size for i in infos)
        if declared > limits.max_total_bytes:
            raise UploadError("unpacks_too_large", mb=declared / 2**20, max=limits.max_total_bytes / 2**20)
        files, dirs, ignored = _list_entries(zf, infos)
        if not files:
            raise UploadError("no_files")
        loose = [info.filename for info, parts in files if len(parts) == 1]
        if loose:
            raise UploadError("loose_files", names=_listed(loose))
        deep = [info.filename for info, parts in files if len(parts) > 2]
        if deep:
            raise UploadError("subfolders", names=_listed(deep))
        # Every top folder is a class, including one that holds no images (it is reported as empty).
        class_dirs = {parts[0] for _, parts in files} | {parts[0] for parts in dirs}
        folded: dict[str, str] = {}
        for name in sorted(class_dirs):
            other = folded.setdefault(unicodedata.normalize("NFC", name).casefold(), name)
            if other != name:
                message = (
                    "case_clash"
                    if unicodedata.normalize("NFC", other) != unicodedata.normalize("NFC", name)
                    else "unicode_clash"
                )
                raise UploadError(message, a=other, b=name, a_ascii=ascii(other), b_ascii=ascii(name))
        nfc = {name: unicodedata.normalize("NFC", name) for name in class_dirs}
        classes = sorted(nfc.values())
        if len(classes) < limits.min_classes:
            key = "no_classes" if not classes else "one_class" if len(classes) == 1 else "too_few_classes"
            raise UploadError(key, n=len(classes), names=", ".join(classes), min=limits.min_classes)
        if len(classes) > limits.max_classes:
            raise UploadError("too_many_classes", n=len(classes), max=limits.max_classes)

        not_images = [
            info.filename for info, parts in files if PurePosixPath(parts[-1]).suffix.lower() not in IMAGE_EXTENSIONS
        ]
        if not_images:
            raise UploadError("not_images", allowed=", ".join(sorted(IMAGE_EXTENSIONS)), names=_listed(not_images))

        arrays: list[np.ndarray] = []
        labels: list[int] = []
        modes: dict[str, int] = {}
        total = 0
        pixels = 0
        index = {raw: classes.index(name) for raw, name in nfc.items()}
        for done, (info, parts) in enumerate(files):
            if should_stop is not None and should_stop():
                raise UploadError("cancelled")
            if time.monotonic() - started > limits.max_seconds:
                raise UploadError("too_slow", s=limits.max_seconds, name=info.filename)
            try:
                data = _read_capped(zf, info, limits.max_file_bytes)
                total += len(data)
                if total > limits.max_total_bytes:
                    raise UploadError("unpacked_too_large", mb=limits.max_total_bytes / 2**20)
                arr, mode, used = decode_image(
                    data,
                    info.filename,
                    size,
                    max_pixels=limits.max_pixels,
                    pixels_left=limits.max_total_pixels - pixels,
                    max_total_pixels=limits.max_total_pixels,
                )
            except UploadError:
                raise
            except Exception as exc:  # every member-level failure names the file
                raise member_error(info.filename, exc) from exc
            pixels += used
            modes[mode] = modes.get(mode, 0) + 1
            arrays.append(arr)
            labels.append(index[parts[0]])
            if on_progress is not None:
                on_progress(done + 1, len(files))

    counts = np.bincount(np.array(labels, dtype=np.int64), minlength=len(classes)).tolist()
    empty = [c for c, n in zip(classes, counts) if n == 0]
    if empty:
        raise UploadError("empty_classes", names=", ".join(empty))
    few = [f"{c} ({n})" for c, n in zip(classes, counts) if n < limits.min_per_class]
    if few:
        raise UploadError("too_few_images", min=limits.min_per_class, names=", ".join(few))
    images = torch.from_numpy(np.stack(arrays))
    imageset = ImageSet(images, torch.tensor(labels, dtype=torch.long), classes, "upload")
    report = UploadReport(classes, counts, modes, ignored, size, pixels, time.monotonic() - started)
    return imageset, report


def content_key(blob: bytes, *extra: object) -> str:
    """A cache key from the upload's content (sha256), not its name or size, plus settings such as the size."""
    import hashlib

    return hashlib.sha256(blob).hexdigest() + "".join(f"|{e}" for e in extra)
