"""Shipped checkpoints are verified against the manifest (once per process), weights must be finite."""

from __future__ import annotations

import shutil

import pytest
import torch

import resnet_core.checkpoints as ck
from resnet_core.models import build_cifar_net


@pytest.fixture
def shipped_copy(tmp_path, monkeypatch):
    """A private copy of the checkpoint folder (resnet20.pt + manifest), so the real files are never touched."""
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    shutil.copy(ck.CHECKPOINT_DIR / "resnet20.pt", folder / "resnet20.pt")
    shutil.copy(ck.MANIFEST_PATH, folder / "manifest.json")
    monkeypatch.setattr(ck, "CHECKPOINT_DIR", folder)
    monkeypatch.setattr(ck, "MANIFEST_PATH", folder / "manifest.json")
    monkeypatch.setattr(ck, "_VERIFIED", set())
    return folder / "resnet20.pt"


def test_shipped_file_is_hashed_once_per_process(shipped_copy, monkeypatch):
    calls = []
    real = ck.sha256_file
    monkeypatch.setattr(ck, "sha256_file", lambda p: calls.append(p) or real(p))
    for _ in range(3):
        model, _ = ck.load_checkpoint(shipped_copy)
    assert model.config.depth == 20 and len(calls) == 1


def test_flipped_bytes_are_refused_naming_the_file_and_the_fix(shipped_copy):
    data = bytearray(shipped_copy.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 4096] = bytes(b ^ 0xFF for b in data[mid : mid + 4096])  # 4 KB of flipped bytes
    shipped_copy.write_bytes(bytes(data))
    with pytest.raises(ck.CheckpointError) as err:
        ck.load_checkpoint(shipped_copy)
    text = str(err.value)
    assert "resnet20.pt" in text and "sha256" in text and "git checkout -- " in text
    assert "python -m resnet_core train" in text, "the manifest's command that rebuilds it"


def test_non_finite_weights_are_refused(tmp_path):
    model = build_cifar_net(8)
    with torch.no_grad():
        next(model.parameters())[0].fill_(float("nan"))
    path = ck.save_checkpoint(model, tmp_path / "nan8.pt")
    with pytest.raises(ck.CheckpointError, match="nan8.pt holds non-finite weights"):
        ck.load_checkpoint(path)


def test_missing_checkpoint_says_how_to_restore(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.*git checkout"):
        ck.load_checkpoint(tmp_path / "gone.pt")
