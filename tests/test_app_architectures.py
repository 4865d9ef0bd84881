"""AppTest (no browser) of the Architectures and "What the layers see" pages and the Transfer page's Grad-CAM view."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture(scope="module")
def app():
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    return at


def texts(at) -> str:
    return " ".join(m.value for m in [*at.markdown, *at.caption])


def test_architectures_page_renders_with_counted_numbers(app):
    app.switch_page("lab_pages/architectures.py").run()
    assert not app.exception, app.exception
    zoo = app.dataframe[0].value
    r50 = zoo[zoo["model"] == "ResNet-50"].iloc[0]
    assert r50["parameters"] == 25_557_032 and abs(r50["GMACs"] - 4.089) < 0.01
    assert "fully-connected layers" in texts(app) and "bottleneck keeps a **256-d**" in texts(app)
    assert "model.fc = nn.Linear(269044" not in "".join(c.value for c in app.code)


def test_architectures_page_widgets(app):
    app.switch_page("lab_pages/architectures.py").run()
    app.selectbox(key="arch-net").set_value("vgg16").run()
    app.radio(key="arch-sc-depth").set_value(56).run()
    app.selectbox(key="arch-src").set_value("resnet50")
    app.number_input(key="arch-k").set_value(7).run()
    assert not app.exception, app.exception
    assert "model.fc = nn.Linear(2048, 7)" in "".join(c.value for c in app.code)
    app.selectbox(key="arch-src").set_value("vgg16").run()
    assert not app.exception, app.exception
    app.button(key="arch-sc-measure").click().run()
    assert not app.exception, app.exception
    for option in "AB":  # two runs of the Gradient flow experiment, each a job with its estimate and Stop
        assert app.session_state[f"arch-sc-{option}"].wait(120)
    app.run()
    assert "‖∂L/∂x‖ block 0 ÷ last block" in texts(app)


def test_layers_page_photo_fashion_and_missing_imagenet_weights(app):
    app.switch_page("lab_pages/layers.py").run()
    assert not app.exception, app.exception
    assert "Stage 3" in texts(app) and "One forward pass with the hooks took" in texts(app)
    app.radio(key="lv-kind").set_value("fashion").run()
    app.selectbox(key="lv-class").set_value(7).run()
    assert not app.exception, app.exception
    assert "Sneaker" in texts(app)
    app.select_slider(key="lv-k").set_value(64).run()
    assert not app.exception, app.exception
    app.selectbox(key="lv-net").set_value("resnet18").run()
    assert not app.exception, app.exception
    from resnet_core.layers.run import imagenet_models_available

    if not imagenet_models_available()["resnet18"]:
        assert "not on this server" in " ".join(w.value for w in app.warning)


def test_transfer_gradcam_view():
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("lab_pages/transfer_learning.py").run()
    assert not at.exception, at.exception
    numbers = {n.label: n for n in at.number_input}
    numbers["Labelled images per class (k)"].set_value(2)
    numbers["Epochs"].set_value(1)
    numbers["Test images per class (0 = all)"].set_value(25)
    at.run()
    at.button(key="gradcam-start").click().run()
    assert not at.exception, at.exception
    job = at.session_state["transfer-gradcam-job"]
    assert job.wait(120)
    at.run()
    assert not at.exception, at.exception
    assert job.error is None, job.error
    assert "overlap" in texts(at) or "nothing to compare" in texts(at)
    if job.result.indices:
        grids = [c for c in at.get("plotly_chart") if "gradcam" in c.proto.id]
        assert grids and grids[0].proto.spec.count('"type":"image"') == 3 * len(job.result.indices)


def test_layers_page_with_imagenet_weights_present(monkeypatch, tmp_path):
    """With a weights file in $TORCH_HOME the page shows the ImageNet ResNet (random weights stand in here)."""
    import torch
    import torchvision.models as tvm

    from resnet_core.checkpoints import imagenet_weights_file
    from resnet_core.layers.run import load_imagenet_model

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    file = imagenet_weights_file("resnet18")
    file.parent.mkdir(parents=True)
    torch.save(tvm.resnet18(weights=None).state_dict(), file)
    load_imagenet_model.cache_clear()
    try:
        at = AppTest.from_file(APP, default_timeout=120).run()
        at.switch_page("lab_pages/layers.py").run()
        at.selectbox(key="lv-net").set_value("resnet18").run()
        assert not at.exception, at.exception
        assert "Stage 4" in texts(at) and "512 channels of 7×7" in texts(at)
    finally:
        load_imagenet_model.cache_clear()
