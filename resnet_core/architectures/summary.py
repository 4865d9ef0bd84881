"""``python -m resnet_core architectures --json arch.json``: the zoo's figures as JSON (written atomically)."""

from __future__ import annotations

from resnet_core.architectures.designs import block_costs, shortcut_shapes
from resnet_core.architectures.zoo import IMAGENET_INPUT, LAB_INPUT, zoo


def architectures_json(names: list[str] | None = None) -> dict:
    models = []
    for s in zoo(names):
        d = s.to_dict()
        d["convention"] = "macs: multiply-accumulates of conv and linear layers; flops = 2 x macs"
        models.append(d)
    return {
        "input": {"imagenet": list(IMAGENET_INPUT), "lab": list(LAB_INPUT)},
        "models": models,
        "block_costs": block_costs(),
        "shortcut_shapes": shortcut_shapes(20),
    }
