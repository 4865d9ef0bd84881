"""Real browser (Chromium + Playwright): the Architectures and "What the layers see" pages, and the Transfer page's
Grad-CAM view, served by `streamlit run app.py`, show no exception box. Uses the shared server and browser fixtures (conftest.py)."""

from __future__ import annotations

import pytest

from tests.browser import IDLE, no_exception, open_page

pytestmark = pytest.mark.browser


def test_architectures_and_layers_pages_open(page):
    open_page(page, "Architectures")
    page.get_by_role("heading", name="The model zoo").wait_for()
    page.get_by_role("tab", name="Layer by layer").click()  # the page's sections are tabs, one shown at a time
    page.get_by_text("25,557,032").first.wait_for()
    no_exception(page)
    open_page(page, "What the layers see")
    page.get_by_text("One forward pass with the hooks took", exact=False).first.wait_for()
    no_exception(page)
    page.get_by_text("a Fashion-MNIST test image").click()
    page.get_by_text("test image 1 of this class", exact=False).first.wait_for()
    no_exception(page)


def test_transfer_gradcam_view_in_the_browser(page):
    open_page(page, "Transfer learning")
    page.get_by_role("tab", name="Run it live").click()  # the settings are in this section, the view in its own
    for label, value in (("Labelled images per class (k)", "2"), ("Epochs", "1")):
        box = page.get_by_label(label, exact=True)
        box.fill(value)
        box.press("Enter")
        page.wait_for_function(IDLE, timeout=120_000)
    # The button's label carries the settings: wait until the tiny ones are in before starting the job.
    page.get_by_role("tab", name="Where the models look").click()
    page.get_by_role("button", name="Show where the models look (trains 2 models, k=2, 1 epoch)").click()
    page.get_by_text("Retrained with the same recipe", exact=False).first.wait_for(timeout=300_000)
    no_exception(page)
