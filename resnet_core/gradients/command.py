"""``python -m resnet_core gradients``: gradient norms by depth, plain vs residual, at initialisation or after N steps."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from resnet_core.data import datasets as data_mod
from resnet_core.gradients import report as gradients_report
from resnet_core.gradients.config import GradientConfig
from resnet_core.gradients.result import GradientRun
from resnet_core.gradients.run import run_gradients
from resnet_core.models import parse_depths
from resnet_core.numbers import fmt_number
from resnet_core.provenance import write_json
from resnet_core.training.devices import pick_device
from resnet_core.validation import add_common, parse_seeds


def _print_gradient_run(run: GradientRun) -> None:
    print(
        f"  seed {run.seed}  {run.name:<13} ||dL/dx|| block 0 / last block {fmt_number(run.first_last_ratio, 3):>10}   "
        f"relative weight grad first/last {fmt_number(run.weight_first_last_ratio, 3):>10}   [{run.seconds:.2f}s]",
        flush=True,
    )


def cmd_gradients(args: argparse.Namespace) -> int:
    device = pick_device(args.device)
    variants = ["plain", "residual"] if args.variants == "both" else [args.variants]
    config = GradientConfig(
        depths=parse_depths(args.depths),
        variants=variants,
        norm=args.norm,
        activation=args.activation,
        shortcut=args.shortcut,
        width=args.width,
        batch_size=args.batch_size,
        seeds=parse_seeds(args.seeds),
        dataset=args.dataset,
        train_steps=args.steps,
        jacobian_probes=args.probes if args.probes is not None else GradientConfig.jacobian_probes,
        fast=not args.fp32,
    )
    print(
        f"gradient norms on {args.dataset} (batch {args.batch_size}), norm={args.norm}, activation={args.activation}, "
        f"seeds {config.seeds}, {'at initialisation' if not args.steps else f'after {args.steps} training steps'}",
        flush=True,
    )
    result = run_gradients(config, device=device, on_partial=lambda r: _print_gradient_run(r.runs[-1]))
    print(f"{len(result.runs)} runs in {result.seconds:.1f}s\n")
    print(gradients_report.headline(result, markdown=False))
    if args.json:
        write_json(args.json, result.to_dict())
        print(f"wrote {args.json}")
    diverged = [f"{r.name} (seed {r.seed})" for r in result.runs if r.loss is None]
    if diverged:  # a non-finite loss: the --steps training diverged, or the net overflows at initialisation
        print(f"not finite (diverged): {', '.join(diverged)}", file=sys.stderr)
        return 3
    return 0


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("gradients", help="gradient norms by depth, plain vs residual (at init or after N steps)")
    add_common(p)
    p.add_argument("--depths", default="8,20,56,110", help="comma-separated 6n+2 depths")
    p.add_argument("--variants", choices=["both", "plain", "residual"], default="both")
    p.add_argument("--norm", choices=["batch", "none"], default="batch")
    p.add_argument("--activation", choices=["relu", "tanh", "sigmoid"], default="relu")
    p.add_argument("--shortcut", choices=["A", "B"], default="A")
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--dataset", choices=sorted(data_mod.DATASETS), default="bundled")
    p.add_argument("--steps", type=int, default=0, help="training steps before measuring (0 = at initialisation)")
    p.add_argument(
        "--probes",
        type=int,
        default=None,
        help=f"random vectors per block for the ||dy/dx|| estimate (default {GradientConfig.jacobian_probes})",
    )
    p.add_argument(
        "--fp32",
        action="store_true",
        help="measure in plain float32 (how the shipped results were measured); default: the engine's fast "
        "numerics (bf16 autocast where the device has it natively, channels-last)",
    )
    p.add_argument("--seeds", "--seed", default="0", help="comma-separated seeds: each is measured (e.g. 0,1,2,3,4)")
    p.add_argument("--json", type=Path, default=None)
    p.set_defaults(func=cmd_gradients)
