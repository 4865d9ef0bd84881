"""Real-browser test support: ``streamlit run app.py`` servers and Debian's Chromium driven by Playwright.

The fixtures in ``conftest.py`` (``server``, ``browser``, ``page``) are built from these; tests that need a
server of their own (other environment variables, several replicas) use :class:`AppServer` directly.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
IDLE = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"


def require_chromium() -> None:
    """Skip where Debian's Chromium is missing; under CI that is an error (CI installs it)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            raise RuntimeError("CI must install Debian's chromium for the browser tests (see .ci/run)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """``streamlit run app.py`` on a free port of 127.0.0.1, with extra environment variables; a context manager
    that waits until the server answers its health check and stops it afterwards."""

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        start_timeout: float = 120.0,
        repo: Path = REPO,
        port: int | None = None,
    ) -> None:
        self.repo = repo
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # A store of its own unless env names one (removed with this object); a restart on the same object keeps it.
        self._results = tempfile.TemporaryDirectory(prefix="resnet-lab-results-")
        self.env = {**os.environ, "RESNET_LAB_RESULTS_DIR": self._results.name, **(env or {})}
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.fileWatcherType",
            "none",
            "--server.port",
            str(self.port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ]

    def start(self) -> AppServer:
        self.proc = subprocess.Popen(
            self.command(), cwd=self.repo, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.time() + self.start_timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"streamlit exited with code {self.proc.returncode} before it answered")
            try:
                if urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2).read() == b"ok":
                    return self
            except OSError:
                time.sleep(0.5)
        self.stop()
        pytest.fail(f"streamlit did not start within {self.start_timeout:.0f} s")

    def kill(self) -> None:
        """Kill the server at once (SIGKILL, as a crash or an out-of-memory kill would), keeping its store."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(15)
            self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(15)
        self.proc = None

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def wait_idle(pg, timeout: float = 180_000) -> None:
    """Until the script run is over (Streamlit shows its running indicator while a script executes)."""
    pg.wait_for_timeout(500)
    pg.wait_for_function(IDLE, timeout=timeout)


def no_exception(pg) -> None:
    boxes = pg.locator('[data-testid="stException"]')
    assert boxes.count() == 0, boxes.first.inner_text()


def open_page(pg, title: str) -> None:
    """Click a page in the sidebar navigation and wait for its script run to finish."""
    pg.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
    pg.wait_for_load_state("networkidle")
    pg.wait_for_function(IDLE, timeout=120_000)
