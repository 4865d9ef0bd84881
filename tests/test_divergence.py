"""The one divergence rule (resnet_core.training.divergence) and where it is applied: engine.train, frozen.train_head,
the transfer experiment's head loop and its summaries."""

from __future__ import annotations

import math
from types import SimpleNamespace

import torch
from torch import nn

from resnet_core.models import build_cifar_net
from resnet_core.training.divergence import LOSS_CEILING, DivergenceCheck, check_losses, is_diverged
from resnet_core.training.engine import TrainConfig, seeded, train
from resnet_core.training.frozen import train_head


def test_rule_on_constructed_losses():
    assert check_losses([(20, 2.3), (40, 1.9), (60, 5.0)]) is None  # noisy but healthy
    assert check_losses([(20, 2.3), (40, 240.0)]).step == 40  # > 100x the first logged loss
    assert check_losses([(20, 0.01), (40, 0.5)]) is None  # first loss floored at 1: no false alarm
    assert check_losses([(20, 9e18)]).step == 20  # above the ceiling from the first log
    assert "NaN" in check_losses([(20, 2.3), (40, math.nan)]).reason
    assert check_losses([(20, 2.3), (40, math.inf)]).step == 40
    assert "test loss" in check_losses([(20, 2.3)], [(20, math.nan)]).message().replace("evaluation", "test")
    check = DivergenceCheck()
    assert check.train_loss(1, LOSS_CEILING * 2).step == 1 and check.train_loss(2, 1.0).step == 1  # first wins
    assert is_diverged({"status": "diverged"}) and not is_diverged(SimpleNamespace(status="done"))


def test_finite_blowup_is_divergence_in_train(tiny_train, cpu):
    model = seeded(lambda: build_cifar_net(8), 0)
    result = train(
        model, tiny_train, TrainConfig(epochs=2, batch_size=50, lr=1000.0, log_every=1, augment=False), device=cpu
    )
    assert result.status == "diverged" and result.diverged_at_step is not None
    assert result.message.startswith(f"diverged at step {result.diverged_at_step}")


def test_non_finite_eval_loss_is_divergence(tiny_train, cpu):
    model = seeded(lambda: build_cifar_net(8), 0)

    class Poison(nn.Module):  # trains normally, evaluates to NaN (e.g. corrupted BatchNorm statistics)
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            out = self.inner(x)
            return out if self.training else out * math.nan

    result = train(
        Poison(model), tiny_train, TrainConfig(epochs=1, batch_size=50, augment=False), device=cpu, test_set=tiny_train
    )
    assert result.status == "diverged" and "test loss" in result.message


def test_train_head_diverges_on_blowup(cpu):
    g = torch.Generator().manual_seed(0)
    feats, labels = torch.randn(200, 16, generator=g) * 100, torch.randint(0, 4, (200,), generator=g)
    result = train_head(nn.Linear(16, 4), feats, labels, TrainConfig(epochs=5, batch_size=50, lr=1e6), device=cpu)
    assert result.status == "diverged" and "diverged at step" in result.message


def test_transfer_summary_leaves_diverged_runs_out():
    from resnet_core.transfer import summarize

    def run(strategy, seed, acc, status="done"):
        return SimpleNamespace(
            strategy=strategy,
            shots=20,
            seed=seed,
            test_acc=acc,
            train_seconds=1.0,
            best_val_acc=acc,
            trainable_params=10,
            status=status,
            bn_drift={},
            n_test=1200,
            k_used=20,
        )

    rows = summarize(
        [run("scratch", 0, 0.8), run("scratch", 1, 0.1, "diverged"), run("full_finetune", 0, 0.25, "diverged")]
    )
    assert [(r["strategy"], r["n_seeds"], r["test_acc_mean"]) for r in rows] == [("scratch", 1, 0.8)]
