"""Results and their numbers: one run, one comparison, means over seeds, test-set standard errors and paired
differences between strategies with 95% t-intervals over seeds. Words about them live in ``report``."""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path

from resnet_core.data.datasets import REPO_ROOT
from resnet_core.experiment import merged_status
from resnet_core.stats import binomial_se
from resnet_core.stats import t975 as t95
from resnet_core.training.divergence import is_diverged
from resnet_core.transfer.config import BN_TRAIN, STRATEGIES

RESULTS_DIR = REPO_ROOT / "assets" / "results"
SWEEP_PATH = RESULTS_DIR / "transfer_sweep.json"
# Paired differences the summary reports (a - b, per seed on the same labelled images): does transfer help at
# all, does fine-tuning beat frozen features, does the head-first stage matter, and the tutorial bug's cost.
PAIRS = [
    ("feature_extraction", "scratch"),
    ("partial_finetune", "feature_extraction"),
    ("full_finetune", "feature_extraction"),
    ("staged", "full_finetune"),
    (BN_TRAIN, "feature_extraction"),
]


def mean_interval(values: list[float]) -> dict:
    """Mean, standard deviation and the 95% t-interval of the mean (None bounds with fewer than 2 values)."""
    n = len(values)
    mean = statistics.fmean(values) if values else float("nan")
    sd = statistics.stdev(values) if n > 1 else float("nan")
    half = t95(n - 1) * sd / math.sqrt(n) if n > 1 else float("nan")
    return {
        "n": n,
        "mean": mean,
        "sd": sd,
        "low": mean - half if n > 1 else None,
        "high": mean + half if n > 1 else None,
    }


@dataclass
class RunResult:
    """One strategy trained with one seed at one label budget."""

    strategy: str
    seed: int
    shots: int | None
    best_val_acc: float
    final_val_acc: float
    test_acc: float
    train_seconds: float
    trainable_params: int
    history: list[dict]
    test_loss: float = float("nan")
    test_images: int = 0  # how many test images test_acc is measured on (0 in files older than issue 10)
    tested_val_acc: float = float("nan")  # validation accuracy of the weights that were tested (early stopping)
    final_train_acc: float = float("nan")
    train_val_gap: float = float("nan")  # final train accuracy (on the labelled images) minus final val accuracy
    seconds_per_epoch: float = float("nan")
    epochs_run: int = 0
    best_epoch: int = 0
    status: str = "done"  # done | early-stopped | cancelled | diverged
    total_params: int = 0
    train_images: int = 0
    shots_used: int = 0  # labelled images per class actually drawn (fewest of any class); 0 in older files
    device: str = ""
    bn_drift: dict = field(default_factory=dict)  # pretrained strategies: how far BN running statistics moved
    confusion: list[list[int]] = field(default_factory=list)  # rows = true class, columns = predicted
    misclassified: list[dict] = field(default_factory=list)  # [{"index", "true", "pred"}] into the test set

    @property
    def k_used(self) -> int | None:
        """Labelled images per class this run trained on: ``shots`` unless a class had fewer (an upload)."""
        if self.shots_used and (self.shots is None or self.shots_used < self.shots):
            return self.shots_used
        return self.shots

    @property
    def n_test(self) -> int:
        return self.test_images or sum(map(sum, self.confusion))

    @property
    def test_se(self) -> float:
        return binomial_se(self.test_acc, self.n_test)

    def to_dict(self) -> dict:
        return {**asdict(self), "test_se": self.test_se}

    @classmethod
    def from_dict(cls, d: dict) -> RunResult:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class TransferResult:
    config: dict
    results: list[RunResult]
    class_names: list[str] = field(default_factory=list)
    source_info: dict = field(default_factory=dict)
    data_info: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    status: str = "done"  # done | running (a partial result) | cancelled
    message: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {
            "config": self.config,
            "results": [r.to_dict() for r in self.results],
            "summary": summarize(self.results),
            "paired_differences": paired_differences(self.results),
            "class_names": self.class_names,
            "source_info": self.source_info,
            "data_info": self.data_info,
            "provenance": self.provenance,
            "status": self.status,
            "message": self.message,
            "seconds": self.seconds,
        }

    @classmethod
    def from_dict(cls, d: dict) -> TransferResult:
        return cls(
            config=d.get("config", {}),
            results=[RunResult.from_dict(r) for r in d.get("results", [])],
            class_names=d.get("class_names", []),
            source_info=d.get("source_info", {}),
            data_info=d.get("data_info", {}),
            provenance=d.get("provenance", {}),
            status=d.get("status", "done"),
            message=d.get("message", ""),
            seconds=d.get("seconds", 0.0),
        )


def _budget_key(shots: int | None) -> int:
    return shots or 10**9


def summarize(results: list[RunResult]) -> list[dict]:
    """Mean, standard deviation over seeds and the typical test-set standard error of each (strategy, shots)."""
    cells: dict[tuple, list[RunResult]] = {}
    for r in [r for r in results if not is_diverged(r)]:  # diverged runs: left out of means, counts and verdicts
        cells.setdefault((r.strategy, r.shots), []).append(r)
    order = {s: i for i, s in enumerate(STRATEGIES)}
    rows = []
    for (strategy, shots), rs in sorted(cells.items(), key=lambda kv: (_budget_key(kv[0][1]), order.get(kv[0][0], 99))):
        accs = [r.test_acc for r in rs]
        mean = statistics.fmean(accs)
        drift = [r.bn_drift["mean_shift"] for r in rs if r.bn_drift.get("mean_shift") is not None]
        var_drift = [r.bn_drift["var_log_ratio"] for r in rs if r.bn_drift.get("var_log_ratio") is not None]
        rows.append(
            {
                "strategy": strategy,
                "shots": shots,
                "shots_used": min((r.k_used for r in rs), key=lambda k: k or 10**9),
                "n_seeds": len(rs),
                "seeds": [r.seed for r in rs],
                "test_acc_mean": mean,
                "test_acc_std": statistics.stdev(accs) if len(accs) > 1 else 0.0,
                "test_se": binomial_se(mean, rs[0].n_test),  # one run's test-set SE at the mean accuracy
                "test_images": rs[0].n_test,
                "test_acc_min": min(accs),
                "test_acc_max": max(accs),
                "best_val_acc_mean": statistics.fmean(r.best_val_acc for r in rs),
                "train_seconds_mean": statistics.fmean(r.train_seconds for r in rs),
                "trainable_params": rs[0].trainable_params,
                "bn_mean_shift": statistics.fmean(drift) if drift else None,
                "bn_var_log_ratio": statistics.fmean(var_drift) if var_drift else None,
                "statuses": sorted({r.status for r in rs}),
            }
        )
    return rows


def paired_differences(results: list[RunResult], pairs: list[tuple[str, str]] = PAIRS) -> list[dict]:
    """For each budget and each pair (a, b) with both present: a - b per seed, its mean and 95% t-interval."""
    by_key = {(r.strategy, r.shots, r.seed): r for r in results}
    rows = []
    for shots in sorted({r.shots for r in results}, key=_budget_key):
        for a, b in pairs:
            seeds = sorted(s for (st, k, s) in by_key if st == a and k == shots and (b, shots, s) in by_key)
            if not seeds:
                continue
            diffs = [by_key[(a, shots, s)].test_acc - by_key[(b, shots, s)].test_acc for s in seeds]
            stats = mean_interval(diffs)
            rows.append(
                {
                    "a": a,
                    "b": b,
                    "shots": shots,
                    "seeds": seeds,
                    "diffs": diffs,
                    "a_wins": sum(d > 0 for d in diffs),
                    **stats,
                }
            )
    return rows


def load_result(path: Path) -> TransferResult | None:
    if not Path(path).is_file():
        return None
    return TransferResult.from_dict(json.loads(Path(path).read_text()))


def load_shipped_sweep(path: Path = SWEEP_PATH) -> TransferResult | None:
    return load_result(path)


def comparison_path(split_seed: int | None, shots: int = 20) -> Path:
    split = "default" if split_seed is None else f"split{split_seed}"
    return RESULTS_DIR / f"transfer_k{shots}_{split}.json"


def shipped_comparisons(shots: int = 20) -> dict[int | None, TransferResult]:
    """The shipped k-shot comparisons, keyed by split seed (None = the default split), default first."""
    out: dict[int | None, TransferResult] = {}
    default = load_result(comparison_path(None, shots))
    if default is not None:
        out[None] = default
    drawn = sorted(RESULTS_DIR.glob(f"transfer_k{shots}_split*.json"), key=lambda p: int(p.stem.rsplit("split", 1)[1]))
    for path in drawn:
        result = load_result(path)
        if result is not None:
            out[result.config.get("split_seed")] = result
    return out


def merge(config: dict, parts: list[TransferResult]) -> TransferResult:
    """One comparison from per-seed runs of ``config`` (the library runs one seed per task), in the order
    :func:`resnet_core.transfer.run.run_transfer` itself uses: label budget, then seed, then strategy."""
    shots, seeds, strategies = config["shots"], config["seeds"], config["strategies"]
    runs = [r for p in parts for r in p.results]
    runs.sort(key=lambda r: (shots.index(r.shots), seeds.index(r.seed), strategies.index(r.strategy)))
    first = parts[0]
    return TransferResult(
        config=dict(config),
        results=runs,
        class_names=first.class_names,
        source_info=first.source_info,
        data_info=first.data_info,
        status=merged_status([{"status": p.status} for p in parts]),
        message=_merged_message(parts, runs),
        seconds=sum(p.seconds for p in parts),
    )


def _merged_message(parts: list[TransferResult], runs: list[RunResult]) -> str:
    if any(p.status != "done" for p in parts):
        return "; ".join(p.message for p in parts if p.message)
    return closing_message(runs, sum(p.seconds for p in parts))


def closing_message(runs: list[RunResult], seconds: float) -> str:
    """How a finished comparison ended: how many runs in how long, and which diverged."""
    diverged = [f"{r.strategy} (seed {r.seed})" for r in runs if r.status == "diverged"]
    return f"{len(runs)} runs in {seconds:.1f}s" + (
        f"; diverged: {', '.join(diverged)} (left out of means and verdicts; lower the learning rate)"
        if diverged
        else ""
    )
