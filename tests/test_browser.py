"""A real browser (Debian's Chromium driven by Playwright) against `streamlit run app.py`.

Checks what AppTest cannot: the served app loads, the navigation opens every page without an exception box, and
a training job keeps running through a widget change (a full rerun) and finishes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser import IDLE, no_exception, wait_idle

pytestmark = pytest.mark.browser


def test_home_loads_and_every_page_opens_from_the_navigation(page):
    page.get_by_text("Through 30 blocks").first.wait_for()
    no_exception(page)
    nav = page.locator('[data-testid="stSidebarNav"]')
    for title in ("Gradient flow", "Block ablation", "Transfer learning", "Home"):
        nav.get_by_role("link", name=title, exact=True).click()
        page.wait_for_load_state("networkidle")
        # Wait for the page script to finish: the app shows a running indicator while it works.
        page.wait_for_function(IDLE, timeout=120_000)
        no_exception(page)
    page.get_by_text("Through 30 blocks").first.wait_for()


def test_training_job_survives_a_widget_change_and_finishes(page):
    page.get_by_text("Through 30 blocks").first.wait_for()
    sliders = page.get_by_role("slider")
    # "Training images": the smallest option keeps the run short on a CPU.
    training_images = sliders.nth(1)
    training_images.focus()
    training_images.press("Home")
    page.get_by_role("button", name="Train", exact=True).click()
    # Running (a Stop button) or, on a fast machine, already finished: either way the job has started.
    page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop").or_(
        page.get_by_text("finished in", exact=False)
    ).first.wait_for()

    # An unrelated widget change reruns the whole script; the job must carry on.
    blocks = sliders.nth(0)
    blocks.focus()
    blocks.press("Home")
    page.get_by_text("Through 5 blocks").first.wait_for()
    no_exception(page)
    page.get_by_text("finished in", exact=False).first.wait_for(timeout=300_000)
    page.get_by_text("Test accuracy (3,000 bundled test images)").first.wait_for()
    no_exception(page)


def test_hostile_upload_is_a_message_not_an_exception(page, tmp_path):
    """Transfer page: a zip with Markdown/LaTeX class names and a truncated JPEG is refused with the upload
    error naming the file, as plain text; then a good zip with the same odd names shows them literally."""
    from tests.hostile_zips import good, make_zip, page_demo_zip

    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Transfer learning", exact=True).click()
    page.get_by_role("heading", name="Transfer learning").first.wait_for()
    wait_idle(page)  # the page draws its shipped results first: a dropdown opened mid-run is redrawn under us
    page.get_by_role("tab", name="Run it live").click()
    target = page.get_by_role("combobox", name="Target data")
    target.scroll_into_view_if_needed()
    target.click()
    page.keyboard.type("Your own images")  # the selectbox filters as you type; Enter picks the match
    page.keyboard.press("Enter")
    wait_idle(page)
    chooser = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    chooser.set_input_files(files=[{"name": "hostile.zip", "mimeType": "application/zip", "buffer": page_demo_zip()}])
    page.get_by_text("This upload cannot be used").first.wait_for()
    message = page.get_by_text("This upload cannot be used").first.inner_text()
    assert "broken.jpg" in message and ":red[alarm] $x^2$" in message, message
    no_exception(page)
    shots = os.environ.get("RESNET_LAB_SHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(shots) / "transfer_hostile_upload.png"), full_page=False)

    names = ["[link](https:evil.example)", ":red[alarm] $x^2$"]
    chooser.set_input_files(
        files=[{"name": "odd_names.zip", "mimeType": "application/zip", "buffer": make_zip(good(classes=names))}]
    )
    page.get_by_text("8 images in 2 classes", exact=False).first.wait_for()
    table = page.locator('[data-testid="stDataFrame"]:visible').first  # the shipped tables sit in another tab
    table.wait_for()
    assert page.locator("a[href*='evil.example']").count() == 0, "a class name must not become a link"
    no_exception(page)
