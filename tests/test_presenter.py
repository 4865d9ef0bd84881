"""Presenter mode: every page opens as a question sequence from shipped results, the reveal shows the measured
answer, and the page's own settings stay one toggle away (AppTest)."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from resnet_core.serving import classroom

APP = str(Path(__file__).resolve().parent.parent / "app.py")
RESULTS = Path(__file__).resolve().parent.parent / "assets" / "results"
PAGES = [
    "lab_pages/home.py",
    "lab_pages/gradient_flow.py",
    "lab_pages/block_ablation.py",
    "lab_pages/architectures.py",
    "lab_pages/layers.py",
    "lab_pages/transfer_learning.py",
]


@pytest.fixture(scope="module")
def app():
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["present"] = "1"
    return at.run()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_is_a_question_sequence(app, page):
    app.switch_page(page).run()
    assert not app.exception, app.exception
    guesses = [r for r in app.radio if r.key and r.key.startswith("present-") and r.key.endswith("-guess")]
    assert guesses, "no prediction prompt"
    assert all(r.value is None for r in guesses)  # nothing chosen for the class
    reveal = next(b for b in app.button if b.key and b.key.endswith("-reveal"))
    assert reveal.disabled  # predict first
    toggle = next(t for t in app.toggle if t.key == "present-settings")
    assert toggle.value is False  # the page's own controls are folded away


def test_reveal_after_a_prediction_shows_the_measured_answer():
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["present"] = "1"
    at.run()
    at.switch_page("lab_pages/gradient_flow.py").run()
    at.radio(key="present-gradients-guess").set_value("plain").run()
    at.button(key="present-gradients-reveal").click().run()
    assert not at.exception
    expected = classroom.gradient_question(json.loads((RESULTS / "gradients_none.json").read_text()))
    boxes = " ".join(e.value for e in [*at.success, *at.info])
    assert expected.options[expected.answer] in boxes
    assert any(expected.explanation in m.value for m in at.markdown)


def test_settings_toggle_draws_the_page_itself():
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["present"] = "1"
    at.run()
    at.switch_page("lab_pages/gradient_flow.py").run()
    at.toggle(key="present-settings").set_value(True).run()
    assert not at.exception
    assert any(r.key == "gf-norm" for r in at.radio)


def test_answers_follow_the_measurement_not_a_fixed_key():
    """Swap the plain and residual runs of the shipped measurement: the answer swaps too."""
    payload = json.loads((RESULTS / "gradients_none.json").read_text())
    assert classroom.gradient_question(payload).answer == "residual"
    for run in payload["runs"]:
        run["residual"] = not run["residual"]
    assert classroom.gradient_question(payload).answer == "plain"
    mixed = json.loads((RESULTS / "gradients_none.json").read_text())
    plain56 = [r for r in mixed["runs"] if r["depth"] == 56 and not r["residual"]]
    plain56[0]["first_last_ratio"] = 1e9  # one seed disagrees: the measurement settles nothing
    assert classroom.gradient_question(mixed).answer is None
