"""Two app replicas on one Ray cluster (RESNET_LAB_EXECUTOR=ray), in real browsers: a class split over the two
presses Measure with the same settings; the cluster computes it once and every tab, on either replica, gets the
answer; a latecomer on either replica gets it from the shared store at once.

The cluster is a local Ray head with 2 CPUs, started and stopped here (``ray start --head`` / ``ray stop``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser import AppServer, free_port, launch_chromium, no_exception, require_chromium, wait_idle

pytestmark = pytest.mark.browser

SMALL = "/gradient_flow?gf-depths=8&gf-depths=20&gf-seeds=1"


def ray_cli() -> str:
    return str(Path(sys.executable).with_name("ray"))


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    require_chromium()
    pytest.importorskip("ray")
    port = free_port()
    temp = tmp_path_factory.mktemp("ray")
    # A cluster on loopback for one test: without Ray's token authentication (a real cluster keeps it on: README).
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
    cmd = [ray_cli(), "start", "--head", "--num-cpus", "2", "--port", str(port), "--include-dashboard", "false"]
    started = subprocess.run(cmd + ["--temp-dir", str(temp)], env=env, capture_output=True, text=True, timeout=180)
    if started.returncode != 0:
        pytest.fail(f"ray start failed: {started.stderr[-2000:]}")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([ray_cli(), "stop", "--force"], env=env, capture_output=True, timeout=180)
        shutil.rmtree(temp, ignore_errors=True)


def tasks_run(address: str) -> int:
    """How many runs the cluster's run board was given, read by connecting to the cluster."""
    import ray

    from resnet_core.serving.ray_runs import BOARD, NAMESPACE

    ray.init(address=address, namespace=NAMESPACE, log_to_driver=False)
    try:
        return ray.get(ray.get_actor(BOARD, namespace=NAMESPACE).counts.remote())[2]
    finally:
        ray.shutdown()


def open_page(browser, url: str):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(180_000)
    page.goto(url)
    page.get_by_role("button", name="Measure", exact=True).wait_for()
    wait_idle(page)
    return page


def test_a_class_split_over_two_replicas_gets_one_computation(ray_head, tmp_path):
    from playwright.sync_api import sync_playwright

    store = tmp_path / "shared-store"
    env = {
        "RESNET_LAB_EXECUTOR": "ray",
        "RAY_ADDRESS": ray_head,
        "RESNET_LAB_RESULTS_DIR": str(store),
        "OMP_NUM_THREADS": "1",
    }
    with AppServer(env) as one, AppServer(env) as two, sync_playwright() as p:
        browser = launch_chromium(p)
        pages = [open_page(browser, app.url + SMALL) for app in (one, two, one, two)]
        for page in pages:
            page.get_by_role("button", name="Measure", exact=True).click()
        for page in pages:
            page.get_by_text("‖∂L/∂x‖", exact=False).first.wait_for()
            page.get_by_text("finished in", exact=False).or_(
                page.get_by_text("Computed ", exact=False)
            ).first.wait_for()
            no_exception(page)
        assert sum(1 for _ in store.glob("??/*.json")) == 1
        assert tasks_run(ray_head) == 1, "one computation for the whole class, across both replicas"
        for app in (one, two):
            late = open_page(browser, app.url + SMALL)
            late.get_by_text("with the same settings and seed", exact=False).first.wait_for()
            no_exception(late)
        browser.close()
