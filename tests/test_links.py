"""A link reopens the experiment: settings in the URL restore the widgets, bad values are ignored, and settings
survive a page switch (AppTest; the browser test checks the URL itself)."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

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
            # choices shown translated are in the URL by their stable values, not their labels
            "tl-strategies": ["scratch", "full_finetune"],
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


def test_a_link_made_in_korean_reopens_every_setting_in_english():
    """The URL holds stable values (``gf-shipped-norm=none``), never a translated label (``없음``)."""
    from resnet_core.i18n import language

    with language("ko"):  # AppTest formats the options in the test's thread: in the page's language
        korean = opened("lab_pages/gradient_flow.py", lang="ko")
        widget(korean, "radio", "gf-shipped-norm").set_value("none")
        widget(korean, "radio", "gf-metric").set_value("relative")
        korean.run()
    params = {k: korean.query_params[k] for k in ("gf-shipped-norm", "gf-metric")}
    assert params == {"gf-shipped-norm": "none", "gf-metric": "relative"}, params
    english = opened("lab_pages/gradient_flow.py", **params)
    assert widget(english, "radio", "gf-shipped-norm").value == "none"
    assert widget(english, "radio", "gf-metric").value == "relative"
    assert not english.exception and not korean.exception
