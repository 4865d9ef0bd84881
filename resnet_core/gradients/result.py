"""Gradient flow's result: one run per (seed, depth, variant), JSON round trip, and per-seed parts merged."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from resnet_core.experiment import merged_status
from resnet_core.gradients.config import GradientConfig
from resnet_core.models import variant_name


def _finite(x: float | None) -> float | None:
    """JSON has no inf/NaN: a non-finite measurement is stored as None (and shown as 'not finite')."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _finite_list(xs: list[float]) -> list[float | None]:
    return [_finite(x) for x in xs]


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


def merge(config: dict, parts: list[GradientResult]) -> GradientResult:
    """One result from per-seed runs of ``config`` (the library runs one seed per task)."""
    return GradientResult(
        config=dict(config),
        runs=[r for p in parts for r in p.runs],
        status=merged_status([{"status": p.status} for p in parts]),
        seconds=sum(p.seconds for p in parts),
    )
