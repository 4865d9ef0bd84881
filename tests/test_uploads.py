"""Validation of user-uploaded zips of class folders (resnet_core.data.uploads): every bad case gets a clear error."""

from __future__ import annotations

import io
import stat
import zipfile

import pytest
from PIL import Image

from resnet_core.data.uploads import UploadError, UploadLimits, load_image_zip


def png(size=(12, 10), mode="RGB", color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, format="PNG")
    return buf.getvalue()


def jpeg_cmyk() -> bytes:
    buf = io.BytesIO()
    Image.new("CMYK", (9, 9), (0, 255, 255, 0)).save(buf, format="JPEG")
    return buf.getvalue()


def make_zip(entries: dict[str, bytes | None], *, symlink: str | None = None) -> bytes:
    """entries: name -> bytes (a file) or None (a directory entry)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            if data is None:
                zf.writestr(zipfile.ZipInfo(name if name.endswith("/") else name + "/"), b"")
            else:
                zf.writestr(zipfile.ZipInfo(name), data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


def good_entries(prefix: str = "") -> dict[str, bytes | None]:
    entries: dict[str, bytes | None] = {}
    for i in range(4):
        entries[f"{prefix}cats/c{i}.png"] = png()
        entries[f"{prefix}dogs/d{i}.png"] = png(color=(10, 200, 10))
    return entries


def test_valid_zip_with_odd_modes_and_junk():
    entries = good_entries("mydata/")
    p_img = Image.new("P", (8, 8), 3)
    p_img.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] * 64)
    buf = io.BytesIO()
    p_img.save(buf, format="PNG")
    entries.update(
        {
            "mydata/cats/rgba.png": png(mode="RGBA", color=(0, 0, 0, 0)),  # fully transparent -> white
            "mydata/cats/grey.png": png(mode="L", color=90),
            "mydata/dogs/palette.png": buf.getvalue(),
            "mydata/dogs/cmyk.jpg": jpeg_cmyk(),
            "mydata/dogs/grey16.png": png(mode="I;16", color=4000),
            "__MACOSX/mydata/cats/._c0.png": b"junk",
            "mydata/cats/.DS_Store": b"junk",
        }
    )
    images, report = load_image_zip(make_zip(entries), size=16)
    assert images.class_names == ["cats", "dogs"]
    assert tuple(images.images.shape) == (len(images), 3, 16, 16)
    assert images.class_counts() == [6, 7]
    assert {"RGBA", "L", "P", "CMYK", "RGB"} <= set(report.modes)
    assert len(report.ignored) == 2
    whites = (images.images.view(len(images), -1) == 255).all(1)
    assert whites.sum() == 1, "the transparent RGBA image must be composited on white"
    blue = images.images[images.labels == 1][:, 2].float().mean((1, 2))
    assert (blue > 200).any(), "the palette image (palette index 3 = blue) must decode to blue"


@pytest.mark.parametrize(
    "entries, symlink, match",
    [
        ({**good_entries(), "../evil.png": png()}, None, "climbs out"),
        ({**good_entries(), "cats/../../evil.png": png()}, None, "climbs out"),
        ({**good_entries(), "/etc/evil.png": png()}, None, "absolute path"),
        ({**good_entries(), "C:\\evil.png": png()}, None, "absolute path"),
        (good_entries(), "cats/link.png", "symbolic link"),
        ({**good_entries(), "cats/readme.txt": b"hello"}, None, "not images"),
        ({**good_entries(), "cats/fake.png": b"not really a png" * 10}, None, "not an image"),
        ({**good_entries(), "cats/truncated.png": png((64, 64))[:80]}, None, "corrupt|not an image"),
        ({f"cats/c{i}.png": png() for i in range(5)}, None, "at least 2"),
        ({**good_entries(), "birds/": None}, None, "hold no images"),
        ({**good_entries(), "birds/.DS_Store": b"x"}, None, "hold no images"),
        ({**good_entries(), "loose.png": png()}, None, "one folder per class"),
        ({**good_entries(), "cats/sub/x.png": png()}, None, "without subfolders"),
        ({"cats/a.png": png(), "dogs/b.png": png()}, None, "at least 4"),
        ({}, None, "no files"),
    ],
)
def test_bad_zips_get_clear_messages(entries, symlink, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UploadError, match=match):
        load_image_zip(make_zip(entries, symlink=symlink))
    assert list(tmp_path.iterdir()) == [], "nothing may be written to disk"
    assert not (tmp_path.parent / "evil.png").exists()


def test_decompression_bomb_is_refused_before_decoding():
    buf = io.BytesIO()
    Image.new("L", (5000, 4000)).save(buf, format="PNG")  # 20 Mpx of zeros: a few kB compressed
    assert len(buf.getvalue()) < 200_000
    with pytest.raises(UploadError, match="pixels"):
        load_image_zip(make_zip({**good_entries(), "cats/bomb.png": buf.getvalue()}))
    with pytest.raises(UploadError, match="pixels"):
        load_image_zip(make_zip(good_entries()), limits=UploadLimits(max_pixels=100))  # 12x10 = 120 > 100


def test_limits_on_files_and_bytes():
    blob = make_zip(good_entries())
    with pytest.raises(UploadError, match="entries"):
        load_image_zip(blob, limits=UploadLimits(max_files=5))
    with pytest.raises(UploadError, match="MB"):
        load_image_zip(blob, limits=UploadLimits(max_total_bytes=100))
    with pytest.raises(UploadError, match="larger than"):
        load_image_zip(blob, limits=UploadLimits(max_upload_bytes=100))
    with pytest.raises(UploadError, match="larger than"):
        load_image_zip(blob, limits=UploadLimits(max_file_bytes=50))


def test_not_a_zip_and_empty():
    with pytest.raises(UploadError, match="not a readable zip"):
        load_image_zip(b"PK\x03\x04 definitely not a zip")
    with pytest.raises(UploadError, match="empty"):
        load_image_zip(b"")
    with pytest.raises(ValueError):  # UploadError is a ValueError: callers can catch either
        load_image_zip(io.BytesIO(b"plain text"))
