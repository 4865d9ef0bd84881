"""Every experiment by kind: the one table the CLI, the results library, the pages' jobs and the executors read.

Each entry names a package that declares ``EXPERIMENT`` (:class:`resnet_core.experiment.Experiment`). Packages are
imported on first use, so a page or a Ray worker loads only the experiments it runs. A fifth experiment is one
package with the same parts as the others and one line here.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from resnet_core.experiment import Experiment

PACKAGES = {
    "gradients": "resnet_core.gradients",
    "degradation": "resnet_core.degradation",
    "ablation": "resnet_core.ablation",
    "transfer": "resnet_core.transfer",
    "architectures": "resnet_core.architectures",
    "layers": "resnet_core.layers",
}


def kinds() -> list[str]:
    return list(PACKAGES)


def get(kind: str) -> Experiment:
    if kind not in PACKAGES:
        raise ValueError(f"unknown experiment {kind!r}; choose from {', '.join(PACKAGES)}")
    return importlib.import_module(PACKAGES[kind]).EXPERIMENT


def register_commands(subparsers: Any) -> None:
    """Every experiment's subcommands, in the order of :data:`PACKAGES`."""
    for kind in PACKAGES:
        get(kind).register(subparsers)


def execute_run(kind: str, config: dict, device: str | None = None, threads: int | None = None) -> dict:
    """One run of ``(kind, config)``, start to finish, in the calling process: its payload (JSON types only).

    What every executor calls (here, or in a Ray worker: module-level and importable, plain arguments).
    ``threads`` pins torch's intra-op threads for the run (and restores them after): the shipped results were
    made with one thread per run, and a fixed count keeps float reductions, hence results, identical between
    executors."""
    import torch

    from resnet_core.training.devices import pick_device

    experiment = get(kind)
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        result = experiment.run(experiment.config(config), device=pick_device(device))
        payload = experiment.payload(result)
    finally:
        torch.set_num_threads(before)
    return jsonable(payload)


def jsonable(payload: dict) -> dict:
    """A result's payload as plain JSON values (what crosses a process or a cluster, and what the store keeps)."""
    return json.loads(json.dumps(payload, default=_json_default))


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):  # tensors, arrays
        return obj.tolist()
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return str(obj)  # paths
