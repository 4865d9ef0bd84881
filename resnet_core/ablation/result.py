"""Block ablation's result (JSON round trip) and where the shipped results are."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path

from resnet_core.data import datasets as data_mod


@dataclass
class ModelAblation:
    kind: str  # residual | plain
    name: str
    source: str  # checkpoint path or "trained on the page"
    depth: int
    baseline_acc: float
    baseline_loss: float
    chance_acc: float
    blocks: list[dict]  # block_info(): block, stage, downsample, removable
    delete_one: list[dict] = field(default_factory=list)  # block, stage, downsample, removable, acc, loss
    delete_k: list[dict] = field(default_factory=list)  # k, mean_acc, std_acc, accs, trials
    reorder: list[dict] = field(default_factory=list)  # swaps, mean_acc, std_acc, accs, trials
    manifest: dict = field(default_factory=dict)  # test_acc / bundled_test_acc / sha256 when shipped

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelAblation:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


@dataclass
class AblationResult:
    config: dict
    models: dict[str, ModelAblation]
    paths: dict
    test_size: int
    test_data: str
    status: str = "done"  # running (partial) | done | cancelled
    seconds: float = 0.0
    evaluations: int = 0
    provenance: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "config": self.config,
            "models": {k: m.to_dict() for k, m in self.models.items()},
            "paths": self.paths,
            "test_size": self.test_size,
            "test_data": self.test_data,
            "status": self.status,
            "seconds": self.seconds,
            "evaluations": self.evaluations,
            "bn_stats": self.bn_stats,
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, d: dict) -> AblationResult:
        return cls(
            config=d["config"],
            models={k: ModelAblation.from_dict(m) for k, m in d["models"].items()},
            paths=d.get("paths", {}),
            test_size=d.get("test_size", 0),
            test_data=d.get("test_data", ""),
            status=d.get("status", "done"),
            seconds=d.get("seconds", 0.0),
            evaluations=d.get("evaluations", 0),
            provenance=d.get("provenance", {}),
        )

    @property
    def bn_stats(self) -> str:
        return self.config.get("bn_stats", "raw")

    @property
    def complete(self) -> bool:
        """Every planned evaluation ran: only then may a median or a verdict be drawn."""
        return self.status == "done"

    def summary(self) -> dict:
        """Compact numbers per model: intact, delete-one (min / median / max over removable blocks), delete-k."""
        out = {}
        for kind, m in self.models.items():
            accs = [r["acc"] for r in m.delete_one if r["acc"] is not None]
            plain_blocks = [r["acc"] for r in m.delete_one if r["acc"] is not None and not r["downsample"]]
            out[kind] = {
                "name": m.name,
                "baseline_acc": m.baseline_acc,
                "delete_one_min": min(accs) if accs else None,
                "delete_one_median": statistics.median(accs) if accs else None,
                "delete_one_max": max(accs) if accs else None,
                "delete_one_median_non_downsampling": statistics.median(plain_blocks) if plain_blocks else None,
                "not_removable": [r["block"] for r in m.delete_one if r["acc"] is None],
                "delete_k": [(r["k"], r["mean_acc"], r["std_acc"]) for r in m.delete_k],
                "reorder": [(r["swaps"], r["mean_acc"], r["std_acc"]) for r in m.reorder],
            }
        return out


RESULTS_DIR = data_mod.REPO_ROOT / "assets" / "results"


def shipped_result_path(depth: int, bn_stats: str = "raw") -> Path:
    """assets/results/ablation{depth}.json (raw statistics) or ablation{depth}_recompute.json."""
    return RESULTS_DIR / f"ablation{depth}{'' if bn_stats == 'raw' else '_' + bn_stats}.json"
