"""Count the networks: every figure from the real modules built on the meta device (see ``zoo``'s conventions)."""

from __future__ import annotations

import torch

from resnet_core.architectures.config import ArchitecturesConfig
from resnet_core.architectures.designs import block_costs, shortcut_shapes
from resnet_core.architectures.result import CONVENTION, ArchitecturesResult
from resnet_core.architectures.zoo import IMAGENET_INPUT, LAB_INPUT, zoo
from resnet_core.experiment import PartialFn, ProgressFn, StopFn
from resnet_core.provenance import provenance


def run_architectures(
    config: ArchitecturesConfig | dict | None = None,
    *,
    device: torch.device | str = "meta",
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    on_partial: PartialFn | None = None,
) -> ArchitecturesResult:
    """The zoo's figures (parameters, MACs, activation memory, depth), block costs and shortcut shapes. Counting
    takes about two seconds and allocates no weights, so ``device`` and the callbacks are accepted and unused."""
    if not isinstance(config, ArchitecturesConfig):
        config = ArchitecturesConfig.from_dict(config or {})
    return ArchitecturesResult(
        config=config.to_dict(),
        input={"imagenet": list(IMAGENET_INPUT), "lab": list(LAB_INPUT)},
        models=[{**s.to_dict(), "convention": CONVENTION} for s in zoo(config.models)],
        block_costs=block_costs(),
        shortcut_shapes=shortcut_shapes(config.shortcut_depth),
        provenance=provenance(seed=None, device="meta", data="none (shapes only)"),
    )
