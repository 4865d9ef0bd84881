"""Multiply-accumulates counted on a model's own convolutions and linear layers, by forward hooks on those
modules only.

``torch.utils.flop_counter.FlopCounterMode`` counts the same operations here (these nets' MACs are all in
convolutions and linear layers), but its module tracker installs *process-wide* hooks while it counts: in a
server where other threads train or take gradients at that moment, their backward passes run into its hooks and
fail. Hooks registered on the counted model touch nothing else. Works on meta tensors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import nn


@dataclass
class MacCount:
    per_module: dict[str, int] = field(default_factory=dict)  # qualified name -> MACs (convs and linears only)

    @property
    def total(self) -> int:
        return sum(self.per_module.values())


def _module_macs(module: nn.Module, output: torch.Tensor) -> int:
    if isinstance(module, nn.Conv2d):
        per_output = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
        return output.numel() * per_output
    return output.numel() * module.in_features  # nn.Linear: each output is a dot product of in_features


@contextmanager
def count_macs(model: nn.Module) -> Iterator[MacCount]:
    """Count the MACs of the forward passes run inside the block (on ``model``'s own modules only)."""
    counted = MacCount()

    def hook(name: str):
        def record(module: nn.Module, _inputs, output: torch.Tensor) -> None:
            counted.per_module[name] = counted.per_module.get(name, 0) + _module_macs(module, output)

        return record

    handles = [
        m.register_forward_hook(hook(name))
        for name, m in model.named_modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    ]
    try:
        yield counted
    finally:
        for h in handles:
            h.remove()
