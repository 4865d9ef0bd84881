"""``architectures`` subcommand: parameters, MACs/FLOPs, activation memory and depth, no weights needed."""

from __future__ import annotations

import argparse
from typing import Any

from resnet_core.architectures.config import ArchitecturesConfig
from resnet_core.architectures.run import run_architectures
from resnet_core.architectures.zoo import ALL_NETS
from resnet_core.provenance import write_json


def _cmd_architectures(args: argparse.Namespace) -> int:
    names = [n.strip() for n in args.models.split(",")] if args.models else None
    payload = run_architectures(ArchitecturesConfig(models=names)).to_dict()
    for m in payload["models"]:
        top1 = f"{m['imagenet_top1']:.1f}%" if m.get("imagenet_top1") else "  –  "
        print(
            f"{m['title']:<11} {m['params']:>12,} params  {m['macs'] / 1e9:7.3f} GMACs  {m['flops'] / 1e9:7.3f} GFLOPs  "
            f"{m['activation_mb']:7.1f} MB act.  depth {m['depth']:>3}  top-1 {top1}"
        )
    if args.json:
        write_json(args.json, payload)
        print(f"wrote {args.json}")
    return 0


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "architectures",
        help="parameters, MACs/FLOPs, activation memory and depth of VGG, "
        "ResNet-18..152 and the lab's nets (no weights needed)",
    )
    p.add_argument("--models", default=None, help=f"comma-separated subset of {','.join(ALL_NETS)}")
    p.add_argument("--json", default=None, help="write the figures here")
    p.set_defaults(func=_cmd_architectures)
