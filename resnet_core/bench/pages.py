"""Bench rows for the page defaults: how long a class waits for each default run, from the same functions the
pages call (wall seconds, median of ``repeats`` with the spread, and images/s through the models).

- transfer: ``run_transfer(TransferConfig())`` (5 strategies, k = 20, one seed, 12 epochs; the page's defaults);
  images = training images seen (epochs x images per epoch, summed over the runs);
- gradients: ``run_gradients`` at depths 8/20/56/110, plain and residual, batch 64, one seed (the page's
  defaults); images = one batch per net;
- delete-one: ``run_ablation`` of the shipped depth-56 pair on 300 test images, delete-one only (the page's
  quick run); images = test images x evaluations.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

from resnet_core.training.devices import synchronize


def _transfer(device: torch.device) -> tuple[float, int]:
    from resnet_core.transfer import TransferConfig, run_transfer

    config = TransferConfig()
    result = run_transfer(config, device=device)
    images = sum(r.epochs_run * max(r.train_images, config.min_epoch_images) for r in result.results)
    return result.seconds, images


def _gradients(device: torch.device) -> tuple[float, int]:
    from resnet_core.gradients.config import GradientConfig
    from resnet_core.gradients.run import run_gradients

    config = GradientConfig(depths=[8, 20, 56, 110], variants=["plain", "residual"], batch_size=64, seeds=[0])
    result = run_gradients(config, device=device)
    return result.seconds, len(result.runs) * config.batch_size


def _delete_one(device: torch.device) -> tuple[float, int]:
    from resnet_core.ablation.run import AblationConfig, run_ablation

    config = AblationConfig(depth=56, test_size=300, delete_k=False, reorder=False)
    result = run_ablation(config, device=device)
    return result.seconds, result.evaluations * result.test_size


PAGE_ROWS: dict[str, Callable[[torch.device], tuple[float, int]]] = {
    "page default: transfer comparison": _transfer,
    "page default: gradient flow": _gradients,
    "page default: quick delete-one (depth 56, 300 images)": _delete_one,
}


def page_default_rows(
    device: torch.device,
    *,
    repeats: int,
    say: Callable[[str], None] = lambda line: None,
    should_stop: Callable[[], bool] | None = None,
) -> list[dict]:
    """One row per page default: wall seconds (median, all repeats) and images/s. Each repeat runs every row in
    turn, so a busy spell on a shared machine spreads over all rows instead of one."""
    walls: dict[str, list[float]] = {name: [] for name in PAGE_ROWS}
    images: dict[str, int] = {}
    for rep in range(repeats):
        for name, fn in PAGE_ROWS.items():
            if should_stop is not None and should_stop():
                break
            t0 = time.perf_counter()
            _, n = fn(device)
            synchronize(device)
            wall = time.perf_counter() - t0
            walls[name].append(wall)
            images[name] = n
            say(f"[{rep + 1}/{repeats}] {name}: {wall:.2f} s")
    rows = []
    for name, ws in walls.items():
        if not ws:
            continue
        median = statistics.median(ws)
        rows.append(
            {
                "name": name,
                "wall_s": median,
                "wall_s_all": ws,
                "images": images[name],
                "img_per_s": images[name] / max(1e-9, median),
            }
        )
    return rows


def format_page_rows(rows: list[dict]) -> list[str]:
    head = f"{'page default':<55} {'wall s':>8} {'spread':>13} {'img/s':>9}"
    lines = [head, "-" * len(head)]
    for r in rows:
        spread = f"{min(r['wall_s_all']):.2f}-{max(r['wall_s_all']):.2f}"
        lines.append(f"{r['name']:<55} {r['wall_s']:>8.2f} {spread:>13} {r['img_per_s']:>9.0f}")
    return lines
