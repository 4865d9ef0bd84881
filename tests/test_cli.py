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
    code = main(
        [
            "train",
            "--depth",
            "8",
            "--epochs",
            "1",
            "--max-steps",
            "3",
            "--train-size",
            "200",
            "--device",
            "cpu",
            "--out",
            str(ckpt),
            "--json",
            str(record),
        ]
    )
    assert code == 0
    data = json.loads(record.read_text())
    for key in ("command", "seed", "data", "device", "date", "git_revision", "test_acc", "sha256", "history"):
        assert key in data
    assert data["sha256"] == sha256_file(ckpt)
    assert data["net_config"]["depth"] == 8 and data["train_config"]["max_steps"] == 3
    model, meta = load_checkpoint(ckpt)
    assert model.config.depth == 8
    # The reloaded weights (fp16 on disk) reproduce the recorded accuracy on the same test images.
    from resnet_core.data.datasets import load_dataset
    from resnet_core.training.engine import evaluate

    again = evaluate(model, load_dataset("bundled").test, device=torch.device("cpu"))["acc"]
    assert again == pytest.approx(data["test_acc"], abs=0.01)
    # fp16 storage: weights come back as float32 and equal to fp16 precision
    assert all(v.dtype in (torch.float32, torch.int64) for v in model.state_dict().values())


def test_manifest_records_hash(tmp_path):
    f = tmp_path / "x.pt"
    f.write_bytes(b"abc")
    manifest = tmp_path / "manifest.json"
    record_in_manifest(f, {"test_acc": 0.5}, manifest)
    entry = read_manifest(manifest)["checkpoints"]["x"]
    assert entry["sha256"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # sha256("abc")
    assert entry["bytes"] == 3


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


def test_checkpoint_round_trip_gives_the_same_outputs(tmp_path):
    from resnet_core.checkpoints import save_checkpoint
    from resnet_core.models import build_cifar_net
    from resnet_core.training.engine import seeded

    model = seeded(lambda: build_cifar_net(8, width=8), 3).eval()
    x = torch.randn(4, 1, 28, 28)
    path = save_checkpoint(model, tmp_path / "m.pt", meta={"note": "round trip"})
    loaded, meta = load_checkpoint(path)
    assert meta["note"] == "round trip" and loaded.config == model.config
    with torch.no_grad():
        assert torch.allclose(loaded.eval()(x), model(x), atol=2e-2, rtol=1e-2)  # fp16 storage
    assert not torch.equal(loaded.state_dict()["fc.weight"], seeded(lambda: build_cifar_net(8, width=8), 4).fc.weight)


def test_layers_command_prints_a_sentence_per_stage_and_writes_json(tmp_path, capsys):
    out = tmp_path / "layers.json"
    assert main(["layers", "--image", "fashion:5", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "through resnet20 (input 1x28x28)" in text and "Stage 3: 64 channels of 7×7" in text
    data = json.loads(out.read_text())
    assert data["config"] == {"net": "resnet20", "image": "fashion:5"} and len(data["stages"]) == 4
    assert data["provenance"]["data"] == "fashion:5" and data["provenance"]["git_revision"]


@pytest.mark.parametrize("image", ["no-such-photo", "fashion:99999", "fashion:x"])
def test_layers_command_refuses_a_bad_image_in_one_line(image, capsys):
    assert main(["layers", "--image", image]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
