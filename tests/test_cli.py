import json

import pytest
import torch

from resnet_core.checkpoints import load_checkpoint, read_manifest, record_in_manifest
from resnet_core.cli import main
from resnet_core.provenance import sha256_file


def test_info_lists_devices_data_and_what_is_missing(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "cpu" in out and "bundled" in out
    assert "ImageNet weights" in out and "resnet18" in out


def test_train_writes_checkpoint_and_provenance(tmp_path, capsys):
    ckpt, record = tmp_path / "r8.pt", tmp_path / "r8.json"
    code = main(["train", "--depth", "8", "--epochs", "1", "--max-steps", "3", "--train-size", "200",
                 "--device", "cpu", "--out", str(ckpt), "--json", str(record)])
    assert code == 0
    data = json.loads(record.read_text())
    for key in ("command", "seed", "data", "device", "date", "git_revision", "test_acc", "sha256", "history"):
        assert key in data
    assert data["sha256"] == sha256_file(ckpt)
    assert data["net_config"]["depth"] == 8 and data["train_config"]["max_steps"] == 3
    model, meta = load_checkpoint(ckpt)
    assert model.config.depth == 8 and meta["test_acc"] == data["test_acc"]
    # fp16 storage: weights come back as float32 and equal to fp16 precision
    assert all(v.dtype in (torch.float32, torch.int64) for v in model.state_dict().values())


def test_manifest_records_hash(tmp_path):
    f = tmp_path / "x.pt"
    f.write_bytes(b"abc")
    manifest = tmp_path / "manifest.json"
    record_in_manifest(f, {"test_acc": 0.5}, manifest)
    entry = read_manifest(manifest)["checkpoints"]["x"]
    assert entry["sha256"] == sha256_file(f) and entry["test_acc"] == 0.5


def test_bad_checkpoint_gives_a_clear_error(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable ResNet Lab checkpoint"):
        load_checkpoint(bad)


def test_imagenet_weights_missing_offline_says_where(tmp_path, monkeypatch):
    from resnet_core.checkpoints import build_imagenet_resnet

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="resnet18-.*pth"):
        build_imagenet_resnet("resnet18", 4)


def test_unknown_dataset_is_an_argparse_error():
    assert main(["train", "--dataset", "nope"]) == 2
