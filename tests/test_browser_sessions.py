"""Real browser: a job whose tab was closed is cancelled and frees the server's only slot for the next visitor."""

import time

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


def test_a_background_tab_keeps_its_place_in_line_and_gets_its_result(short_timeout_server):
    """A tab in the background polls seldom or not at all: Chromium throttles a hidden tab's timers and freezes it
    altogether later (or at once on a phone). Here the tab's scripts are paused (Chrome DevTools' debugger: no timer
    fires, no poll is sent; headless Chromium keeps every tab visible, so this stands in for freezing) for 60 s,
    twelve times the server's 5 s heartbeat: its run waits its turn behind another tab's, runs and finishes, and
    the tab shows the result when it comes back, because its connection stayed open."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        a = browser.new_context().new_page()
        b = browser.new_context().new_page()
        for tab in (a, b):
            tab.goto(short_timeout_server)
            tab.get_by_text("Through 30 blocks").first.wait_for(timeout=120_000)
        a.get_by_role("button", name="Train", exact=True).click()
        a.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop").wait_for(timeout=120_000)
        images = b.get_by_role("slider").nth(1)
        images.focus()
        images.press("Home")  # other settings than A's: a run of its own, which must wait for the only slot
        b.get_by_role("button", name="Train", exact=True).click()
        b.get_by_text("Queued behind other runs", exact=False).first.wait_for(timeout=60_000)
        frozen = b.context.new_cdp_session(b)
        frozen.send("Debugger.enable")
        frozen.send("Debugger.pause")
        since = time.monotonic()
        a.get_by_text("finished in", exact=False).first.wait_for(timeout=180_000)
        a.wait_for_timeout(max(0.0, 60 - (time.monotonic() - since)) * 1000)  # B frozen for 60 s in all
        frozen.send("Debugger.resume")
        finished, dropped = b.get_by_text("finished in", exact=False), b.get_by_text("no one is watching", exact=False)
        finished.or_(dropped).first.wait_for(timeout=180_000)
        assert dropped.count() == 0, "the background tab's run was dropped"
        no_exception(a)
        no_exception(b)
        browser.close()
