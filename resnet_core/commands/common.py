"""Helpers shared by every subcommand: the ``--device`` option and a one-line-per-epoch progress printer."""

from __future__ import annotations

import argparse

from resnet_core.engine import ProgressEvent


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default=None, help="cuda, mps or cpu (default: the best available)")


def print_progress(event: ProgressEvent) -> None:
    if event.kind == "epoch":
        extra = "  ".join(
            f"{k} {v:.4f}"
            for k, v in event.metrics.items()
            if k.endswith(("_acc", "_loss")) and not k.startswith("train")
        )
        print(
            f"  epoch {event.epoch:.0f}  train loss {event.loss:.4f}  acc {event.acc:.4f}  {extra}  "
            f"[{event.elapsed:.1f}s]",
            flush=True,
        )
