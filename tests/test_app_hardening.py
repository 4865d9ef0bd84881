"""Pages under hostile conditions (AppTest): missing bundled data, the hosted profile's caps."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from resnet_core.data import datasets as data_mod

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGES = [
    "lab_pages/home.py",
    "lab_pages/gradient_flow.py",
    "lab_pages/block_ablation.py",
    "lab_pages/transfer_learning.py",
]


@pytest.mark.parametrize("page", PAGES)
def test_missing_bundled_data_is_a_message_not_an_exception(page, monkeypatch, tmp_path):
    monkeypatch.setattr(data_mod, "BUNDLED_PATH", tmp_path / "missing.npz")
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    if page != "lab_pages/home.py":
        at.switch_page(page).run()
    assert not at.exception, at.exception
    errors = " ".join(e.value for e in at.error)
    assert "missing on this server" in errors and "build_bundled_subset.py" in errors


def test_hosted_profile_caps_the_transfer_page(monkeypatch):
    monkeypatch.setenv("RESNET_LAB_PROFILE", "hosted")
    import lab_pages.ui

    lab_pages.ui.profile.clear()
    try:
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
        assert any("Hosted demo" in c.value for c in at.sidebar.caption)
        at.switch_page("lab_pages/transfer_learning.py").run()
        assert not at.exception, at.exception
        epochs = next(w for w in at.number_input if w.label == "Epochs")
        seeds = next(w for w in at.number_input if w.label == "Seeds")
        assert epochs.max == 8 and seeds.max == 2
    finally:
        lab_pages.ui.profile.clear()
