"""Estimate vs actual for each page's default run on this machine: python scripts/estimate_check.py [--device cpu]

Each estimate is made as a page makes it — a fresh calibration (and, for gradients, its probe) with no run seen
before — and then the same default run the page would launch is timed. Prints a table; quote it with the load.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from resnet_core.serving import estimates, workloads
from resnet_core.training.threads import configure as configure_threads


def defaults(device: torch.device) -> list[tuple[str, object, object]]:
    """(name, work, run) for each page's default run, built from the configs the pages use."""
    from resnet_core.ablation.config import AblationConfig
    from resnet_core.ablation.run import run_ablation
    from resnet_core.data.datasets import load_dataset, stratified_kshot
    from resnet_core.degradation.config import DegradationConfig
    from resnet_core.degradation.run import run_degradation
    from resnet_core.gradients.config import GradientConfig
    from resnet_core.gradients.run import run_gradients
    from resnet_core.models import build_cifar_net
    from resnet_core.training.engine import TrainConfig, seeded, train
    from resnet_core.transfer.config import TransferConfig
    from resnet_core.transfer.run import run_transfer

    def home():
        splits = load_dataset("bundled")
        subset = splits.train.subset(stratified_kshot(splits.train.labels, 500, seed=0))
        model = seeded(lambda: build_cifar_net(20), 0)
        train(model, subset, TrainConfig(epochs=1, lr=0.1, seed=0, log_every=5), device=device, test_set=splits.test)

    grad = GradientConfig(depths=[8, 20, 56, 110], variants=["plain", "residual"], seeds=[0, 1, 2])
    deg = DegradationConfig(depths=[8, 20], train_size=2000, epochs=2, seeds=[0], log_every=5)
    quick = AblationConfig(depth=56, test_size=300, trials=10, delete_k=False, reorder=False)
    full = AblationConfig(depth=56, test_size=300, trials=10)
    tr = TransferConfig()
    return [
        (
            "Home: train ResNet-20, 5,000 images, 1 epoch",
            workloads.train_run(depth=20, images=5000, epochs=1, eval_images=3000),
            home,
        ),
        (
            "Gradient flow: 4 depths x 2 nets x 3 seeds",
            workloads.gradients(grad),
            lambda: run_gradients(grad, device=device),
        ),
        (
            "Degradation (live CPU default): depths 8, 20; 2,000 images, 2 epochs",
            workloads.degradation(deg, train_images=2000, test_images=3000),
            lambda: run_degradation(deg, device=device),
        ),
        (
            "Block ablation: quick delete-one, depth 56, 300 images",
            workloads.ablation(quick, test_images=300),
            lambda: run_ablation(quick, device=device),
        ),
        (
            "Block ablation: full sweep, depth 56, 300 images, 10 trials",
            workloads.ablation(full, test_images=300),
            lambda: run_ablation(full, device=device),
        ),
        (
            "Transfer: 5 strategies, k=20, 12 epochs, 1 seed",
            workloads.transfer(tr, classes=4, val_images=tr.val_per_class * 4, test_images=1200),
            lambda: run_transfer(tr, device=device),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--only", default="", help="run only the defaults whose name contains one of these texts (separated by |)"
    )
    args = parser.parse_args()
    device = torch.device(args.device)
    plan = configure_threads()  # the app's thread plan (app.py does the same at start-up)
    print(plan.describe())
    print(f"load average {os.getloadavg()[0]:.2f}, torch threads {torch.get_num_threads()}, device {device}")
    rows = []
    for name, work, run in defaults(device):
        if args.only and not any(part.lower() in name.lower() for part in args.only.split("|")):
            continue
        estimates.forget_observations()  # each estimate as a freshly started server makes it
        est = estimates.estimate(work, device)
        start = time.perf_counter()
        with torch.random.fork_rng(devices=[]):
            run()
        actual = time.perf_counter() - start
        rows.append((name, est.total, actual))
        print(
            f"{name:<66} estimate {est.total:7.1f} s   actual {actual:7.1f} s   actual/estimate {actual / est.total:5.2f}"
        )
    print(f"load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
