"""What one tab's redraw of a gradient chart costs the server: building and laying out the two figures of the
shipped measurement (what every viewer of a live run did each second before ``lab_pages.charts.shared_chart``)
against sending already built ones (what ``st.plotly_chart`` does with a figure: a copy to JSON).

Usage: ``PYTHONPATH=. python scripts/chart_cost.py`` (medians of 20 repeats, milliseconds).
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import plotly.io as pio

from resnet_core.figures import for_device, tick_policy
from resnet_core.gradients.plots import gradient_norms_figure, ratio_figure
from resnet_core.gradients.result import GradientResult

ROOT = Path(__file__).resolve().parent.parent


def median_ms(fn, repeats: int = 20) -> tuple[float, float, float]:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times), max(times)


def main() -> None:
    result = GradientResult.from_dict(json.loads((ROOT / "assets/results/gradients_batch.json").read_text()))

    def build():
        return [
            for_device(tick_policy(f), "screen")
            for f in (gradient_norms_figure(result, "block_input"), ratio_figure(result))
        ]

    built = build()

    def send():
        return [pio.to_json(f.to_dict(), validate=False) for f in built]

    print(f"{'two gradient charts':28} {'median ms':>10} {'min–max':>14}")
    for label, fn in (
        ("build, lay out and send", lambda: [pio.to_json(f.to_dict(), validate=False) for f in build()]),
        ("send a built one", send),
    ):
        med, lo, hi = median_ms(fn)
        print(f"{label:28} {med:10.1f} {lo:6.1f}–{hi:.1f}")


if __name__ == "__main__":
    main()
