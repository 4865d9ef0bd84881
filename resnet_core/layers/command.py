"""``python -m resnet_core layers``: one image through a trained network, the prediction and a sentence per stage."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from resnet_core.layers.config import NETS, LayersConfig
from resnet_core.layers.preprocess import list_photos
from resnet_core.layers.run import run_layers
from resnet_core.provenance import write_json


def _cmd_layers(args: argparse.Namespace) -> int:
    result = run_layers(LayersConfig(net=args.net, image=args.image))
    shape = "x".join(map(str, result.input_shape))
    top = ", ".join(f"{t['class']} {t['probability']:.0%}" for t in result.top)
    print(f"{args.image} through {args.net} (input {shape}): {top}")
    for stage in result.stages:
        print("  " + stage["sentence"].replace("**", ""))
    if args.json:
        write_json(args.json, result.to_dict())
        print(f"wrote {args.json}")
    return 0


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "layers", help="one image through a trained network: the prediction and what each stage's maps look like"
    )
    p.add_argument(
        "--net", choices=NETS, default="resnet20", help="resnet20 is shipped; the others need ImageNet weights"
    )
    p.add_argument(
        "--image",
        default="chelsea",
        help=f"a bundled photo ({', '.join(list_photos())}) or fashion:N (bundled Fashion-MNIST test image N)",
    )
    p.add_argument("--json", type=Path, default=None, help="write the result here")
    p.set_defaults(func=_cmd_layers)
