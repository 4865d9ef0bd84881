"""Hostile and careless uploads (tests/hostile_zips.py): each is accepted with the right classes or rejected
with UploadError naming what is wrong; none raises anything else, none hangs, none is silently accepted."""

from __future__ import annotations

import re
import threading

import pytest

from resnet_core.data.uploads import UploadError, UploadLimits, content_key, load_image_zip
from tests.hostile_zips import cases, good, make_zip, many_blank_4k_pngs

CASES = cases()
NO_HANG_S = 60  # generous: each case takes well under a second; this only proves "no hang"


def run_bounded(blob: bytes, **kwargs):
    """load_image_zip in a thread, joined with a generous timeout: (result, exception, finished)."""
    box: dict = {}

    def target():
        try:
            box["result"] = load_image_zip(blob, **kwargs)
        except BaseException as exc:  # the test inspects it
            box["exc"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(NO_HANG_S)
    return box.get("result"), box.get("exc"), not t.is_alive()


def kwargs_for(name: str) -> dict:
    if name == "time budget exhausted":
        return {"limits": UploadLimits(max_seconds=0.0)}
    if name == "cancelled by its session":
        return {"should_stop": lambda: True}
    return {}


def test_at_least_60_cases():
    assert len(CASES) >= 60, len(CASES)


@pytest.mark.parametrize("name, blob, expected, match", CASES, ids=[c[0] for c in CASES])
def test_hostile_zip(name, blob, expected, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result, exc, finished = run_bounded(blob, size=16, **kwargs_for(name))
    assert finished, f"{name}: still running after {NO_HANG_S} s"
    if expected is None:
        assert result is None, f"{name}: accepted silently as {result[1].classes}"
        assert isinstance(exc, UploadError), f"{name}: raw {type(exc).__name__}: {exc}"
        if match:
            assert re.search(match, str(exc)), f"{name}: {exc}"
        assert "\n" not in str(exc), "one line"
    else:
        assert exc is None, f"{name}: {type(exc).__name__}: {exc}"
        images, report = result
        assert images.class_names == expected and report.classes == expected
        assert tuple(images.images.shape[1:]) == (3, 16, 16)
    assert list(tmp_path.iterdir()) == [], "nothing may be written to disk"


@pytest.mark.parametrize("bits", [8, 16])
def test_thousands_of_blank_4k_pngs_stop_at_the_pixel_budget(bits):
    blob = many_blank_4k_pngs(4998, bits)
    assert len(blob) < 5 * 2**20
    limits = UploadLimits(max_total_pixels=3 * 4096 * 4096)  # the default allows ~12; 3 keeps the test quick
    result, exc, finished = run_bounded(blob, limits=limits)
    assert finished
    assert isinstance(exc, UploadError) and "pixels" in str(exc), exc


def test_stop_check_between_members_ends_a_long_upload():
    blob = many_blank_4k_pngs(200)
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) > 2

    result, exc, finished = run_bounded(blob, should_stop=should_stop)
    assert finished and isinstance(exc, UploadError) and "cancelled" in str(exc)
    assert len(calls) == 3, "checked before every member, stopped at the first True"


def test_content_key_differs_for_same_size_uploads():
    a = make_zip(good())
    b = bytearray(a)
    b[-30] ^= 1  # same size, different content
    assert len(a) == len(b) and content_key(a, 32) != content_key(bytes(b), 32)
    assert content_key(a, 32) != content_key(a, 64)
