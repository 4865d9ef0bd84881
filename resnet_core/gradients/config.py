"""Gradient flow's configuration: which nets are measured, on which images, with which numerics."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from resnet_core.training.engine import HYPERPARAMS

DEFAULT_GRADIENT_DEPTHS = [8, 20, 56, 110]


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
    # The engine's fast numerics (bf16 autocast where native + channels-last; resnet_core.training.numerics.fast_path) for
    # the forward/backward pass; norms are summed in float32 either way. About 2x less time on this CPU; the
    # measured ratios agree with fp32 to well within the seed spread (tests, docs/PERFORMANCE.md). Results written
    # before this field existed were measured in fp32 (the ``legacy`` of resnet_core.gradients.EXPERIMENT).
    fast: bool = True

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> GradientConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        if "seeds" not in d and "seed" in d:  # files written before multi-seed runs
            known["seeds"] = [int(d["seed"])]
        return cls(**known)
