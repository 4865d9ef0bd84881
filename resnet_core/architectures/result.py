"""The architectures experiment's result: the zoo's figures per network, basic vs bottleneck block costs and the
shortcut A/B shapes, as the JSON ``python -m resnet_core architectures --json`` writes."""

from __future__ import annotations

from dataclasses import dataclass, field

CONVENTION = "macs: multiply-accumulates of conv and linear layers; flops = 2 x macs"


@dataclass
class ArchitecturesResult:
    config: dict
    input: dict  # {"imagenet": [3, 224, 224], "lab": [1, 28, 28]}
    models: list[dict]  # NetStats.to_dict() of each net, with the MAC convention
    block_costs: list[dict]
    shortcut_shapes: list[dict]
    status: str = "done"  # counting cannot be stopped half-way: always done
    provenance: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "config": self.config,
            "input": self.input,
            "models": self.models,
            "block_costs": self.block_costs,
            "shortcut_shapes": self.shortcut_shapes,
            "status": self.status,
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, d: dict) -> ArchitecturesResult:
        return cls(
            config=dict(d.get("config", {})),
            input=dict(d.get("input", {})),
            models=list(d.get("models", [])),
            block_costs=list(d.get("block_costs", [])),
            shortcut_shapes=list(d.get("shortcut_shapes", [])),
            status=d.get("status", "done"),
            provenance=dict(d.get("provenance", {})),
        )
