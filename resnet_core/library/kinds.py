"""How one library run of each experiment executes, and how per-seed runs merge into one result.

Every function here calls the experiment modules' public functions (``run_gradients``, ``run_degradation``,
``run_ablation``, ``run_transfer``, ``merge_results``) with a configuration dict, exactly as the CLI does, and
returns the JSON payload the CLI's ``--json`` writes. ``execute_run`` is what an executor calls (in this process,
or in a Ray worker): module-level and importable, with plain arguments, so a Ray task can ship it.

``CODE_VERSIONS`` is part of every config hash: bump a kind's number when a change to its code changes its
numbers, so ``library build --resume`` runs it again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

CODE_VERSIONS = {"gradients": 1, "degradation": 1, "ablation": 1, "transfer": 1}

# Config fields added after results were shipped, with the behaviour the code had before them: ablations were
# evaluated with the engine's fast numerics (bf16 autocast + channels-last on this CPU) until ``fast`` appeared
# (default now False: fp32, comparable with the manifest's accuracies); partial fine-tuning trained through the
# frozen layers until ``cache_prefix`` appeared (default now True: the frozen prefix computed once per view);
# gradient norms were measured in fp32 until ``fast`` appeared for them (default now True: the fast numerics).
LEGACY = {"ablation": {"fast": True}, "transfer": {"cache_prefix": False}, "gradients": {"fast": False}}


def _gradients(config: dict, device: torch.device) -> dict:
    from resnet_core.gradients import run_gradients
    from resnet_core.provenance import provenance

    result = run_gradients(config, device=device)
    result.provenance = provenance(
        seed=config["seeds"][0], device=device, data=config["dataset"], seeds=list(config["seeds"])
    )
    return result.to_dict()


def _degradation(config: dict, device: torch.device) -> dict:
    from resnet_core.degradation import run_degradation
    from resnet_core.provenance import provenance

    result = run_degradation(config, device=device)
    result.provenance = provenance(
        seed=config["seeds"][0], device=device, data=config["dataset"], seeds=list(config["seeds"])
    )
    return result.to_dict()


def _ablation(config: dict, device: torch.device) -> dict:
    from resnet_core.ablation import run_ablation

    return run_ablation(config, device=device).to_dict()


def _transfer(config: dict, device: torch.device) -> dict:
    from resnet_core.transfer import contract_dict, run_transfer

    return contract_dict(run_transfer(config, device=device))


def _merged_status(parts: list[dict]) -> str:
    statuses = {p.get("status", "done") for p in parts}
    for bad in ("cancelled", "running", "diverged"):
        if bad in statuses:
            return bad
    return "done"


def _merge_gradients(config: dict, parts: list[dict]) -> dict:
    from resnet_core.gradient_result import GradientResult, GradientRun

    return GradientResult(
        config=dict(config),
        runs=[GradientRun.from_dict(r) for p in parts for r in p["runs"]],
        status=_merged_status(parts),
        seconds=sum(p.get("seconds", 0.0) for p in parts),
    ).to_dict()


def _merge_degradation(config: dict, parts: list[dict]) -> dict:
    from resnet_core.degradation import DegradationResult, merge_results

    return merge_results([DegradationResult.from_dict(p) for p in parts]).to_dict()


def _merge_transfer(config: dict, parts: list[dict]) -> dict:
    from resnet_core.transfer import TransferResult, contract_dict

    merged = [TransferResult.from_dict(p) for p in parts]
    shots, seeds, strategies = config["shots"], config["seeds"], config["strategies"]
    runs = [r for m in merged for r in m.results]
    # the order run_transfer itself uses: label budget, then seed, then strategy
    runs.sort(key=lambda r: (shots.index(r.shots), seeds.index(r.seed), strategies.index(r.strategy)))
    first = merged[0]
    return contract_dict(
        TransferResult(
            config=dict(config),
            results=runs,
            class_names=first.class_names,
            source_info=first.source_info,
            data_info=first.data_info,
            status=_merged_status(parts),
            message=_transfer_message(merged, runs),
            seconds=sum(m.seconds for m in merged),
        )
    )


def _transfer_message(merged: list, runs: list) -> str:
    """run_transfer's own closing message, for the merged runs."""
    if any(m.status != "done" for m in merged):
        return "; ".join(m.message for m in merged if m.message)
    diverged = [f"{r.strategy} (seed {r.seed})" for r in runs if r.status == "diverged"]
    return f"{len(runs)} runs in {sum(m.seconds for m in merged):.1f}s" + (
        f"; diverged: {', '.join(diverged)} (left out of means and verdicts; lower the learning rate)"
        if diverged
        else ""
    )


def _no_checkpoints(config: dict) -> list[str]:
    return []


def _ablation_checkpoints(config: dict) -> list[str]:
    depth = config["depth"]
    return [config.get("residual_checkpoint") or f"resnet{depth}", config.get("plain_checkpoint") or f"plain{depth}"]


def _transfer_checkpoints(config: dict) -> list[str]:
    if config.get("source") != "fashion":
        return []
    from resnet_core.transfer import source_name

    return [config.get("source_checkpoint") or source_name(config.get("split_seed"))]


def _config_class(kind: str) -> Any:
    if kind == "gradients":
        from resnet_core.gradient_result import GradientConfig

        return GradientConfig
    if kind == "degradation":
        from resnet_core.degradation import DegradationConfig

        return DegradationConfig
    if kind == "ablation":
        from resnet_core.ablation_result import AblationConfig

        return AblationConfig
    from resnet_core.transfer import TransferConfig

    return TransferConfig


@dataclass(frozen=True)
class Kind:
    name: str
    run: Callable[[dict, torch.device], dict]
    merge: Callable[[dict, list[dict]], dict] | None  # None: the whole configuration is one run
    checkpoints: Callable[[dict], list[str]]  # shipped checkpoints the result depends on (their sha256 is hashed)

    def normalize(self, config: dict) -> dict:
        """The configuration as the experiment writes it in its result (defaults filled, JSON types). A field the
        result predates takes the value the code had before the field existed (``LEGACY``), not today's default."""
        config = {**LEGACY.get(self.name, {}), **config}
        return json.loads(json.dumps(_config_class(self.name).from_dict(config).to_dict()))


KINDS = {
    "gradients": Kind("gradients", _gradients, _merge_gradients, _no_checkpoints),
    "degradation": Kind("degradation", _degradation, _merge_degradation, _no_checkpoints),
    "ablation": Kind("ablation", _ablation, None, _ablation_checkpoints),
    "transfer": Kind("transfer", _transfer, _merge_transfer, _transfer_checkpoints),
}


def execute_run(kind: str, config: dict, device: str | None = None, threads: int | None = None) -> dict:
    """One run, start to finish, in the calling process: the result payload (JSON types only).

    ``threads`` pins torch's intra-op threads for the run (and restores them after): the shipped results were
    made with one thread per run, and a fixed count keeps float reductions, hence results, identical between
    executors."""
    from resnet_core.devices import pick_device

    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        payload = KINDS[kind].run(dict(config), pick_device(device))
    finally:
        torch.set_num_threads(before)
    return json.loads(json.dumps(payload, default=_json_default))


def _json_default(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.tolist()
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return str(obj)  # paths
