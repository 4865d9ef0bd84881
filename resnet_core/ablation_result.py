"""Block ablation's configuration and result (JSON round trip), and where the shipped checkpoints and results are.

Kept apart from :mod:`resnet_core.ablation` (which runs the experiment) so that pages and reports can read
results without the run's machinery.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path

from resnet_core import data as data_mod
from resnet_core.checkpoints import shipped_checkpoints, shipped_path

# ------------------------------------------------------------------------------------------------- config


@dataclass
class AblationConfig:
    depth: int = 56
    residual_checkpoint: str | None = None  # path or shipped name; default: shipped "resnet{depth}"
    plain_checkpoint: str | None = None  # default: shipped "plain{depth}"
    dataset: str = "bundled"  # test images come from this dataset's test split
    test_size: int = 500  # stratified subset of the test split (0 or >= its size: all of it)
    trials: int = 5  # random subsets per k (delete-k) and random swap sets per count (reorder)
    ks: list[int] | None = None  # delete-k values; None: a spread from 1 to all shape-keeping blocks
    swaps: list[int] | None = None  # reorder: numbers of swaps; None: 1, 2, 4, ... up to the block count
    delete_one: bool = True
    delete_k: bool = True
    reorder: bool = True
    seed: int = 0
    batch_size: int = 500
    bn_stats: str = "raw"  # raw: the trained BatchNorm statistics (as Veit et al.); recompute: re-estimated per lesion
    bn_images: int = 1000  # training images used to re-estimate them
    # Numerics of every evaluation. False (default): fp32 with the weights' own (NCHW) layout, so the accuracies
    # are comparable with the manifest's fp32 test accuracies. True: the engine's fast path (bf16 autocast where
    # native, channels-last weights and inputs) - faster, but bf16 rounding can move an accuracy by a few images.
    fast: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> AblationConfig:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def default_ks(pool: int) -> list[int]:
    """1, 2, 3, 4, 6, 8, 12, 16, 20, 24, ... capped at ``pool`` (and always ending at ``pool``)."""
    if pool <= 0:
        return []
    steps = [1, 2, 3, 4, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 54]
    ks = [k for k in steps if k < pool]
    return ks + [pool]


def default_swaps(pool: int) -> list[int]:
    if pool < 2:
        return []
    out, s = [], 1
    while s <= pool:
        out.append(s)
        s *= 2
    return out


# ------------------------------------------------------------------------------------------------- result


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


# ------------------------------------------------------------------------------------------------- models


def resolve_checkpoint(spec: str | None, default_name: str) -> Path:
    """A path to a checkpoint file, or the name of a shipped one (e.g. 'resnet56')."""
    spec = spec or default_name
    p = Path(spec)
    if p.suffix == ".pt" or p.exists():
        if not p.is_file():
            raise FileNotFoundError(f"checkpoint {p} not found")
        return p
    return shipped_path(spec)


def shipped_depths() -> dict[int, dict[str, str]]:
    """{depth: {"residual": "resnet{depth}", "plain": "plain{depth}"}} for the shipped pairs (either may be missing).

    Only the canonical names count: other shipped checkpoints (e.g. a transfer-learning source net) may be
    trained on other classes and are not part of this experiment."""
    out: dict[int, dict[str, str]] = {}
    for name, entry in shipped_checkpoints().items():
        cfg = entry.get("net_config") or {}
        depth, residual = cfg.get("depth"), cfg.get("residual", True)
        if depth is None or name != f"{'resnet' if residual else 'plain'}{depth}":
            continue
        out.setdefault(int(depth), {})["residual" if residual else "plain"] = name
    return dict(sorted(out.items()))


RESULTS_DIR = data_mod.REPO_ROOT / "assets" / "results"


def shipped_result_path(depth: int, bn_stats: str = "raw") -> Path:
    """assets/results/ablation{depth}.json (raw statistics) or ablation{depth}_recompute.json."""
    return RESULTS_DIR / f"ablation{depth}{'' if bn_stats == 'raw' else '_' + bn_stats}.json"
