"""The degradation experiment's result: per (seed, depth, variant) the error per epoch, JSON round trip, and
results of the same configuration over different seeds merged into one."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from resnet_core.degradation.config import DegradationConfig
from resnet_core.experiment import merged_status
from resnet_core.models import variant_name


@dataclass
class DegradationRun:
    depth: int
    residual: bool
    history: list[dict]  # per epoch: epoch, train_err, running_train_err, test_err (+ step, losses, seconds)
    status: str = "done"
    seconds: float = 0.0
    steps: int = 0
    parameters: int = 0
    message: str = ""
    seed: int = 0

    @property
    def name(self) -> str:
        return variant_name(self.residual, self.depth)

    @property
    def final(self) -> dict:
        return self.history[-1] if self.history else {}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> DegradationRun:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class DegradationResult:
    config: dict
    runs: list[DegradationRun]
    status: str = "done"  # running (partial) | done | cancelled | diverged (when any run diverged)
    seconds: float = 0.0
    train_images: int = 0
    test_images: int = 0
    train_eval_images: int = 0
    provenance: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "config": self.config,
            "runs": [r.to_dict() for r in self.runs],
            "status": self.status,
            "seconds": self.seconds,
            "train_images": self.train_images,
            "test_images": self.test_images,
            "train_eval_images": self.train_eval_images,
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, d: dict) -> DegradationResult:
        config = dict(d.get("config", {}))
        if "seeds" not in config and "seed" in config:
            config["seeds"] = [int(config["seed"])]
        runs = [DegradationRun.from_dict({"seed": config.get("seeds", [0])[0], **r}) for r in d.get("runs", [])]
        return cls(
            config=config,
            runs=runs,
            status=d.get("status", "done"),
            seconds=d.get("seconds", 0.0),
            train_images=d.get("train_images", 0),
            test_images=d.get("test_images", 0),
            train_eval_images=d.get("train_eval_images", 0),
            provenance=dict(d.get("provenance", {})),
        )

    @property
    def seeds(self) -> list[int]:
        return sorted({r.seed for r in self.runs})

    @property
    def complete(self) -> bool:
        """Every configured run finished (done or diverged): only then may a verdict be drawn."""
        expected = DegradationConfig.from_dict(self.config).total_runs
        finished = [r for r in self.runs if r.status in ("done", "diverged")]
        return self.status in ("done", "diverged") and len(finished) == expected

    def run(self, depth: int, residual: bool, seed: int | None = None) -> DegradationRun | None:
        for r in self.runs:
            if r.depth == depth and r.residual == residual and (seed is None or r.seed == seed):
                return r
        return None


def history_row(row: dict) -> dict:
    """An engine history row with the error rates the degradation plots use."""
    out = dict(row)
    out["running_train_err"] = 1.0 - row["train_acc"]
    # Eval-mode error on the fixed training subset; files from before it existed fall back to the running one.
    out["train_err"] = 1.0 - row["train_eval_acc"] if "train_eval_acc" in row else out["running_train_err"]
    if "test_acc" in row:
        out["test_err"] = 1.0 - row["test_acc"]
    return out


def merge_results(parts: list[DegradationResult]) -> DegradationResult:
    """One result from runs of the same configuration over different seeds (e.g. run in parallel processes).

    Refuses parts whose configurations differ in anything but the seeds, or that repeat a seed."""
    if not parts:
        raise ValueError("nothing to merge")
    base = {k: v for k, v in parts[0].config.items() if k != "seeds"}
    seeds: list[int] = []
    for p in parts:
        other = {k: v for k, v in p.config.items() if k != "seeds"}
        if other != base:
            diff = sorted(k for k in set(base) | set(other) if base.get(k) != other.get(k))
            raise ValueError(f"cannot merge results whose configurations differ in {', '.join(diff)}")
        part_seeds = list(p.config.get("seeds") or p.seeds)
        if set(part_seeds) & set(seeds):
            raise ValueError(f"seed {sorted(set(part_seeds) & set(seeds))[0]} appears in more than one part")
        seeds += part_seeds
    return DegradationResult(
        config={**base, "seeds": seeds},
        runs=[r for p in parts for r in p.runs],
        status=merged_status([{"status": p.status} for p in parts]),
        seconds=sum(p.seconds for p in parts),
        train_images=parts[0].train_images,
        test_images=parts[0].test_images,
        train_eval_images=parts[0].train_eval_images,
        provenance={"parts": [p.provenance for p in parts]},
    )
