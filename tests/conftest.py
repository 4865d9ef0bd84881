import os

import pytest
import torch

# A page's job is cancelled when its browser session stops polling for RESNET_LAB_SESSION_TIMEOUT seconds (30 by
# default). AppTest polls only when a test reruns the script, and page tests wait on jobs in between: give them
# ten minutes. The orphan rule itself is tested directly (tests/test_jobs.py) and in the browser test.
os.environ.setdefault("RESNET_LAB_SESSION_TIMEOUT", "600")

from resnet_core.data.datasets import load_dataset
from tests.browser import AppServer, launch_chromium, require_chromium


def pytest_collection_modifyitems(config, items):
    """Real-browser tests are slow tests too: ``pytest -m "not slow"`` is the inner loop, ``pytest`` is CI."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _own_result_store(tmp_path, monkeypatch):
    """Every test asks an empty result store of its own (the app's store reads RESNET_LAB_RESULTS_DIR at each use):
    a result one test computed is never another test's "computed 3 min ago"."""
    monkeypatch.setenv("RESNET_LAB_RESULTS_DIR", str(tmp_path / "results"))


@pytest.fixture(scope="session")
def bundled():
    return load_dataset("bundled")


@pytest.fixture(scope="session")
def tiny_train(bundled):
    """200 real images (20 per class): enough for a loss to fall in a few dozen steps."""
    from resnet_core.data.datasets import stratified_kshot

    return bundled.train.subset(stratified_kshot(bundled.train.labels, 20, seed=0))


@pytest.fixture
def cpu():
    return torch.device("cpu")


@pytest.fixture(scope="session", autouse=True)
def _finish_background_work():
    """Pages start background threads (the server-speed calibration behind "≈ N s", the architecture zoo
    count): let them finish before the interpreter exits, or torch aborts the process mid-operation."""
    yield
    import threading

    for thread in threading.enumerate():
        if thread.name.startswith(("resnet-lab-calibrate-", "resnet-lab-zoo-")):
            thread.join(timeout=300)


# ------------------------------------------------------------------------------------------ real browser


@pytest.fixture(scope="module")
def server():
    """`streamlit run app.py` for one test module. A browser tab polls its jobs every second, so the app's own
    session timeout (30 s) applies there, not the ten minutes the AppTest page tests need."""
    require_chromium()
    with AppServer({"RESNET_LAB_SESSION_TIMEOUT": "30"}) as app:
        yield app.url


@pytest.fixture(scope="module")
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(90_000)
    pg.goto(server)
    pg.get_by_role("heading", name="ResNet Lab").first.wait_for()
    yield pg
    context.close()
