"""What a class waits for: N browser sessions press a page's default Run button within a few seconds.

Usage:
    python scripts/class_load.py --page gradient_flow --sessions 1 8 16
    python scripts/class_load.py --sessions 1 8 --distinct            # session i asks with seed i
    python scripts/class_load.py --sessions 1 8 --executor ray        # two replicas on a local Ray (2 CPUs)
    python scripts/class_load.py --page transfer_learning --sessions 8 --repo /path/to/another/checkout

For each N: fresh servers (``streamlit run app.py`` from ``--repo``, default this checkout; ``--replicas`` of them
sharing one empty result store; with ``--executor ray`` they share a local ``ray start --head --num-cpus 2`` too)
and one Chromium with N browser contexts, taking turns over the replicas. Every context opens the page and waits
until it is drawn, then all press the button within ``--spread`` seconds (in arrival order); each context's time
from its press to its result is measured (the result: "finished in", or a stored result's "Computed … ago").
``--identical`` (the default) has every session ask the same question; ``--distinct`` gives session i the seed i
(the sidebar's ``?seed=`` in its URL), so nothing can be shared.

One row per N: time to result p50 / p95 / max; the server side's CPU seconds over the whole test and its peak
resident memory (the app processes, their children and, with Ray, every process of the Ray session: GCS, raylet,
workers); how many results were computed (entries in the store; "–" for a checkout without one); and how long
each computation itself took (median and max of the store's per-result seconds, else of the pages' "finished
in"), the figure to compare with one session alone for "slowed by the others' waiting tabs".
Not a test: the figures depend on the machine; run it on a quiet one (uptime load below 1), compare rows of one run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import AppServer, free_port, launch_chromium

PAGES = {"gradient_flow": "Measure", "transfer_learning": "Train all strategies"}  # page -> its Run button
DONE_TEXTS = ("finished in", "Computed ")
FINISHED_IN = re.compile(r"finished in (?:(\d+) min )?(\d+) s")


# ---------------------------------------------------------------------------------------------- the server side
def process_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process (Linux /proc)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                table[int(entry.name)] = (parent, (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
    return table


def server_side(roots: list[int], marker: str | None) -> set[int]:
    """The app processes, every process whose command line names ``marker`` (the Ray session's directory), and all
    their descendants."""
    table = process_table()
    found = {pid for pid in roots if pid in table}
    found |= {pid for pid, (_, cmd) in table.items() if marker and marker in cmd}
    grew = True
    while grew:
        more = {pid for pid, (parent, _) in table.items() if parent in found} - found
        found |= more
        grew = bool(more)
    return found


def cpu_seconds(pids: set[int]) -> float:
    """utime + stime of the processes and their waited-for children (a reaped worker counts in its parent's)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(fields[i]) for i in (11, 12, 13, 14))
    return total / os.sysconf("SC_CLK_TCK")


def browser_side() -> set[int]:
    """Every Chromium process (the sessions' browsers share the machine with the server in this benchmark)."""
    return {pid for pid, (_, cmd) in process_table().items() if "chromium" in cmd.split(" ", 1)[0]}


def rss_bytes(pids: set[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, StopIteration):
            line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmRSS:"))
            total += int(line.split()[1]) * 1024
    return total


@contextlib.contextmanager
def ray_head():
    """A local Ray head with 2 CPUs for one row (as the replicas test starts it; token auth off on loopback)."""
    ray = str(Path(sys.executable).with_name("ray"))
    temp = tempfile.mkdtemp(prefix="class-load-ray-")
    port = free_port()
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
    cmd = [ray, "start", "--head", "--num-cpus", "2", "--port", str(port), "--include-dashboard", "false"]
    subprocess.run([*cmd, "--temp-dir", temp], env=env, check=True, capture_output=True, timeout=180)
    try:
        yield f"127.0.0.1:{port}", temp
    finally:
        subprocess.run([ray, "stop", "--force"], env=env, capture_output=True, timeout=180)
        shutil.rmtree(temp, ignore_errors=True)


# ---------------------------------------------------------------------------------------------- one class
def computed_runs(repo: Path, store: Path) -> list[float] | None:
    """The seconds of every result computed into the store; None for a checkout that has no store."""
    if not (repo / "resnet_core/serving/store.py").exists():
        return None
    entries = sorted([json.loads(p.read_text()) for p in store.glob("??/*.json")], key=lambda e: e.get("created", 0))
    return [e.get("seconds", 0.0) for e in entries]  # in the order they finished


def one_class(args: argparse.Namespace, n: int) -> dict:
    from playwright.sync_api import sync_playwright

    button = PAGES[args.page]
    store = Path(tempfile.mkdtemp(prefix="class-load-store-"))
    env = {"RESNET_LAB_RESULTS_DIR": str(store), "RESNET_LAB_SESSION_TIMEOUT": "60"}
    with contextlib.ExitStack() as stack:
        marker = None
        if args.executor == "ray":
            address, marker = stack.enter_context(ray_head())
            env |= {"RESNET_LAB_EXECUTOR": "ray", "RAY_ADDRESS": address}
        servers = [stack.enter_context(AppServer(env, repo=args.repo)) for _ in range(args.replicas)]
        roots = [s.proc.pid for s in servers]
        p = stack.enter_context(sync_playwright())
        browser = launch_chromium(p)
        cpu0 = cpu_seconds(server_side(roots, marker))
        browsers0 = cpu_seconds(browser_side())
        pages = []
        for i in range(n):
            pg = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            pg.set_default_timeout(args.timeout * 1000)
            query = f"?seed={i}" if args.distinct else ""
            pg.goto(f"{servers[i % len(servers)].url}/{args.page}{query}")
            pg.get_by_role("button", name=button, exact=True).first.wait_for()
            pages.append(pg)
        pressed = []
        for pg in pages:
            pg.get_by_role("button", name=button, exact=True).first.click()
            pressed.append(time.time())
            time.sleep(args.spread / max(1, n))
        done: dict[int, float] = {}
        finished_in: list[float] = []
        errors = 0
        peak = 0
        deadline = time.time() + args.timeout
        while len(done) < n and time.time() < deadline:
            peak = max(peak, rss_bytes(server_side(roots, marker)))
            for i, pg in enumerate(pages):
                if i in done:
                    continue
                if pg.locator('[data-testid="stException"]').count():
                    errors += 1
                    done[i] = float("nan")
                elif any(pg.get_by_text(t, exact=False).count() for t in DONE_TEXTS):
                    done[i] = time.time() - pressed[i]
                    shown = FINISHED_IN.search(pg.inner_text("body"))
                    if shown:
                        finished_in.append(60 * int(shown[1] or 0) + int(shown[2]))
            time.sleep(0.25)
        cpu = cpu_seconds(server_side(roots, marker)) - cpu0
        browsers = cpu_seconds(browser_side()) - browsers0
        browser.close()
    runs = computed_runs(args.repo, store)
    shutil.rmtree(store, ignore_errors=True)
    waits = sorted(w for w in done.values() if w == w)
    own = runs if runs else finished_in
    return {
        "n": n,
        "finished": len(waits),
        "errors": errors,
        "p50": statistics.median(waits) if waits else None,
        "p95": waits[min(len(waits) - 1, round(0.95 * (len(waits) - 1)))] if waits else None,
        "max": waits[-1] if waits else None,
        "cpu": cpu,
        "browsers": browsers,
        "rss": peak,
        "computed": None if runs is None else len(runs),
        "run50": statistics.median(own) if own else None,
        "runmax": max(own) if own else None,
        "runs": own,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", choices=sorted(PAGES), default="gradient_flow")
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 8], help="N, each from 1 to 32")
    same = parser.add_mutually_exclusive_group()
    same.add_argument("--identical", dest="distinct", action="store_false", help="every session asks the same")
    same.add_argument("--distinct", dest="distinct", action="store_true", help="session i asks with seed i")
    parser.set_defaults(distinct=False)
    parser.add_argument("--executor", choices=("local", "ray"), default="local")
    parser.add_argument("--replicas", type=int, default=None, help="app servers (default: 1 local, 2 with Ray)")
    parser.add_argument("--spread", type=float, default=4.0, help="seconds over which the presses are spread")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds one row may take, at most 3600")
    parser.add_argument("--each", action="store_true", help="also list every computation's seconds, in order")
    parser.add_argument("--repo", type=Path, default=ROOT, help="the checkout whose app to serve")
    args = parser.parse_args()
    args.repo = args.repo.resolve()
    args.replicas = args.replicas or (2 if args.executor == "ray" else 1)
    if any(not 1 <= n <= 32 for n in args.sessions) or not 1 <= args.replicas <= 4 or not 0 < args.timeout <= 3600:
        parser.error("sessions go from 1 to 32, replicas from 1 to 4, the timeout up to 3600 s")
    if args.executor == "ray" and not (args.repo / "resnet_core/serving/ray_runs.py").exists():
        parser.error(f"{args.repo} has no Ray executor")
    load = os.getloadavg()[0]
    asks = "distinct seeds" if args.distinct else "identical requests"
    print(f"{args.page}, {asks}, executor {args.executor} x{args.replicas}, app from {args.repo}, load {load:.2f}")
    print(
        f"{'N':>3} {'done':>5} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'server CPU s':>13} {'browsers CPU s':>15} "
        f"{'RSS peak MB':>12} "
        f"{'computed':>9} {'each run s (median / max)':>26}"
    )

    def fmt(x):
        return f"{x:7.1f}" if x is not None else "      –"

    for n in args.sessions:
        row = one_class(args, n)
        computed = "–" if row["computed"] is None else str(row["computed"])
        done = f"{row['finished']}" + (f" ({row['errors']} errors)" if row["errors"] else "")
        print(
            f"{row['n']:>3} {done:>5} {fmt(row['p50'])} {fmt(row['p95'])} {fmt(row['max'])} {row['cpu']:>13.1f} "
            f"{row['browsers']:>15.1f} {row['rss'] / 1e6:>12.0f} {computed:>9} {fmt(row['run50']):>17} / {fmt(row['runmax']).strip()}",
            flush=True,
        )
        if args.each:
            print("      each computation, in the order they finished:", " ".join(f"{x:.1f}" for x in row["runs"]))


if __name__ == "__main__":
    main()
