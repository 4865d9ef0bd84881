"""Real browser: a job whose tab was closed is cancelled and frees the server's only slot for the next visitor."""

import os
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.test_browser import CHROMIUM, REPO, free_port

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def short_timeout_server():
    """A server with one job slot that treats a session as gone after 5 s without a poll."""
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed")
    port = free_port()
    env = dict(os.environ, RESNET_LAB_SESSION_TIMEOUT="5", RESNET_LAB_MAX_JOBS="1")
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port)]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not start within 120 s")
    yield url
    proc.terminate()


def test_a_closed_tabs_job_frees_the_slot(short_timeout_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        # Tab A starts a long run (10,000 images x 20 epochs: minutes on a CPU), then its tab is closed.
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

        # Tab B's short run needs the only slot: it gets it once A's job has cancelled itself.
        b = browser.new_context().new_page()
        b.goto(short_timeout_server)
        b.get_by_text("Through 30 blocks").first.wait_for(timeout=120_000)
        images = b.get_by_role("slider").nth(1)
        images.focus()
        images.press("Home")
        started = time.time()
        b.get_by_role("button", name="Train", exact=True).click()
        b.get_by_text("finished in", exact=False).first.wait_for(timeout=90_000)
        assert time.time() - started < 90
        assert b.locator('[data-testid="stException"]').count() == 0
        browser.close()
