"""A link reopens the experiment: settings in the URL restore the widgets, bad values are ignored, and settings
survive a page switch (AppTest; the browser test checks the URL itself)."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from resnet_core.transfer.config import STRATEGY_TITLES

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def opened(page: str, **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def widget(at: AppTest, kind: str, key: str):
    return next(w for w in getattr(at, kind) if w.key == key)


def test_gradient_flow_link_restores_its_settings_and_the_sidebar_seed():
    at = opened(
        "lab_pages/gradient_flow.py",
        **{"gf-norm": "none", "gf-depths": ["20", "56"], "gf-activation": "tanh", "gf-steps": "7", "seed": "3"},
    )
    assert widget(at, "radio", "gf-norm").value == "none"
    assert widget(at, "multiselect", "gf-depths").value == [20, 56]
    assert widget(at, "selectbox", "gf-activation").value == "tanh"
    assert widget(at, "number_input", "gf-steps").value == 7
    assert at.session_state["seed"] == 3  # the sidebar (AppTest drops it from the tree after a page switch)


def test_transfer_link_restores_shots_epochs_and_strategies():
    at = opened(
        "lab_pages/transfer_learning.py",
        **{
            "tl-shots": "5",
            "tl-epochs": "4",
            # options with a format_func appear in the URL as their (readable) labels
            "tl-strategies": [STRATEGY_TITLES["scratch"], STRATEGY_TITLES["full_finetune"]],
            "tl-augment": "false",
        },
    )
    assert widget(at, "number_input", "tl-shots").value == 5
    assert widget(at, "number_input", "tl-epochs").value == 4
    assert widget(at, "multiselect", "tl-strategies").value == ["scratch", "full_finetune"]
    assert widget(at, "toggle", "tl-augment").value is False


def test_values_a_widget_does_not_accept_are_ignored():
    at = opened(
        "lab_pages/gradient_flow.py",
        **{"gf-norm": "<script>", "gf-depths": ["7", "x"], "gf-steps": "100000", "seed": "-5"},
    )
    assert widget(at, "radio", "gf-norm").value == "batch"
    assert widget(at, "number_input", "gf-steps").value == 0
    assert at.session_state["seed"] == 0


def test_settings_survive_a_page_switch():
    at = opened("lab_pages/home.py")
    widget(at, "slider", "home-blocks").set_value(12).run()
    widget(at, "selectbox", "home-act").set_value("tanh").run()
    at.switch_page("lab_pages/architectures.py").run()
    at.switch_page("lab_pages/home.py").run()
    assert not at.exception
    assert widget(at, "slider", "home-blocks").value == 12
    assert widget(at, "selectbox", "home-act").value == "tanh"
