"""Block ablation (Veit, Wilber & Belongie 2016): delete or reorder blocks of a trained net at test time.

Veit et al. found that deleting a single block from a trained ResNet barely changes its test error, that
error grows smoothly as more blocks are deleted, and that swapping blocks hurts only gradually — while
deleting a single layer of a plain (VGG-style) network is catastrophic. Their reading: a ResNet behaves like an
ensemble of the 2^n paths through its n blocks, most of them of moderate length, rather than one deep chain.

This module runs that lesion study on a residual and a plain network (shipped checkpoints by default):

- **delete one**: accuracy after deleting block i, for every i. A residual block becomes its shortcut
  (downsampling blocks keep their pad/projection and are marked); a plain block becomes the identity where
  its input and output shapes match and is reported with ``acc = None`` where they do not.
- **delete k**: mean ± std accuracy over ``trials`` random subsets of k blocks, drawn from the blocks that
  keep the tensor shape (deletable in both nets, so the two nets lose the same blocks).
- **reorder**: accuracy after ``s`` random swaps of same-shape blocks (same stage, not downsampling).
- **paths**: the binomial distribution of path lengths through n blocks (pure arithmetic).

BatchNorm statistics (``bn_stats``): "raw" evaluates every lesion with the statistics stored at training time,
as Veit et al. did; "recompute" re-estimates them on ``bn_images`` training images for each lesioned net
(:func:`resnet_core.ablation.lesions.recomputed_bn_stats`), which separates "the block is missing" from "the later
layers normalise with statistics of a net that had it". Verdicts live in :mod:`resnet_core.ablation.report`.

``run_ablation(config, device=...)`` is what the CLI (``python -m resnet_core ablation``) and the page call.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from resnet_core.ablation.config import AblationConfig, default_ks, default_swaps
from resnet_core.ablation.lesions import (
    BN_STATS,
    bn_calibration_images,
    delete_one_sweep,
    draw_subsets,
    path_length_distribution,
    random_swaps,
    recomputed_bn_stats,
    shape_keeping_blocks,
    swappable_groups,
)
from resnet_core.ablation.pair import load_pair
from resnet_core.ablation.result import AblationResult, ModelAblation
from resnet_core.data import datasets as data_mod
from resnet_core.experiment import PartialFn
from resnet_core.models import CifarNet, deleted_blocks, swapped_blocks
from resnet_core.provenance import provenance
from resnet_core.training import threads
from resnet_core.training.engine import ProgressEvent, ProgressFn, StopFn, evaluate, fast_path

# ------------------------------------------------------------------------------------------------- the run


def ablation_test_set(config: AblationConfig) -> data_mod.ImageSet:
    test = data_mod.load_dataset(config.dataset).test
    if config.test_size and config.test_size < len(test):
        k = max(1, config.test_size // test.num_classes)
        test = test.subset(data_mod.stratified_kshot(test.labels, k, seed=config.seed))
    return test


def _mean_std(values: list[float]) -> tuple[float, float]:
    if not values:
        return float("nan"), float("nan")
    return statistics.fmean(values), statistics.pstdev(values) if len(values) > 1 else 0.0


# ------------------------------------------------------------------------------------------------- the run


@dataclass
class _Plan:
    """What will be evaluated: the same random subsets and swaps for both nets (differences come from the nets)."""

    ks: list[int]
    subsets: dict[int, list[list[int]]]
    swaps: list[int]
    swap_sets: dict[int, list[list[tuple[int, int]]]]
    total: int


def _plan(config: AblationConfig, pair: dict, any_model: CifarNet) -> _Plan:
    rng = random.Random(config.seed)
    pool = shape_keeping_blocks(any_model)
    ks = [k for k in (config.ks if config.ks is not None else default_ks(len(pool))) if 0 < k <= len(pool)]
    groups = swappable_groups(any_model)
    swaps = [s for s in (config.swaps if config.swaps is not None else default_swaps(len(pool))) if s > 0]
    swaps = swaps if groups else []
    subsets = {k: draw_subsets(pool, k, config.trials, rng) for k in ks}
    swap_sets = {s: [random_swaps(groups, s, rng) for _ in range(config.trials)] for s in swaps}
    n_kinds = len(pair)
    total = n_kinds
    if config.delete_one:
        total += sum(1 for m, _, _ in pair.values() for b in m.blocks if b.removable)
    if config.delete_k:
        total += n_kinds * sum(len(subsets[k]) for k in ks)
    if config.reorder:
        total += n_kinds * len(swaps) * config.trials
    return _Plan(ks, subsets, swaps if config.reorder else [], swap_sets, total)


class _Runner:
    """Evaluates lesioned nets, counts evaluations, reports progress and publishes partial results."""

    def __init__(
        self,
        config: AblationConfig,
        result: AblationResult,
        test_dev: data_mod.ImageSet,
        *,
        device: torch.device,
        total: int,
        stop: StopFn,
        on_progress: ProgressFn | None,
        on_partial: PartialFn | None,
        bn_images: torch.Tensor | None,
    ) -> None:
        self.config, self.result, self.test, self.device, self.total = config, result, test_dev, device, total
        self.stop, self.on_progress, self.on_partial, self.bn_images = stop, on_progress, on_partial, bn_images
        self.t0 = time.perf_counter()

    def evaluate(self, model: CifarNet, kind: str, lesion: tuple[str, int], out: dict | None = None) -> dict:
        """Accuracy of the model as it is now (re-estimating BatchNorm statistics first in "recompute" mode)."""
        if out is None:
            if self.bn_images is not None:
                with recomputed_bn_stats(model, self.bn_images, batch_size=self.config.batch_size):
                    out = self._evaluate(model)
            else:
                out = self._evaluate(model)
        self.result.evaluations += 1
        self.result.seconds = time.perf_counter() - self.t0
        if self.on_progress is not None:
            self.on_progress(
                ProgressEvent(
                    kind="step",
                    step=self.result.evaluations,
                    total_steps=self.total,
                    epoch=0.0,
                    loss=out["loss"],
                    acc=out["acc"],
                    elapsed=self.result.seconds,
                    metrics={"lesion": lesion[0], "n": lesion[1]},  # words: ablation.report.progress_words
                    tag=kind,
                )
            )
        return out

    def _evaluate(self, model: CifarNet) -> dict:
        return evaluate(model, self.test, device=self.device, batch_size=self.config.batch_size, fast=self.config.fast)

    def publish(self) -> None:
        if self.on_partial is not None:
            self.on_partial(AblationResult.from_dict(self.result.to_dict()))  # a copy: the worker keeps appending


def _intact(runner: _Runner, pair: dict, n_classes: int) -> None:
    for kind, (model, source, info) in pair.items():
        if runner.stop():
            return
        base = runner.evaluate(model, kind, ("intact", 0))
        runner.result.models[kind] = ModelAblation(
            kind=kind,
            name=model.config.name,
            source=source,
            depth=model.config.depth,
            baseline_acc=base["acc"],
            baseline_loss=base["loss"],
            chance_acc=1.0 / n_classes,
            blocks=model.block_info(),
            manifest=info,
        )
        runner.publish()


def _delete_one(runner: _Runner, pair: dict) -> None:
    """Delete each block in turn, both nets in step so both curves grow together."""
    models = {kind: pair[kind][0] for kind in pair if kind in runner.result.models}
    if runner.bn_images is None:  # raw statistics: the cached sweep reuses the intact activations before block i
        sweeps = {
            kind: delete_one_sweep(
                m,
                runner.test,
                device=runner.device,
                batch_size=runner.config.batch_size,
                should_stop=runner.stop,
                fast=runner.config.fast,
            )
            for kind, m in models.items()
        }
        if (
            threads.workers(runner.device) > 1
        ):  # the two nets' sweeps compute side by side (resnet_core.training.threads)
            sweeps = {kind: threads.in_background(sweep) for kind, sweep in sweeps.items()}
    n_blocks = len(next(iter(models.values())).blocks) if models else 0
    for i in range(n_blocks):
        for kind, model in models.items():
            if runner.stop():
                return
            block = model.blocks[i]
            row = {
                "block": i,
                "stage": model.block_info()[i]["stage"],
                "downsample": block.downsample,
                "removable": block.removable,
                "acc": None,
                "loss": None,
            }
            if runner.bn_images is None:
                _, out = next(sweeps[kind], (None, None))
                if out is not None:
                    out = runner.evaluate(model, kind, ("delete", i), out)
            elif block.removable:
                with deleted_blocks(model, [i]):
                    out = runner.evaluate(model, kind, ("delete", i))
            else:
                out = None
            if out is not None:
                row["acc"], row["loss"] = out["acc"], out["loss"]
            runner.result.models[kind].delete_one.append(row)
            runner.publish()


def _repeated(runner: _Runner, pair: dict, settings: list, draws: dict, lesion: Callable, key: str, what: str) -> None:
    """For each setting (k, or a swap count) and net: evaluate every drawn lesion and record mean ± std."""
    for setting in settings:
        for kind, (model, _, _) in pair.items():
            if runner.stop() or kind not in runner.result.models:
                continue
            accs = []
            for draw in draws[setting]:
                if runner.stop():
                    break
                with lesion(model, draw):
                    accs.append(runner.evaluate(model, kind, (what, setting))["acc"])
            if accs:
                mean, std = _mean_std(accs)
                row = {key: setting, "mean_acc": mean, "std_acc": std, "accs": accs, "trials": len(accs)}
                if key == "k":
                    row["subsets"] = draws[setting][: len(accs)]
                getattr(runner.result.models[kind], "delete_k" if key == "k" else "reorder").append(row)
                runner.publish()


def run_ablation(
    config: AblationConfig | dict,
    *,
    device: torch.device | str,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    on_partial: PartialFn | None = None,
    models: dict[str, CifarNet] | None = None,
) -> AblationResult:
    """Delete-one, delete-k and reorder sweeps on a residual and a plain net; see the module docstring.

    ``models`` ({"residual": net, "plain": net}, either optional) replaces the checkpoints (the page's own pair).
    ``on_partial`` gets the result so far after every evaluation; a stop returns it with status "cancelled".
    """
    if isinstance(config, dict):
        config = AblationConfig.from_dict(config)
    if config.bn_stats not in BN_STATS:
        raise ValueError(f"bn_stats must be one of {', '.join(BN_STATS)}, not {config.bn_stats!r}")
    device = torch.device(device)
    stop = should_stop or (lambda: False)
    pair = _models_to_ablate(config, device, models)
    any_model = next(iter(pair.values()))[0]
    test = ablation_test_set(config)
    plan = _plan(config, pair, any_model)
    bn_images = None
    if config.bn_stats == "recompute":
        bn_images = bn_calibration_images(config.dataset, config.bn_images, seed=config.seed).to(device)
    prov = provenance(seed=config.seed, device=device, data=f"{config.dataset} test")
    result = AblationResult(
        config=config.to_dict(),
        models={},
        paths=path_length_distribution(len(any_model.blocks)),
        test_size=len(test),
        test_data=f"{config.dataset} test",
        provenance=prov,
        status="running",
    )
    runner = _Runner(
        config,
        result,
        test.to(device),
        device=device,
        total=plan.total,
        stop=stop,
        on_progress=on_progress,
        on_partial=on_partial,
        bn_images=bn_images,
    )

    _intact(runner, pair, test.num_classes)
    if config.delete_one:
        _delete_one(runner, pair)
    if config.delete_k:
        _repeated(runner, pair, plan.ks, plan.subsets, deleted_blocks, "k", "delete_k")
    if config.reorder:
        _repeated(runner, pair, plan.swaps, plan.swap_sets, swapped_blocks, "swaps", "swaps")

    result.seconds = time.perf_counter() - runner.t0
    result.status = "cancelled" if stop() else "done"
    runner.publish()
    return result


def _models_to_ablate(config: AblationConfig, device: torch.device, models: dict | None) -> dict:
    """{kind: (model, source, manifest info)} from the given models or the configured checkpoints; sets depth."""
    if models is not None:
        pair = {kind: (m.to(device).eval(), "trained on the page", {}) for kind, m in models.items() if m is not None}
        if not pair:
            raise ValueError("no models to ablate")
    else:
        pair = load_pair(config, device)
    depths = {m.config.depth for m, _, _ in pair.values()}
    if len(depths) != 1:
        raise ValueError(f"the residual and plain nets must have the same depth (got {sorted(depths)})")
    config.depth = depths.pop()
    # Weights in the layout the evaluations feed them (channels-last on the fast path, else as loaded), so no
    # convolution re-lays out its weights or inputs on every call.
    layout = torch.channels_last if fast_path(device, config.fast).channels_last else torch.contiguous_format
    for model, _, _ in pair.values():
        model.to(memory_format=layout)
    return pair
