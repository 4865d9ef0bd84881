"""Time every page's first paint (Streamlit's AppTest, no browser) and the library reads behind it.

Usage: python scripts/first_paint.py [lab_pages/gradient_flow.py ...]

One server process: the app runs once (imports, Home), then each page is opened for the first time ("first
paint": its caches are cold) and once more ("rerun"). Then every library entry is read by name through
``lab_pages.ui.read_result`` (cold, then cached). Not a test: timings depend on the machine and on its load.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = [
    "lab_pages/home.py",
    "lab_pages/gradient_flow.py",
    "lab_pages/block_ablation.py",
    "lab_pages/architectures.py",
    "lab_pages/layers.py",
    "lab_pages/transfer_learning.py",
]


def main(pages: list[str]) -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    start = time.perf_counter()
    at.run()
    print(f"{'app start (imports + Home)':<28} {time.perf_counter() - start:6.2f}s")
    for page in pages:
        start = time.perf_counter()
        at.switch_page(page).run()
        cold = time.perf_counter() - start
        start = time.perf_counter()
        at.run()
        warm = time.perf_counter() - start
        print(f"{page:<28} first paint {cold:6.2f}s  rerun {warm:6.2f}s{'  EXCEPTION' if at.exception else ''}")

    import logging

    for name in list(logging.root.manager.loggerDict):  # read_result outside a script run: a warning per call
        if name.startswith("streamlit"):
            logging.getLogger(name).setLevel(logging.ERROR)
    from lab_pages.ui import read_result
    from resnet_core.library.entries import SHIPPED

    total = 0.0
    for entry in SHIPPED:
        start = time.perf_counter()
        found = read_result(entry.name) is not None
        total += time.perf_counter() - start
        if not found:
            print(f"library entry {entry.name}: no file")
    print(f"read_result of all {len(SHIPPED)} library entries by name, cold: {1000 * total:.0f} ms")


if __name__ == "__main__":
    main(sys.argv[1:] or PAGES)
