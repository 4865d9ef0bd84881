"""Does the gradient page's live default (fast numerics, one Jacobian probe) show what the float32 references show?

    python scripts/gradient_numerics_check.py --norm batch --seeds 5,6,7,8,9

Measures every seed twice, with the live default ``GradientConfig()`` and with the shipped references' settings
(``fast=False, jacobian_probes=3``), then prints, for every net and metric, the factor between the two (worst seed)
against the seed spread of the reference (max / min over the seeds), largest first. A ratio below 1 means the
numerics move the value less than drawing another seed does (docs/PERFORMANCE.md, "What is left is arithmetic").
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from resnet_core.gradients.config import GradientConfig
from resnet_core.gradients.result import GradientResult
from resnet_core.gradients.run import run_gradients
from resnet_core.training.threads import configure as configure_threads


def _log_spread(values: list[float | None]) -> float:
    kept = [v for v in values if v]
    return math.log(max(kept) / min(kept)) if len(kept) > 1 else float("nan")


def _log_factor(a: float | None, b: float | None) -> float:
    return abs(math.log(b / a)) if a and b else 0.0


def compare(reference: GradientResult, live: GradientResult) -> list[tuple[float, str, float, float]]:
    """(difference / seed spread, what, worst factor, seed spread) for every net, headline ratio and block gain."""
    rows = []
    config = GradientConfig.from_dict(reference.config)
    for depth in config.depths:
        for residual in (False, True):
            ref = reference.runs_of(depth, residual)
            if not ref:
                continue
            name = ref[0].name
            pairs = [(r, live.run(depth, residual, r.seed)) for r in ref]
            metrics = {
                key: [(getattr(r, key), getattr(x, key)) for r, x in pairs]
                for key in ("first_last_ratio", "weight_first_last_ratio")
            }
            for b in range(len(ref[0].block_jacobian_gain)):
                metrics[f"block gain {b}"] = [(r.block_jacobian_gain[b], x.block_jacobian_gain[b]) for r, x in pairs]
            for key, values in metrics.items():
                spread = _log_spread([a for a, _ in values])
                worst = max(_log_factor(a, b) for a, b in values)
                if spread > 0:
                    rows.append((worst / spread, f"{name} {key}", math.exp(worst), math.exp(spread)))
    return sorted(rows, reverse=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--norm", choices=["batch", "none"], default="batch")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args()
    configure_threads()
    seeds = [int(s) for s in args.seeds.split(",")]
    reference = run_gradients(GradientConfig(norm=args.norm, seeds=seeds, fast=False, jacobian_probes=3))
    live = run_gradients(GradientConfig(norm=args.norm, seeds=seeds))
    print(
        f"norm {args.norm}, seeds {seeds}: reference (float32, 3 probes) {reference.seconds:.1f} s, "
        f"live default (fast numerics, {GradientConfig().jacobian_probes} probe) {live.seconds:.1f} s"
    )
    print(f"{'diff / seed spread':>18}  {'fast / fp32 (worst seed)':>24}  {'seed spread':>11}  what")
    for ratio, what, factor, spread in compare(reference, live)[: args.top]:
        print(f"{ratio:>18.2f}  {factor:>24.3f}  {spread:>11.3f}  {what}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
