"""Results built from chosen numbers, for the end-to-end claim guards (tests/test_claims_*.py).

Each builder makes a complete result of one experiment the way its run would, with the one number a claim rests
on chosen per seed, so a test can set it on one side of a rule and then the other and check that the printed
sentence flips. Shared by the experiment guards, the presenter guards and the Korean guards.
"""

from __future__ import annotations

from resnet_core.ablation.result import AblationResult
from resnet_core.degradation.result import DegradationResult
from resnet_core.gradients.result import GradientResult
from resnet_core.transfer.config import TransferConfig
from resnet_core.transfer.result import RunResult, TransferResult


def gradient_result(
    plain: list[float | None], residual: list[float | None], *, depth: int = 56, status: str = "done"
) -> GradientResult:
    """First/last input-gradient ratios per seed (seed i gets plain[i] and residual[i]); None = not finite."""
    seeds = list(range(len(plain)))
    runs = []
    for seed in seeds:
        for is_residual, ratio in ((False, plain[seed]), (True, residual[seed])):
            runs.append(
                {
                    "depth": depth,
                    "residual": is_residual,
                    "norm": "none",
                    "activation": "relu",
                    "shortcut": "A",
                    "layer_names": [],
                    "layer_grad_norms": [],
                    "block_input_grad_norms": [],
                    "block_jacobian_gain": [],
                    "first_last_ratio": ratio,
                    "loss": 2.3,
                    "seed": seed,
                }
            )
    config = {"depths": [depth], "variants": ["plain", "residual"], "seeds": seeds, "norm": "none"}
    return GradientResult.from_dict({"config": config, "runs": runs, "status": status})


def degradation_result(
    plain_gaps: list[float], residual_gaps: list[float], *, status: str = "done", shallow: int = 20, deep: int = 56
) -> DegradationResult:
    """Final training errors: plain-shallow 10%, residual-shallow 9%, the deep nets offset per seed by the given
    gaps (points of training error, deep minus shallow)."""

    def run(depth: int, residual: bool, err: float, seed: int) -> dict:
        return {
            "depth": depth,
            "residual": residual,
            "status": "done",
            "seed": seed,
            "history": [
                {"epoch": 1, "train_err": err + 0.1, "test_err": err + 0.12},
                {"epoch": 2, "train_err": err, "test_err": err + 0.02},
            ],
        }

    seeds = list(range(len(plain_gaps)))
    runs = []
    for seed in seeds:
        runs += [
            run(shallow, False, 0.10, seed),
            run(shallow, True, 0.09, seed),
            run(deep, False, 0.10 + plain_gaps[seed] / 100, seed),
            run(deep, True, 0.09 + residual_gaps[seed] / 100, seed),
        ]
    config = {"depths": [shallow, deep], "epochs": 2, "seeds": seeds}
    return DegradationResult.from_dict({"config": config, "runs": runs, "status": status})


def ablation_result(
    residual_accs: list[float],
    plain_accs: list[float],
    *,
    residual_intact: float = 0.90,
    plain_intact: float = 0.81,
    bn_stats: str = "raw",
    status: str = "done",
) -> AblationResult:
    """Single-deletion accuracies of a trained residual and plain net (block i deleted -> accs[i])."""

    def model(kind: str, base: float, accs: list[float]) -> dict:
        rows = [
            {"block": i, "stage": 0, "downsample": False, "removable": True, "acc": a, "loss": 1.0}
            for i, a in enumerate(accs)
        ]
        return {
            "kind": kind,
            "name": f"{'resnet' if kind == 'residual' else 'plain'}56",
            "source": "",
            "depth": 56,
            "baseline_acc": base,
            "baseline_loss": 0.3,
            "chance_acc": 0.1,
            "blocks": [],
            "delete_one": rows,
        }

    return AblationResult.from_dict(
        {
            "config": {"bn_stats": bn_stats},
            "status": status,
            "test_size": 3000,
            "test_data": "bundled test",
            "paths": {},
            "evaluations": 1 + len(residual_accs) + len(plain_accs),
            "models": {
                "residual": model("residual", residual_intact, residual_accs),
                "plain": model("plain", plain_intact, plain_accs),
            },
        }
    )


def transfer_result(
    accs: dict[str, list[float]], *, shots: int = 20, status: str = "done", bn_shift: dict[str, float] | None = None
) -> TransferResult:
    """Test accuracy per strategy and seed (seed i of every strategy is one paired draw of labelled images);
    ``bn_shift``: how far a pretrained strategy moved the backbone's BatchNorm statistics (0 when frozen)."""
    shift = bn_shift or {}
    runs = [
        RunResult(
            strategy=strategy,
            seed=seed,
            shots=shots,
            best_val_acc=acc,
            final_val_acc=acc,
            test_acc=acc,
            train_seconds=1.0,
            trainable_params=10,
            history=[],
            test_images=1200,
            bn_drift={"mean_shift": shift[strategy], "var_log_ratio": shift[strategy] / 2} if strategy in shift else {},
        )
        for strategy, values in accs.items()
        for seed, acc in enumerate(values)
    ]
    config = TransferConfig(strategies=list(accs), shots=[shots], seeds=list(range(max(map(len, accs.values())))))
    return TransferResult(config=config.to_dict(), results=runs, status=status)
