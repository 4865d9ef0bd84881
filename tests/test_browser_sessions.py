"""Real browser: a job whose tab was closed is cancelled and frees the server's only slot for the next visitor."""

import pytest

from tests.browser import AppServer, launch_chromium, no_exception, require_chromium

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def short_timeout_server():
    """A server with one job slot that treats a session as gone after 5 s without a poll."""
    require_chromium()
    with AppServer({"RESNET_LAB_SESSION_TIMEOUT": "5", "RESNET_LAB_MAX_JOBS": "1"}) as app:
        yield app.url


def test_a_closed_tabs_job_frees_the_slot(short_timeout_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        # Tab A starts a long run (10,000 images x 20 epochs: 200,000 images, several minutes on this CPU even when
        # it is idle), then its tab is closed.
        a = browser.new_context().new_page()
        a.goto(short_timeout_server)
        a.get_by_text("Through 30 blocks").first.wait_for(timeout=120_000)
        images = a.get_by_role("slider").nth(1)
        images.focus()
        images.press("End")
        a.get_by_label("Epochs").fill("20")
        a.get_by_label("Epochs").press("Enter")
        a.get_by_role("button", name="Train", exact=True).click()
        # The header's status widget has its own "Stop" while a script runs: look in the page body.
        a.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop").wait_for(timeout=120_000)
        a.context.close()

        # Tab B's short run needs the only slot: it gets it once A's job has cancelled itself (5 s after A's last
        # poll). Had A's job kept the slot, B would wait minutes for it: the limit below tells the two apart
        # without timing B, which a loaded machine would slow down.
        b = browser.new_context().new_page()
        b.goto(short_timeout_server)
        b.get_by_text("Through 30 blocks").first.wait_for(timeout=120_000)
        images = b.get_by_role("slider").nth(1)
        images.focus()
        images.press("Home")
        b.get_by_role("button", name="Train", exact=True).click()
        b.get_by_text("finished in", exact=False).first.wait_for(timeout=150_000)
        no_exception(b)
        browser.close()
