"""Generators of hostile and careless uploads: (name, zip bytes, expected classes or None for "rejected", match).

Shared by tests/test_hostile_uploads.py (each case: accepted with the right classes, or UploadError, no hang) and
scripts that measure the worst case (tests/test_browser.py uploads one of them through the page).
"""

from __future__ import annotations

import io
import stat
import struct
import unicodedata
import zipfile
import zlib

import numpy as np
from PIL import Image, PngImagePlugin

CLASSES = ["cats", "dogs"]


def img_bytes(fmt: str = "PNG", size=(12, 10), mode="RGB", color=(200, 30, 30), **save) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color if mode in ("RGB", "RGBA", "CMYK") else 90).save(buf, format=fmt, **save)
    return buf.getvalue()


def png(**kw) -> bytes:
    return img_bytes("PNG", **kw)


def make_zip(entries, *, method=zipfile.ZIP_DEFLATED, symlink: str | None = None) -> bytes:
    """entries: list or dict of name -> bytes (a file) or None (a directory entry); duplicates allowed in a list."""
    items = entries.items() if isinstance(entries, dict) else entries
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Duplicate name"
            for name, data in items:
                if data is None:
                    zf.writestr(zipfile.ZipInfo(name if name.endswith("/") else name + "/"), b"")
                else:
                    info = zipfile.ZipInfo(name)
                    info.compress_type = method
                    zf.writestr(info, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


def good(prefix: str = "", classes=CLASSES, n: int = 4, maker=png) -> list:
    return [(f"{prefix}{c}/{i}.png", maker()) for c in classes for i in range(n)]


# ------------------------------------------------------------------------------------- raw header patching
LOCAL, CENTRAL = b"PK\x03\x04", b"PK\x01\x02"
LOCAL_FIELDS = {"flags": (6, "<H"), "method": (8, "<H"), "crc": (14, "<I"), "csize": (18, "<I"), "usize": (22, "<I")}
CENTRAL_FIELDS = {
    "flags": (8, "<H"),
    "method": (10, "<H"),
    "crc": (16, "<I"),
    "csize": (20, "<I"),
    "usize": (24, "<I"),
    "offset": (42, "<I"),
}


def patch(blob: bytes, name: str, *, local: dict | None = None, central: dict | None = None) -> bytes:
    """Overwrite header fields of member ``name`` in the local and/or central directory headers."""
    data = bytearray(blob)
    target = name.encode()
    for sig, fields, fnlen_at, header_len, changes in (
        (LOCAL, LOCAL_FIELDS, 26, 30, local),
        (CENTRAL, CENTRAL_FIELDS, 28, 46, central),
    ):
        if not changes:
            continue
        pos = 0
        while (pos := data.find(sig, pos)) >= 0:
            (fnlen,) = struct.unpack_from("<H", data, pos + fnlen_at)
            if bytes(data[pos + header_len : pos + header_len + fnlen]) == target:
                for key, value in changes.items():
                    off, fmt = fields[key]
                    struct.pack_into(fmt, data, pos + off, value)
            pos += 4
    return bytes(data)


def corrupt_data(blob: bytes, name: str) -> bytes:
    """Flip bytes in the middle of member ``name``'s compressed data."""
    data = bytearray(blob)
    pos = data.find(LOCAL + b"")
    while pos >= 0:
        fnlen, extlen = struct.unpack_from("<HH", data, pos + 26)
        if bytes(data[pos + 30 : pos + 30 + fnlen]) == name.encode():
            (csize,) = struct.unpack_from("<I", data, pos + 18)
            start = pos + 30 + fnlen + extlen
            for i in range(start + csize // 4, start + 3 * csize // 4):
                data[i] ^= 0x5A
            return bytes(data)
        pos = data.find(LOCAL, pos + 4)
    raise KeyError(name)


# ---------------------------------------------------------------------------------------- hostile members
def ztxt_bomb() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("comment", "a" * (8 * 2**20), zip=True)  # 8 MB of text -> a few kB zTXt chunk
    return png(pnginfo=info)


def iccp_bomb() -> bytes:
    return png(icc_profile=b"\0" * (8 * 2**20))


def bmp_bad_compression() -> bytes:
    data = bytearray(img_bytes("BMP"))
    struct.pack_into("<I", data, 30, 9)  # biCompression 9: not a method Pillow knows
    return bytes(data)


def bmp_rle_truncated() -> bytes:
    data = bytearray(img_bytes("BMP", mode="P"))
    struct.pack_into("<I", data, 30, 1)  # claims RLE8 over raw data
    return bytes(data[:80])


def png_header(w: int, h: int, bit_depth: int = 8, color_type: int = 0) -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def png_bad_crc() -> bytes:
    data = bytearray(png(size=(40, 40)))
    data[30] ^= 0xFF  # inside IHDR: its CRC no longer matches
    return bytes(data)


def jpeg_huge_header() -> bytes:
    data = bytearray(img_bytes("JPEG", size=(16, 16)))
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, 65000, 65000)
    return bytes(data)


def float_tiff(values) -> bytes:
    arr = np.full((8, 8), 1.0, dtype=np.float32)
    arr.flat[: len(values)] = values
    buf = io.BytesIO()
    Image.fromarray(arr, mode="F").save(buf, format="TIFF")
    return buf.getvalue()


def renamed(fmt: str, mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    img = Image.new(mode, (16, 16), 0)
    img.save(buf, format=fmt)
    return buf.getvalue()


def gif_animated(frames: int = 50) -> bytes:
    buf = io.BytesIO()
    imgs = [Image.new("P", (16, 16), i % 256) for i in range(frames)]
    imgs[0].save(buf, format="GIF", save_all=True, append_images=imgs[1:])
    return buf.getvalue()


def blank_big_png(bits: int = 8) -> bytes:
    mode = "I;16" if bits == 16 else "L"
    buf = io.BytesIO()
    Image.new(mode, (4096, 4096), 0).save(buf, format="PNG")
    return buf.getvalue()


def tiff_16() -> bytes:
    return img_bytes("TIFF", mode="I;16", size=(20, 20))


# ------------------------------------------------------------------------------------------------- cases
def page_demo_zip() -> bytes:
    """For the browser test: Markdown/LaTeX class names and one truncated JPEG (an OSError before this issue)."""
    return make_zip(
        good(classes=["[link](https:evil.example)", ":red[alarm] $x^2$"])
        + [(":red[alarm] $x^2$/broken.jpg", img_bytes("JPEG", size=(64, 64))[:200])]
    )


def cases() -> list[tuple[str, bytes, list[str] | None, str]]:
    """(name, zip bytes, expected class names when accepted or None when rejected, regex the error matches)."""
    out: list[tuple[str, bytes, list[str] | None, str]] = []

    def accept(name, blob, classes=CLASSES):
        out.append((name, blob, classes, ""))

    def reject(name, blob, match=""):
        out.append((name, blob, None, match))

    base = good()
    # --- member-level failures: each must become the upload error naming the file
    reject("truncated JPEG", make_zip(base + [("cats/t.jpg", img_bytes("JPEG", size=(64, 64))[:200])]), "cats/t.jpg")
    reject("truncated PNG", make_zip(base + [("cats/t.png", png(size=(64, 64))[:80])]), "cats/t.png")
    reject("PNG zTXt bomb", make_zip(base + [("cats/z.png", ztxt_bomb())]), "cats/z.png")
    reject("PNG iCCP bomb", make_zip(base + [("cats/i.png", iccp_bomb())]), "cats/i.png")
    reject("BMP unknown compression", make_zip(base + [("cats/b.bmp", bmp_bad_compression())]), "cats/b.bmp")
    reject("BMP RLE truncated", make_zip(base + [("cats/r.bmp", bmp_rle_truncated())]), "cats/r.bmp")
    reject("PNG bad chunk CRC", make_zip(base + [("cats/c.png", png_bad_crc())]), "cats/c.png")
    reject("empty image file", make_zip(base + [("cats/e.png", b"")]), "cats/e.png")
    reject("text renamed .png", make_zip(base + [("cats/x.png", b"hello " * 50)]), "cats/x.png")
    reject("GIF cut inside its header", make_zip(base + [("cats/g.gif", gif_animated(5)[:20])]), "cats/g.gif")
    reject("PPM truncated", make_zip(base + [("cats/p.ppm", b"P6\n64 64\n255\n" + b"\0" * 100)]), "cats/p.ppm")
    reject("PPM bad maxval", make_zip(base + [("cats/p.ppm", b"P6\n4 4\n0\n" + b"\0" * 48)]), "cats/p.ppm")
    reject("TIFF garbage IFD", make_zip(base + [("cats/t.tif", b"II*\x00\xff\xff\xff\x7f" + b"\0" * 40)]), "cats/t.tif")
    reject("WebP truncated", make_zip(base + [("cats/w.webp", img_bytes("WEBP", size=(64, 64))[:40])]), "cats/w.webp")
    # --- zip-level damage
    stored = make_zip(base + [("cats/v.png", png())], method=zipfile.ZIP_STORED)
    deflated = make_zip(base + [("cats/v.png", png(size=(300, 300), color=(1, 2, 3)))])
    reject("Deflate64 entry", patch(stored, "cats/v.png", local={"method": 9}, central={"method": 9}), "cats/v.png")
    reject("AES entry (method 99)", patch(stored, "cats/v.png", local={"method": 99}, central={"method": 99}), "v.png")
    reject(
        "AES entry, encrypted flag",
        patch(stored, "cats/v.png", local={"flags": 1, "method": 99}, central={"flags": 1, "method": 99}),
        "encrypted",
    )
    reject("unknown method 42", patch(stored, "cats/v.png", local={"method": 42}, central={"method": 42}), "v.png")
    reject("corrupt deflate data", corrupt_data(deflated, "cats/v.png"), "cats/v.png")
    reject("bad CRC", patch(stored, "cats/v.png", central={"crc": 0xDEADBEEF}, local={"crc": 0xDEADBEEF}), "v.png")
    reject("central size too small", patch(deflated, "cats/v.png", central={"usize": 10}), "cats/v.png")
    reject("central size too large", patch(deflated, "cats/v.png", central={"usize": 10**6}), "cats/v.png")
    # zipfile reads sizes from the central directory and checks the CRC: lying local sizes change nothing.
    accept("local header sizes lie (ignored, CRC checked)", patch(stored, "cats/v.png", local={"csize": 3, "usize": 3}))
    reject("bad local-header offset", patch(stored, "cats/v.png", central={"offset": 5}), "cats/v.png")
    reject("offset past the end", patch(stored, "cats/v.png", central={"offset": 10**7}), "")
    reject(
        "bzip2 corrupt",
        corrupt_data(make_zip(base + [("cats/v.png", png(size=(200, 200)))], method=zipfile.ZIP_BZIP2), "cats/v.png"),
        "cats/v.png",
    )
    reject(
        "lzma corrupt",
        corrupt_data(make_zip(base + [("cats/v.png", png(size=(200, 200)))], method=zipfile.ZIP_LZMA), "cats/v.png"),
        "cats/v.png",
    )
    reject("zip cut in half", stored[: len(stored) // 2], "not a readable zip")
    reject("not a zip", b"PK\x03\x04 definitely not a zip" * 10, "not a readable zip")
    reject("empty upload", b"", "empty")
    reject(
        "zip bomb member (1 GB of zeros, declared small)",
        patch(
            make_zip(base + [("cats/bomb.png", b"\0" * (64 * 2**20))]),
            "cats/bomb.png",
            central={"usize": 1000},
            local={"usize": 1000},
        ),
        "bomb.png",
    )
    reject(
        "too many entries",
        make_zip([(f"cats/{i}.png", b"") for i in range(5001)], method=zipfile.ZIP_STORED),
        "entries",
    )
    # --- formats outside the allow-list, renamed .png
    for fmt, mode in [
        ("AVIF", "RGB"),
        ("DDS", "RGB"),
        ("ICO", "RGB"),
        ("PCX", "RGB"),
        ("QOI", "RGB"),
        ("SGI", "RGB"),
        ("TGA", "RGB"),
        ("XBM", "1"),
        ("IM", "RGB"),
        ("MSP", "1"),
        ("SPIDER", "F"),
        ("ICNS", "RGB"),
        ("JPEG2000", "RGB"),
        ("EPS", "RGB"),
    ]:
        try:
            blob = renamed(fmt, mode)
        except Exception:  # this Pillow build cannot write it: nothing to test
            continue
        reject(f"{fmt} renamed .png", make_zip(base + [("cats/f.png", blob)]), "cats/f.png")
    # --- sizes and budgets
    reject("PNG header 100000x100000", make_zip(base + [("cats/h.png", png_header(100000, 100000))]), "pixels")
    reject("PNG header 5000x4000 (20 Mpx of zeros)", make_zip(base + [("cats/h.png", _big_zero_png())]), "pixels")
    reject("JPEG header 65000x65000", make_zip(base + [("cats/h.jpg", jpeg_huge_header())]), "pixels")
    # --- pixel data
    reject("float TIFF full of NaN", make_zip(base + [("cats/n.tif", float_tiff([float("nan")] * 64))]), "NaN")
    reject("float TIFF with inf", make_zip(base + [("cats/n.tif", float_tiff([float("inf")]))]), "NaN or infinite")
    accept("finite float TIFF", make_zip(base + [("cats/f.tif", float_tiff([0.0, 0.5, 2.0]))]))
    # --- names and layout
    reject("path traversal", make_zip(base + [("../evil.png", png())]), "climbs out")
    reject("nested traversal", make_zip(base + [("cats/../../evil.png", png())]), "climbs out")
    reject("absolute path", make_zip(base + [("/etc/evil.png", png())]), "absolute path")
    reject("drive letter", make_zip(base + [("C:\\evil.png", png())]), "absolute path")
    reject("drive letter, forward slash", make_zip(base + [("c:/evil.png", png())]), "absolute path")
    reject("UNC path", make_zip(base + [("\\\\server\\share\\evil.png", png())]), "absolute path")
    reject("symbolic link", make_zip(base, symlink="cats/link.png"), "symbolic link")
    reject("control character in a name", make_zip(base + [("cats\x07/a.png", png())] * 1), "control")
    reject("duplicate entry", make_zip(base + [("cats/0.png", png())]), "twice")
    nfc, nfd = unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")
    reject("NFC and NFD café", make_zip(good(classes=[nfc, nfd])), "Unicode form")
    reject("Cats and cats", make_zip(good(classes=["Cats", "cats", "dogs"])), "Cats.*cats")
    reject("CAFÉ and café (case + NFD)", make_zip(good(classes=["CAFÉ", nfd])), "differ only")
    reject("one class", make_zip(good(classes=["cats"], n=5)), "at least 2")
    reject("too few images", make_zip(good(n=3)), "at least 4")
    reject("empty class folder", make_zip(base + [("birds/", None)]), "hold no images")
    reject("class with only junk", make_zip(base + [("birds/.DS_Store", b"x")]), "hold no images")
    reject("loose file", make_zip(base + [("loose.png", png())]), "one folder per class")
    reject("subfolder in a class", make_zip(base + [("cats/sub/x.png", png())]), "without subfolders")
    reject("non-image in a class", make_zip(base + [("cats/notes.txt", b"hi")]), "not images")
    reject("only junk", make_zip([("__MACOSX/._x", b"j"), (".DS_Store", b"j")]), "no files")
    reject("only a README", make_zip([("README.md", b"hello")]), "no files")
    reject("time budget exhausted", make_zip(base), "longer than")  # run with max_seconds=0 by the test
    reject("cancelled by its session", make_zip(base), "cancelled")  # run with should_stop=lambda: True
    # --- careless but fine: accepted with the right classes
    accept("plain class folders", make_zip(base))
    accept("wrapper folder", make_zip(good("mydata/")))
    accept(
        "wrapper with README and LICENSE",
        make_zip(good("mydata/") + [("mydata/README.md", b"x"), ("mydata/LICENSE", b"x")]),
    )
    accept("README at the top", make_zip(base + [("README.txt", b"x"), ("LICENCE.md", b"x")]))
    accept("wrapper + README beside it", make_zip(good("mydata/") + [("README", b"x")]))
    accept(
        "macOS junk",
        make_zip(
            good("mydata/")
            + [
                ("__MACOSX/mydata/cats/._0.png", b"j"),
                ("mydata/cats/.DS_Store", b"j"),
                ("mydata/Thumbs.db", b"j"),
                ("mydata/dogs/Thumbs.db", b"j"),
            ]
        ),
    )
    accept("colon in a folder name", make_zip(good(classes=["1:1 crops", "2:3 crops"])), ["1:1 crops", "2:3 crops"])
    md = ["[link](https:evil.example)", ":red[alarm]", "$x^2$", "**bold** <i>html"]
    accept("Markdown/LaTeX class names", make_zip(good(classes=md)), sorted(md))
    accept("NFD name becomes NFC", make_zip(good(classes=[nfd, "tea"])), [nfc, "tea"])
    accept(
        "odd modes (RGBA, LA, 1, P, CMYK, I;16 TIFF)",
        make_zip(
            base
            + [
                ("cats/rgba.png", png(mode="RGBA", color=(0, 0, 0, 0))),
                ("cats/la.png", png(mode="LA")),
                ("cats/bw.png", png(mode="1")),
                ("dogs/p.gif", img_bytes("GIF", mode="P")),
                ("dogs/cmyk.jpg", img_bytes("JPEG", mode="CMYK", color=(0, 255, 255, 0))),
                ("dogs/t16.tif", tiff_16()),
            ]
        ),
    )
    accept("animated GIF (first frame)", make_zip(base + [("cats/anim.gif", gif_animated())]))
    accept(
        "WebP and BMP and PPM",
        make_zip(
            base
            + [("cats/w.webp", img_bytes("WEBP")), ("cats/b.bmp", img_bytes("BMP")), ("dogs/p.ppm", img_bytes("PPM"))]
        ),
    )
    accept("PNG renamed .jpg", make_zip(base + [("cats/really_png.jpg", png())]))
    accept("big JPEG decoded via draft", make_zip(base + [("cats/big.jpg", img_bytes("JPEG", size=(3000, 2000)))]))
    accept("stored (no compression)", make_zip(base, method=zipfile.ZIP_STORED))
    accept("bzip2 and lzma members", make_zip(base, method=zipfile.ZIP_BZIP2))
    return out


_BIG = {}


def _big_zero_png() -> bytes:
    if "png" not in _BIG:
        buf = io.BytesIO()
        Image.new("L", (5000, 4000)).save(buf, format="PNG")
        _BIG["png"] = buf.getvalue()
    return _BIG["png"]


def many_blank_4k_pngs(n: int = 4998, bits: int = 8) -> bytes:
    """The issue's 1.27 MB zip of 4,998 blank 4096x4096 PNGs (or 16-bit ones): decoding it all would take
    tens of minutes; the total-pixel budget must stop it after a handful."""
    blob = blank_big_png(bits)
    return make_zip([(f"{'ab'[i % 2]}/{i}.png", blob) for i in range(n)])
