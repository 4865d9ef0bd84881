"""Time the Gradient-flow page's default view: 4 depths x 2 variants at initialisation, batch 128.

Usage: python scripts/bench_gradients.py [--device cpu] [--depths 8,20,56,110] [--repeats 1]

Prints one row per (depth, variant): seconds for the whole measurement (build the net, forward/backward on one
batch, the block-Jacobian probes) and, separately, with the Jacobian probes switched off. Not a test: timings
depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from resnet_core.gradients.config import GradientConfig
from resnet_core.gradients.run import parse_depths, run_gradients
from resnet_core.training.devices import describe_device, pick_device


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None)
    parser.add_argument("--depths", default="8,20,56,110")
    parser.add_argument("--norm", choices=["batch", "none"], default="batch")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=1, help="take the best of this many runs")
    args = parser.parse_args()
    device = pick_device(args.device)
    depths = parse_depths(args.depths)
    # Warm-up: data loading and first-call overheads are not part of a page interaction after the first.
    run_gradients(GradientConfig(depths=[8], batch_size=args.batch_size, jacobian_probes=1), device=device)

    def best(probes: int) -> tuple[dict, float]:
        per_run: dict = {}
        totals = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            res = run_gradients(
                GradientConfig(depths=depths, norm=args.norm, batch_size=args.batch_size, jacobian_probes=probes),
                device=device,
            )
            totals.append(time.perf_counter() - t0)
            for r in res.runs:
                per_run[r.name] = min(per_run.get(r.name, float("inf")), r.seconds)
        return per_run, min(totals)

    full, full_total = best(GradientConfig().jacobian_probes)
    grads_only, grads_total = best(0)
    print(
        f"Gradient-flow default view on {describe_device(device).describe()} (torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads), batch {args.batch_size}, norm={args.norm}, best of {args.repeats}"
    )
    print(f"{'net':<14} {'full (s)':>9} {'no Jacobian (s)':>16}")
    for name in full:
        print(f"{name:<14} {full[name]:>9.2f} {grads_only[name]:>16.2f}")
    print(f"{'total':<14} {full_total:>9.2f} {grads_total:>16.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
