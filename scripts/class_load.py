"""What a class waits for: N browser sessions press a page's default Run button within a few seconds.

Usage:
    python scripts/class_load.py --page gradient_flow --sessions 1 8 16
    python scripts/class_load.py --page transfer_learning --sessions 8 --repo /path/to/another/checkout

For each N, a fresh ``streamlit run app.py`` (from ``--repo``, default this checkout, with an empty result store
of its own) and one Chromium with N browser contexts: every context opens the page, waits until it is drawn,
then all press the button within ``--spread`` seconds (in arrival order), and each context's time from its press
to its result is measured (the result: "finished in", or a stored result's "Computed … ago"). Prints one row per
N: time to result p50 / p95 / max, the server process's CPU seconds over the whole test, and how many results
the server computed (stored results in its store; "–" for a checkout without a store). Not a test: the
figures depend on the machine; run it on a quiet one (uptime load below 1) and compare rows of one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import AppServer, launch_chromium

PAGES = {  # page -> (navigation title, button label)
    "gradient_flow": ("Gradient flow", "Measure"),
    "transfer_learning": ("Transfer learning", "Train all strategies"),
}
DONE_TEXTS = ("finished in", "Computed ")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its waited-for children, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ticks / os.sysconf("SC_CLK_TCK")


def one_class(repo: Path, page: str, n: int, spread: float, timeout: float) -> dict:
    from playwright.sync_api import sync_playwright

    title, button = PAGES[page]
    store = tempfile.mkdtemp(prefix="class-load-store-")
    server = AppServer({"RESNET_LAB_RESULTS_DIR": store, "RESNET_LAB_SESSION_TIMEOUT": "60"}, repo=repo)
    with server, sync_playwright() as p:
        browser = launch_chromium(p)
        cpu0 = cpu_seconds(server.proc.pid)
        pages = []
        for _ in range(n):
            pg = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            pg.set_default_timeout(timeout * 1000)
            pg.goto(server.url)
            pg.get_by_role("heading", name="ResNet Lab").first.wait_for()
            pg.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
            pg.get_by_role("button", name=button, exact=True).first.wait_for()
            pages.append(pg)
        pressed = []
        for pg in pages:
            pg.get_by_role("button", name=button, exact=True).first.click()
            pressed.append(time.time())
            time.sleep(spread / max(1, n))
        done: dict[int, float] = {}
        deadline = time.time() + timeout
        while len(done) < n and time.time() < deadline:
            for i, pg in enumerate(pages):
                if i not in done and any(pg.get_by_text(t, exact=False).count() for t in DONE_TEXTS):
                    done[i] = time.time() - pressed[i]
            time.sleep(0.25)
        cpu = cpu_seconds(server.proc.pid) - cpu0
        browser.close()
    computed = (
        sum(1 for _ in Path(store).glob("??/*.json")) if (repo / "resnet_core/serving/store.py").exists() else None
    )
    waits = sorted(done.values())
    return {
        "n": n,
        "finished": len(waits),
        "p50": statistics.median(waits) if waits else None,
        "p95": waits[min(len(waits) - 1, int(round(0.95 * (len(waits) - 1))))] if waits else None,
        "max": waits[-1] if waits else None,
        "cpu": cpu,
        "computed": computed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", choices=sorted(PAGES), default="gradient_flow")
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--spread", type=float, default=4.0, help="seconds over which the presses are spread")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--repo", type=Path, default=ROOT, help="the checkout whose app to serve")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"{args.page}, app from {args.repo}, load average {load:.2f} at the start")
    print(f"{'N':>3} {'done':>5} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'server CPU s':>13} {'computed':>9}")
    for n in args.sessions:
        row = one_class(args.repo.resolve(), args.page, n, args.spread, args.timeout)

        def fmt(x):
            return f"{x:7.1f}" if x is not None else "      –"

        computed = "–" if row["computed"] is None else str(row["computed"])
        print(
            f"{row['n']:>3} {row['finished']:>5} {fmt(row['p50'])} {fmt(row['p95'])} {fmt(row['max'])} "
            f"{row['cpu']:>13.1f} {computed:>9}",
            flush=True,
        )


if __name__ == "__main__":
    main()
