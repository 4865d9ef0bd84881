"""Gradient flow's configuration and result (JSON round trip).

Kept apart from :mod:`resnet_core.gradients` (which measures) so that pages, plots and reports read results
without the measuring machinery, like :mod:`resnet_core.ablation_result`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from resnet_core.engine import HYPERPARAMS
from resnet_core.models import variant_name

DEFAULT_GRADIENT_DEPTHS = [8, 20, 56, 110]


def _finite(x: float | None) -> float | None:
    """JSON has no inf/NaN: a non-finite measurement is stored as None (and shown as 'not finite')."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _finite_list(xs: list[float]) -> list[float | None]:
    return [_finite(x) for x in xs]


@dataclass
class GradientConfig:
    depths: list[int] = field(default_factory=lambda: list(DEFAULT_GRADIENT_DEPTHS))
    variants: list[str] = field(default_factory=lambda: ["plain", "residual"])
    norm: str = "batch"
    activation: str = "relu"
    shortcut: str = "A"
    width: int = 16
    batch_size: int = 64
    seeds: list[int] = field(default_factory=lambda: [0])
    dataset: str = "bundled"
    train_steps: int = 0  # 0 = measure at initialisation; N = after N steps of the default recipe
    lr: float = HYPERPARAMS["lr"]
    # Random vectors per block for the ||dy/dx|| estimate (0 = skip it). One is enough: each probe averages over
    # every element of a block's output (~10^5 numbers), so on seeds 0-4 one probe lands within 1% of three
    # (docs/PERFORMANCE.md); the shipped results used 3 and say so in their configs.
    jacobian_probes: int = 1
    jacobian_batch: int = 16  # images used for the Jacobian estimate (a sub-batch: it costs one backward each)
    # The engine's fast numerics (bf16 autocast where native + channels-last; resnet_core.numerics.fast_path) for
    # the forward/backward pass; norms are summed in float32 either way. About 2x less time on this CPU; the
    # measured ratios agree with fp32 to well within the seed spread (tests, docs/PERFORMANCE.md). Results written
    # before this field existed were measured in fp32 (resnet_core.library.kinds.LEGACY).
    fast: bool = True

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> GradientConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        if "seeds" not in d and "seed" in d:  # files written before multi-seed runs
            known["seeds"] = [int(d["seed"])]
        return cls(**known)


@dataclass
class GradientRun:
    depth: int
    residual: bool
    norm: str
    activation: str
    shortcut: str
    layer_names: list[str]
    layer_grad_norms: list[float | None]  # ||dL/dW|| for every main-path conv (stem, then conv1/conv2 per block)
    block_input_grad_norms: list[float | None]  # ||dL/dx|| at each block's input
    block_jacobian_gain: list[float | None]  # RMS ||J^T v|| / ||v|| over random v: ~1 for an identity map
    first_last_ratio: float | None  # ||dL/dx|| at block 0's input / ||dL/dx|| at the last block's input
    loss: float | None
    seed: int = 0
    layer_relative_grads: list[float | None] = field(default_factory=list)  # ||dL/dW|| / ||W|| per conv
    weight_first_last_ratio: float | None = None  # relative gradient, blocks[0].conv1 / blocks[-1].conv1
    train_steps: int = 0
    seconds: float = 0.0
    parameters: int = 0
    shortcut_grad_norms: list[float | None] = field(default_factory=list)  # option-B projections, if any

    @property
    def name(self) -> str:
        return variant_name(self.residual, self.depth)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> GradientRun:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class GradientResult:
    config: dict
    runs: list[GradientRun]
    status: str = "done"  # done | cancelled
    seconds: float = 0.0
    provenance: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "config": self.config,
            "runs": [r.to_dict() for r in self.runs],
            "status": self.status,
            "seconds": self.seconds,
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, d: dict) -> GradientResult:
        return cls(
            config=dict(d.get("config", {})),
            runs=[GradientRun.from_dict(r) for r in d.get("runs", [])],
            status=d.get("status", "done"),
            seconds=d.get("seconds", 0.0),
            provenance=dict(d.get("provenance", {})),
        )

    def run(self, depth: int, residual: bool, seed: int | None = None) -> GradientRun | None:
        for r in self.runs:
            if r.depth == depth and r.residual == residual and (seed is None or r.seed == seed):
                return r
        return None

    def runs_of(self, depth: int, residual: bool) -> list[GradientRun]:
        """Every seed's run of one (depth, variant)."""
        return [r for r in self.runs if r.depth == depth and r.residual == residual]

    @property
    def seeds(self) -> list[int]:
        return sorted({r.seed for r in self.runs})

    @property
    def complete(self) -> bool:
        """Every configured (seed, depth, variant) was measured: only then may a verdict be drawn."""
        c = GradientConfig.from_dict(self.config)
        return self.status == "done" and len(self.runs) == len(c.seeds) * len(c.depths) * len(c.variants)
