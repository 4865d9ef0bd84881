"""A class at once, in real browsers: several people asking one question get one computation; a closed tab does
not stop it for the others; a latecomer sees the stored answer at once; a server killed mid-run starts the run
again when its tab reconnects and says what was lost.

Each test serves the app with a result store of its own and counts what the server computed from that store.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import AppServer, no_exception, wait_idle

pytestmark = pytest.mark.browser

SMALL = "/gradient_flow?gf-depths=8&gf-depths=20&gf-seeds=1"  # a measurement of about a second
LONGER = "/gradient_flow?gf-depths=56&gf-seeds=1&gf-steps=4"  # several seconds on this CPU: long enough to kill


def open_page(browser, url: str):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.get_by_role("button", name="Measure", exact=True).wait_for()
    wait_idle(page)
    return page


def stored(store: Path) -> int:
    return sum(1 for _ in store.glob("??/*.json"))


def test_a_class_pressing_measure_gets_one_computation(browser, tmp_path):
    store = tmp_path / "store"
    with AppServer({"RESNET_LAB_RESULTS_DIR": str(store)}) as app:
        pages = [open_page(browser, app.url + SMALL) for _ in range(4)]
        for page in pages:
            page.get_by_role("button", name="Measure", exact=True).click()
        pages[1].context.close()  # one student closes the tab at once: the others still get their answer
        for page in pages[:1] + pages[2:]:
            page.get_by_text("‖∂L/∂x‖", exact=False).first.wait_for(timeout=180_000)
            page.get_by_text("finished in", exact=False).or_(
                page.get_by_text("Computed ", exact=False)
            ).first.wait_for()
            no_exception(page)
        assert stored(store) == 1, "four identical requests, one computation"
        late = open_page(browser, app.url + SMALL)  # a latecomer: the stored answer, without pressing anything
        late.get_by_text("Computed ", exact=False).first.wait_for()
        late.get_by_text("with the same settings and seed", exact=False).first.wait_for()
        no_exception(late)
        assert stored(store) == 1


def test_a_run_a_killed_server_left_starts_again_when_its_tab_reconnects(browser, tmp_path):
    store = tmp_path / "store"
    app = AppServer({"RESNET_LAB_RESULTS_DIR": str(store)}).start()
    try:
        page = open_page(browser, app.url + LONGER)
        page.get_by_role("button", name="Measure", exact=True).click()
        page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop").wait_for()
        assert list((store / "running").glob("*.json")), "a running run leaves a marker"
        port = app.port
        app.kill()  # the server dies mid-run: nothing was stored
        assert stored(store) == 0
        app = AppServer({"RESNET_LAB_RESULTS_DIR": str(store)}, port=port).start()
        # The tab reconnects by itself (Streamlit's client retries); a reload is what a student would press.
        page.reload()
        page.get_by_text("interrupted when the server restarted", exact=False).first.wait_for(timeout=120_000)
        page.get_by_text("finished in", exact=False).first.wait_for(timeout=600_000)
        no_exception(page)
        assert stored(store) == 1 and not list((store / "running").glob("*.json"))
    finally:
        app.stop()
