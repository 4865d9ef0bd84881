"""What the layers see, as results: the recorded maps of one forward pass (in memory) and their summary as JSON."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor


@dataclass
class FeatureMaps:
    names: list[str]
    maps: list[Tensor]  # one [C, H, W] per name (first image of the batch)
    logits: Tensor  # [N, classes]: the model's own output of the same forward pass

    def probabilities(self) -> Tensor:
        return self.logits.softmax(1)


@dataclass
class LayersResult:
    """One image through one network: its prediction and, per stage, the map's shape and a sentence about it."""

    config: dict
    input_shape: list[int]  # C, H, W of what the network got
    stages: list[dict]  # name, shape [C, H, W], zero_fraction, sentence
    top: list[dict]  # the three most probable classes: class, probability
    status: str = "done"
    provenance: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "config": self.config,
            "input_shape": self.input_shape,
            "stages": self.stages,
            "top": self.top,
            "status": self.status,
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, d: dict) -> LayersResult:
        return cls(
            config=dict(d.get("config", {})),
            input_shape=list(d.get("input_shape", [])),
            stages=list(d.get("stages", [])),
            top=list(d.get("top", [])),
            status=d.get("status", "done"),
            provenance=dict(d.get("provenance", {})),
        )
