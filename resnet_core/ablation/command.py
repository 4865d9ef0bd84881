"""``ablation`` subcommand: delete / reorder blocks of trained residual and plain nets (Veit et al. 2016)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from resnet_core.ablation import report as ablation_report
from resnet_core.ablation.lesions import BN_STATS
from resnet_core.ablation.run import AblationConfig, run_ablation
from resnet_core.data import datasets as data_mod
from resnet_core.provenance import write_json
from resnet_core.training.devices import pick_device
from resnet_core.training.engine import ProgressEvent
from resnet_core.validation import add_common


def _int_list(text: str) -> list[int]:
    return [int(x) for x in text.replace(",", " ").split() if x]


def cmd_ablation(args: argparse.Namespace) -> int:
    device = pick_device(args.device)
    config = AblationConfig(
        depth=args.depth,
        residual_checkpoint=args.residual,
        plain_checkpoint=args.plain,
        dataset=args.dataset,
        test_size=args.test_size,
        trials=args.trials,
        ks=args.ks,
        swaps=args.swaps,
        reorder=not args.no_reorder,
        delete_k=not args.no_delete_k,
        seed=args.seed,
        bn_stats=args.bn,
        bn_images=args.bn_images,
    )
    last = [0.0]

    def progress(e: ProgressEvent) -> None:
        if e.elapsed - last[0] >= 5 or e.step == e.total_steps:
            last[0] = e.elapsed
            print(
                f"  [{e.step}/{e.total_steps}] {e.tag} {e.metrics.get('what', '')}: acc {e.acc:.4f} ({e.elapsed:.0f}s)",
                flush=True,
            )

    result = run_ablation(config, device=device, on_progress=progress)
    print(
        f"ablation on {result.test_size} {result.test_data} images, BatchNorm statistics {result.bn_stats}, "
        f"{result.evaluations} evaluations, {result.seconds:.1f}s"
    )
    for line in ablation_report.summary_lines(result):
        print(line)
    print("\n" + ablation_report.headline(result, markdown=False))
    if args.json:
        write_json(args.json, result.to_dict())
        print(f"wrote {args.json}")
    return 0


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "ablation", help="delete / reorder blocks of trained residual and plain nets (Veit et al. 2016)"
    )
    add_common(p)
    p.add_argument("--depth", type=int, default=56, help="uses the shipped resnet{depth}.pt and plain{depth}.pt")
    p.add_argument("--residual", default=None, help="residual checkpoint (path or shipped name) instead")
    p.add_argument("--plain", default=None, help="plain checkpoint (path or shipped name) instead")
    p.add_argument("--dataset", choices=sorted(data_mod.DATASETS), default="bundled", help="test images from here")
    p.add_argument("--test-size", type=int, default=1000, help="stratified test subset (0: all)")
    p.add_argument("--trials", type=int, default=10, help="random subsets per k / swap sets per count")
    p.add_argument("--ks", type=_int_list, default=None, help="delete-k values, e.g. '1,2,4,8'")
    p.add_argument("--swaps", type=_int_list, default=None, help="reorder: swap counts, e.g. '1,2,4'")
    p.add_argument("--no-reorder", action="store_true")
    p.add_argument("--no-delete-k", action="store_true", help="only delete one block at a time (quick)")
    p.add_argument(
        "--bn",
        choices=BN_STATS,
        default="raw",
        help="BatchNorm statistics after a lesion: raw (as trained, as Veit et al.) or recompute "
        "(re-estimated on training images for each lesioned net)",
    )
    p.add_argument("--bn-images", type=int, default=1000, help="training images for --bn recompute")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, default=None, help="write the result here")
    p.set_defaults(func=cmd_ablation)
