"""Architectures, preprocessing and "what the layers see": numbers checked against hand computations, and feature
maps checked to be the real forward pass."""

import json

import numpy as np
import pytest
import torch
import torchvision.models as tvm

from resnet_core import architectures as arch
from resnet_core.cli import main
from resnet_core.data.datasets import DATASET_STATS, normalize
from resnet_core.layers import preprocess as pp
from resnet_core.layers import report as layers_report
from resnet_core.layers import run as lv
from resnet_core.models import blocks_per_stage


def meta_params(name: str) -> int:
    with torch.device("meta"):
        return sum(p.numel() for p in getattr(tvm, name)(weights=None).parameters())


# ------------------------------------------------------------------------------------------------- zoo


def test_cli_json_params_and_macs(tmp_path, capsys):
    out = tmp_path / "arch.json"
    assert main(["architectures", "--models", "resnet50,vgg16,resnet20", "--json", str(out)]) == 0
    models = {m["name"]: m for m in json.loads(out.read_text())["models"]}
    for m in models.values():
        for key in ("name", "params", "flops", "macs", "activation_mb", "depth", "imagenet_top1", "stages"):
            assert key in m
        assert m["flops"] == 2 * m["macs"]
    assert models["resnet50"]["params"] == meta_params("resnet50") == 25_557_032
    assert models["vgg16"]["params"] == meta_params("vgg16") == 138_357_544
    assert abs(models["resnet50"]["macs"] / 4.1e9 - 1) < 0.05  # the commonly cited "4.1 GFLOPs" are MACs
    assert models["resnet50"]["imagenet_top1"] == pytest.approx(76.13)
    assert models["resnet20"]["imagenet_top1"] is None
    assert [s["name"] for s in models["resnet50"]["stages"]] == ["stem", "layer1", "layer2", "layer3", "layer4", "head"]
    assert "ResNet-50" in capsys.readouterr().out


@pytest.mark.parametrize("name", list(arch.TORCHVISION_NETS))
def test_counts_agree_with_torchvision_metadata(name):
    s = arch.net_stats(name)
    published = getattr(tvm, arch.TORCHVISION_NETS[name][1]).IMAGENET1K_V1.meta
    assert s.params == published["num_params"]
    assert s.macs / 1e9 == pytest.approx(published["_ops"], rel=0.01)  # torchvision's "GFLOPS" are MACs too
    assert sum(r["params"] for r in s.layers) == s.params  # the layer table covers every parameter once
    assert sum(r["macs"] for r in s.layers) == s.macs


def test_depth_counts_the_main_path():
    assert [arch.net_stats(n).depth for n in ("resnet18", "resnet50", "resnet152", "vgg16", "vgg19")] == [
        18,
        50,
        152,
        16,
        19,
    ]
    assert arch.net_stats("resnet20").depth == 20 and arch.net_stats("plain56").depth == 56


def test_resnet50_layer_table_shapes_and_projections():
    s = arch.net_stats("resnet50")
    out = {st["name"]: st["output_shape"] for st in s.stages}
    assert out["stem"] == [64, 56, 56] and out["layer1"] == [256, 56, 56] and out["layer2"] == [512, 28, 28]
    assert out["layer3"] == [1024, 14, 14] and out["layer4"] == [2048, 7, 7] and out["head"] == [1000]
    assert [r["block"] for r in s.layers if r["downsample"]] == [
        "conv 7x7/2 + maxpool",
        "layer2.0",
        "layer3.0",
        "layer4.0",
    ]
    # Four 1x1 projections (conv + BN): 64->256, 256->512, 512->1024, 1024->2048.
    convs = 64 * 256 + 256 * 512 + 512 * 1024 + 1024 * 2048
    assert s.shortcut_params == convs + 2 * (256 + 512 + 1024 + 2048)
    vgg = arch.net_stats("vgg16")
    assert vgg.params_by_kind["linear"] == 25088 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000


def test_basic_vs_bottleneck_against_hand_computation():
    rows = {r["design"]: r for r in arch.block_costs(channels=256, width=64, size=56)}
    basic = 2 * (3 * 3 * 64 * 64)
    bottleneck = 256 * 64 + 3 * 3 * 64 * 64 + 64 * 256
    wide = 2 * (3 * 3 * 256 * 256)
    assert rows["basic"]["conv_params"] == basic == 73_728
    assert rows["basic"]["params"] == basic + 2 * (2 * 64)  # + two BatchNorms (weight and bias)
    assert rows["bottleneck"]["conv_params"] == bottleneck == 69_632
    assert rows["bottleneck"]["params"] == bottleneck + 2 * (64 + 64 + 256)
    assert rows["basic_wide"]["params"] == wide + 2 * (2 * 256)
    for key, conv_params in (("basic", basic), ("bottleneck", bottleneck), ("basic_wide", wide)):
        assert rows[key]["macs"] == conv_params * 56 * 56  # stride 1, padding keeps 56x56: one MAC per weight per pixel
    text = arch.describe_blocks(list(rows.values()))
    assert "70,400" in text and "17×" in text


def test_shortcut_option_b_adds_projections():
    rows = arch.shortcut_shapes(20)
    assert [(r["input_shape"], r["output_shape"]) for r in rows] == [
        ([16, 28, 28], [32, 14, 14]),
        ([32, 14, 14], [64, 7, 7]),
    ]
    assert [r["added_by_B"] for r in rows] == [16 * 32 + 2 * 32, 32 * 64 + 2 * 64]
    assert arch.net_stats("resnet20", shortcut="B").shortcut_params == sum(r["added_by_B"] for r in rows)
    assert arch.net_stats("resnet20").shortcut_params == 0
    assert "2,752 parameters" in arch.describe_shortcuts(rows)


def test_replace_last_layer_code_and_counts():
    assert arch.head_code("resnet50", 7) == "model.fc = nn.Linear(2048, 7)"
    assert arch.head_code("resnet18", 4) == "model.fc = nn.Linear(512, 4)"
    assert arch.head_code("vgg16", 7) == "model.classifier[6] = nn.Linear(4096, 7)"
    r50 = {r["strategy"]: r for r in arch.strategy_counts("resnet50", 4)}
    assert r50["feature_extraction"]["trainable"] == 2048 * 4 + 4
    assert r50["full_finetune"]["trainable"] == 25_557_032 - (2048 * 1000 + 1000) + 2048 * 4 + 4
    # The same numbers the Transfer page trained with (its shipped sweep records them).
    sweep = json.loads((pp.REPO_ROOT / "assets" / "results" / "transfer_sweep.json").read_text())
    shipped = {r["strategy"]: r["trainable_params"] for r in sweep["results"]}
    for row in arch.strategy_counts("fashion", 4):
        assert row["trainable"] == shipped[row["strategy"]]
        assert row["trainable"] + row["frozen"] == row["total"]


# ------------------------------------------------------------------------------------------ preprocessing


def test_imagenet_pipeline_shapes_and_values():
    img = pp.load_photo("chelsea")  # 451 x 300
    steps = pp.imagenet_steps(img)
    assert [s.shape for s in steps] == [[3, 300, 451], [3, 256, 384], [3, 224, 224], [3, 224, 224], [3, 224, 224]]
    as_tensor, normed = steps[3].tensor, steps[4].tensor
    assert as_tensor.dtype == torch.float32 and 0 <= steps[3].vmin and steps[3].vmax <= 1
    cropped = np.asarray(pp.imagenet_steps(img)[2].display, dtype=np.float32) / 255
    assert torch.allclose(as_tensor, torch.from_numpy(cropped).permute(2, 0, 1), atol=1e-6)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
    assert torch.allclose(normed, (as_tensor - mean) / std, atol=1e-5)
    preset = tvm.ResNet50_Weights.IMAGENET1K_V1.transforms()
    assert torch.allclose(normed, preset(img), atol=1e-5)  # the weights' own transforms()


def test_lab_pipeline_shapes_and_values():
    img = pp.load_photo("coffee")
    steps = pp.lab_steps(img)
    assert [s.shape for s in steps] == [[3, 341, 512], [1, 341, 512], [1, 28, 28], [1, 28, 28], [1, 28, 28]]
    grey = torch.from_numpy(
        np.asarray(img.convert("L").resize((28, 28), resample=2, reducing_gap=None)).astype(np.float32)
    )
    assert torch.allclose(steps[-1].tensor[0], (grey / 255 - 0.2860) / 0.3530, atol=1e-5)
    assert pp.lab_input(img).shape == (1, 1, 28, 28)
    assert pp.enlarge(steps[2].display).shape == (140, 140, 3)


def test_upload_too_large_is_refused():
    from PIL import Image

    with pytest.raises(FileNotFoundError, match="no bundled photo"):
        pp.load_photo("no-such-photo")
    big = Image.new("RGB", (8000, 6000))
    import io

    buf = io.BytesIO()
    big.save(buf, format="PNG")
    with pytest.raises(ValueError, match="pixels"):
        pp.load_photo(buf.getvalue())


# ------------------------------------------------------------------------------------- what the layers see


@pytest.fixture(scope="module")
def lab_model():
    return lv.load_lab_model()[0]


@pytest.fixture(scope="module")
def fashion_batch(bundled):
    return normalize(bundled.test.images[:4], *DATASET_STATS[1])


def test_feature_maps_are_the_real_forward_pass(lab_model, fashion_batch):
    fm = lv.feature_maps(lab_model, fashion_batch)
    assert fm.names == ["stem", "stage 1", "stage 2", "stage 3"]
    assert [list(m.shape) for m in fm.maps] == [[16, 28, 28], [16, 28, 28], [32, 14, 14], [64, 7, 7]]
    with torch.no_grad():
        logits = lab_model(fashion_batch)
        # The last stage's recorded map through the remaining layers (pool, fc) gives the model's own logits ...
        assert torch.allclose(lv.head_from_last_stage(lab_model, fm.maps[-1][None]), logits[:1], atol=1e-5)
        # ... and stage 2's map through stage 3's blocks gives stage 3's map.
        x = fm.maps[2][None]
        for block in lab_model.blocks[2 * blocks_per_stage(lab_model.config.depth) :]:
            x = block(x)
    assert torch.allclose(fm.logits, logits, atol=1e-6)
    assert torch.allclose(x[0], fm.maps[3], atol=1e-5)
    assert all(not m._forward_hooks for m in lab_model.modules())  # hooks are removed afterwards


def test_sentences_come_from_the_maps():
    act = torch.zeros(8, 6, 6)
    act[0, 0, 0] = 3.0  # one active channel, one active pixel in the top left
    act[1, 5, 5] = 1.0
    text = layers_report.describe_stage("stage 2", act, torch.zeros(4, 12, 12), [1, 28, 28])
    assert "8 channels of 6×6" in text and "×0.5 in size, ×2 in channels" in text
    assert f"{1 - 2 / (8 * 36):.0%} of the values are zero" in text
    assert "6 of 8 channels are silent" in text and "top 1 channels carry 75%" in text and "top left" in text


def test_gradcam_maps_are_normalised_heatmaps(lab_model, fashion_batch):
    preds = lab_model(fashion_batch).argmax(1)
    heat = lv.gradcam(lab_model, lab_model.blocks[-1], fashion_batch, preds)
    assert heat.shape == (4, 28, 28)
    assert heat.min() >= 0 and np.allclose(heat.max((1, 2)), 1.0)


def test_transfer_gradcam_comparison_is_self_consistent():
    from resnet_core.transfer import TransferConfig
    from resnet_core.transfer.gradcam import describe_gradcam, run_gradcam_comparison

    config = TransferConfig(epochs=1, min_epoch_images=32, test_per_class=25)
    r = run_gradcam_comparison(config, shots=2, seed=0, max_images=4)
    assert r is not None and r.strategies == ["feature_extraction", "full_finetune"]
    assert 0 < len(r.indices) <= 4
    for s in r.strategies:
        assert np.asarray(r.heatmaps[s]).shape == (len(r.indices), 28, 28)
    for i in range(len(r.indices)):  # every image shown is wrong for at least one model
        assert any(r.preds[s][i] != r.true[i] for s in r.strategies)
    assert "overlap" in describe_gradcam(r)


def test_imagenet_resnet_feature_maps_and_head(monkeypatch, tmp_path):
    """The ImageNet path: stage shapes of a torchvision ResNet-18 and its own logits from the hooked last stage;
    a weights file in $TORCH_HOME is found and loaded (random weights stand in for the real file here)."""
    from resnet_core.checkpoints import imagenet_weights_file

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert not lv.imagenet_models_available()["resnet18"]
    net = tvm.resnet18(weights=None).eval()
    file = imagenet_weights_file("resnet18")
    file.parent.mkdir(parents=True)
    torch.save(net.state_dict(), file)
    lv.load_imagenet_model.cache_clear()
    model, categories = lv.load_imagenet_model("resnet18")
    lv.load_imagenet_model.cache_clear()
    assert len(categories) == 1000 and categories[281] == "tabby"
    x = pp.imagenet_input(pp.load_photo("chelsea"))
    fm = lv.feature_maps(model, x)
    assert [list(m.shape) for m in fm.maps] == [[64, 56, 56], [64, 56, 56], [128, 28, 28], [256, 14, 14], [512, 7, 7]]
    with torch.no_grad():
        assert torch.allclose(lv.head_from_last_stage(model, fm.maps[-1][None]), net(x), atol=1e-4)


def test_layers_run_describes_every_stage_of_the_shipped_net(lab_model):
    from resnet_core.layers import LayersConfig, LayersResult, run_layers

    result = run_layers(LayersConfig(image="fashion:0"))
    assert [s["name"] for s in result.stages] == ["stem", "stage 1", "stage 2", "stage 3"]
    assert result.stages[-1]["shape"] == [64, 7, 7] and result.input_shape == [1, 28, 28]
    assert abs(sum(t["probability"] for t in result.top) - 1) < 1  # three of ten classes
    assert LayersResult.from_dict(result.to_dict()) == result
    with pytest.raises(ValueError, match="0..2999"):
        run_layers(LayersConfig(image="fashion:3000"))
    with pytest.raises(ValueError, match="unknown network"):
        LayersConfig(net="vgg16")


def test_architectures_run_and_its_json_round_trip():
    from resnet_core.architectures import ArchitecturesConfig, ArchitecturesResult, run_architectures

    result = run_architectures(ArchitecturesConfig(models=["resnet20", "resnet50"]))
    assert [m["name"] for m in result.models] == ["resnet20", "resnet50"]
    assert ArchitecturesResult.from_dict(result.to_dict()) == result
