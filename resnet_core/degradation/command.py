"""``python -m resnet_core degradation``: train plain and residual nets at several depths (He et al. Fig. 6), one
process per seed if you like, then ``--merge`` the per-seed results into one."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from resnet_core.data import datasets as data_mod
from resnet_core.degradation import report as degradation_report
from resnet_core.degradation.config import DegradationConfig
from resnet_core.degradation.result import DegradationResult, merge_results
from resnet_core.degradation.run import run_degradation
from resnet_core.models import parse_depths
from resnet_core.provenance import provenance, write_json
from resnet_core.training.devices import describe_device, pick_device
from resnet_core.training.engine import HYPERPARAMS, ProgressEvent
from resnet_core.validation import add_common, parse_seeds, print_progress


def cmd_merge_degradation(args: argparse.Namespace) -> int:
    parts = [DegradationResult.from_dict(json.loads(Path(f).read_text())) for f in args.merge]
    result = merge_results(parts)
    result.provenance = {
        **provenance(seed=None, device="cpu", data=parts[0].config.get("dataset", "?"), seeds=result.seeds),
        "device": "see parts",
        **result.provenance,
    }
    print(f"merged {len(parts)} results: seeds {result.seeds}, {len(result.runs)} runs, status {result.status}")
    print(degradation_report.headline(result, markdown=False))
    for line in degradation_report.details(result):
        print("  " + line)
    if args.json:
        write_json(args.json, result.to_dict())
        print(f"wrote {args.json}")
    return 0 if result.status == "done" else 3


def cmd_degradation(args: argparse.Namespace) -> int:
    if args.merge:
        return cmd_merge_degradation(args)
    device = pick_device(args.device)
    variants = ["plain", "residual"] if args.variants == "both" else [args.variants]
    config = DegradationConfig(
        depths=parse_depths(args.depths),
        variants=variants,
        dataset=args.dataset,
        train_size=args.train_size,
        test_size=args.test_size,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        schedule=args.schedule,
        augment=not args.no_augment,
        norm=args.norm,
        width=args.width,
        seeds=parse_seeds(args.seeds),
        max_steps=args.max_steps,
        train_eval_size=args.train_eval_size,
    )
    print(
        f"degradation: depths {config.depths}, {'/'.join(variants)}, {args.dataset}, {args.epochs} epochs, "
        f"seeds {config.seeds}, on {describe_device(device).describe()}",
        flush=True,
    )
    current = {"tag": None}

    def progress(event: ProgressEvent) -> None:
        if event.tag != current["tag"]:
            current["tag"] = event.tag
            print(f"{event.tag}:", flush=True)
        print_progress(event)

    prov = provenance(seed=config.seeds[0], device=device, data=args.dataset, seeds=config.seeds)

    def save(result: DegradationResult) -> None:
        if args.json:
            result.provenance = prov
            write_json(args.json, result.to_dict())

    result = run_degradation(config, device=device, on_progress=progress, on_partial=save)
    result.provenance = prov
    print(f"\n{'run':<13} {'seed':>4} {'train err':>9} {'test err':>9} {'seconds':>8}")
    for run in result.runs:
        f = run.final
        print(
            f"{run.name:<13} {run.seed:>4} {f.get('train_err', float('nan')):>9.4f} "
            f"{f.get('test_err', float('nan')):>9.4f} {run.seconds:>8.1f}  {run.status}"
        )
    print("\n" + degradation_report.headline(result, markdown=False))
    if args.json:
        write_json(args.json, result.to_dict())
        print(f"wrote {args.json}")
    return 0 if result.status == "done" else 3


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("degradation", help="train plain and residual nets at several depths (He et al. Fig. 6)")
    add_common(p)
    p.add_argument("--depths", default="20,56", help="comma-separated 6n+2 depths")
    p.add_argument("--variants", choices=["both", "plain", "residual"], default="both")
    p.add_argument("--dataset", choices=sorted(data_mod.DATASETS), default="bundled")
    p.add_argument("--train-size", type=int, default=None, help="stratified subset of the training split")
    p.add_argument("--test-size", type=int, default=None, help="stratified subset of the test split")
    p.add_argument(
        "--train-eval-size",
        type=int,
        default=1000,
        help="fixed training images scored in eval mode after every epoch (the training error)",
    )
    p.add_argument("--epochs", type=int, default=HYPERPARAMS["epochs"])
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=HYPERPARAMS["batch_size"])
    p.add_argument("--lr", type=float, default=HYPERPARAMS["lr"])
    p.add_argument("--weight-decay", type=float, default=HYPERPARAMS["weight_decay"])
    p.add_argument("--schedule", choices=["onecycle", "cosine", "step", "constant"], default=HYPERPARAMS["schedule"])
    p.add_argument("--no-augment", action="store_true")
    p.add_argument("--norm", choices=["batch", "none"], default="batch")
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--seeds", "--seed", default="0", help="comma-separated seeds: each trains every net")
    p.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        default=None,
        metavar="JSON",
        help="instead of training: merge results of the same configuration run with different seeds "
        "(e.g. one process per seed) into --json",
    )
    p.add_argument("--json", type=Path, default=None)
    p.set_defaults(func=cmd_degradation)
