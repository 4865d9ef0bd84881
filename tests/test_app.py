"""Every page renders without an exception (Streamlit's AppTest, no browser)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGES = [
    "lab_pages/home.py",
    "lab_pages/gradient_flow.py",
    "lab_pages/block_ablation.py",
    "lab_pages/transfer_learning.py",
]


@pytest.fixture(scope="module")
def app():
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    return at


def test_home_renders_with_sidebar_and_live_demo(app):
    assert not app.exception
    assert app.title[0].value == "ResNet Lab"
    assert app.sidebar.selectbox[0].value == "cpu"
    # The identity-path caption is generated from the measurement, so it carries numbers.
    captions = " ".join(c.value for c in app.caption)
    assert "Through 30 blocks" in captions


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(app, page):
    app.switch_page(page).run()
    assert not app.exception, app.exception


def test_home_changing_a_widget_recomputes_the_demo():
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.slider[0].set_value(10).run()
    assert not at.exception
    assert "Through 10 blocks" in " ".join(c.value for c in at.caption)
