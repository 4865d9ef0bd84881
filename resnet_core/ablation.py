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

``run_ablation(config, device=...)`` is what the CLI (``python -m resnet_core ablation``) and the page call.
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from resnet_core import data as data_mod
from resnet_core.checkpoints import load_checkpoint, read_manifest, shipped_checkpoints, shipped_path
import torch.nn.functional as F

from resnet_core.engine import BatchPreparer, ProgressEvent, TrainConfig, autocast_for, evaluate, seeded, train
from resnet_core.models import CifarNet, build_cifar_net, deleted_blocks, swapped_blocks
from resnet_core.provenance import provenance, sha256_file

ProgressFn = Callable[[ProgressEvent], None]
StopFn = Callable[[], bool]
PartialFn = Callable[["AblationResult"], None]

KINDS = ("residual", "plain")


# ------------------------------------------------------------------------------------------------- config


@dataclass
class AblationConfig:
    depth: int = 56
    residual_checkpoint: str | None = None  # path or shipped name; default: shipped "resnet{depth}"
    plain_checkpoint: str | None = None  # default: shipped "plain{depth}"
    dataset: str = "bundled"  # test images come from this dataset's test split
    test_size: int = 500  # stratified subset of the test split (0 or >= its size: all of it)
    trials: int = 5  # random subsets per k (delete-k) and random swap sets per count (reorder)
    ks: list[int] | None = None  # delete-k values; None: a spread from 1 to all shape-keeping blocks
    swaps: list[int] | None = None  # reorder: numbers of swaps; None: 1, 2, 4, ... up to the block count
    delete_one: bool = True
    delete_k: bool = True
    reorder: bool = True
    seed: int = 0
    batch_size: int = 500

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> AblationConfig:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def default_ks(pool: int) -> list[int]:
    """1, 2, 3, 4, 6, 8, 12, 16, 20, 24, ... capped at ``pool`` (and always ending at ``pool``)."""
    if pool <= 0:
        return []
    steps = [1, 2, 3, 4, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 54]
    ks = [k for k in steps if k < pool]
    return ks + [pool]


def default_swaps(pool: int) -> list[int]:
    if pool < 2:
        return []
    out, s = [], 1
    while s <= pool:
        out.append(s)
        s *= 2
    return out


def path_length_distribution(n: int) -> dict:
    """n blocks, each either taken or skipped: C(n, k) of the 2^n paths go through exactly k blocks."""
    counts = [math.comb(n, k) for k in range(n + 1)]
    total = 2**n
    fractions = [c / total for c in counts]
    # The central range holding >= 95% of the paths (k from lo to hi).
    lo, hi, mass = n // 2, n // 2, fractions[n // 2]
    while mass < 0.95 and (lo > 0 or hi < n):
        left = fractions[lo - 1] if lo > 0 else -1.0
        right = fractions[hi + 1] if hi < n else -1.0
        if left >= right:
            lo -= 1
            mass += left
        else:
            hi += 1
            mass += right
    return {
        "n_blocks": n,
        "n_paths": total,
        "lengths": list(range(n + 1)),
        "counts": counts,
        "fractions": fractions,
        "mean_length": n / 2,
        "std_length": math.sqrt(n) / 2,
        "central95": [lo, hi],
        "central95_mass": mass,
    }


# ------------------------------------------------------------------------------------------------- result


@dataclass
class ModelAblation:
    kind: str  # residual | plain
    name: str
    source: str  # checkpoint path or "trained on the page"
    depth: int
    baseline_acc: float
    baseline_loss: float
    chance_acc: float
    blocks: list[dict]  # block_info(): block, stage, downsample, removable
    delete_one: list[dict] = field(default_factory=list)  # block, stage, downsample, removable, acc, loss
    delete_k: list[dict] = field(default_factory=list)  # k, mean_acc, std_acc, accs, trials
    reorder: list[dict] = field(default_factory=list)  # swaps, mean_acc, std_acc, accs, trials
    manifest: dict = field(default_factory=dict)  # test_acc / bundled_test_acc / sha256 when shipped

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelAblation:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


@dataclass
class AblationResult:
    config: dict
    models: dict[str, ModelAblation]
    paths: dict
    test_size: int
    test_data: str
    status: str = "done"  # done | cancelled
    seconds: float = 0.0
    evaluations: int = 0
    provenance: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "config": self.config,
            "models": {k: m.to_dict() for k, m in self.models.items()},
            "paths": self.paths,
            "test_size": self.test_size,
            "test_data": self.test_data,
            "status": self.status,
            "seconds": self.seconds,
            "evaluations": self.evaluations,
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, d: dict) -> AblationResult:
        return cls(
            config=d["config"],
            models={k: ModelAblation.from_dict(m) for k, m in d["models"].items()},
            paths=d.get("paths", {}),
            test_size=d.get("test_size", 0),
            test_data=d.get("test_data", ""),
            status=d.get("status", "done"),
            seconds=d.get("seconds", 0.0),
            evaluations=d.get("evaluations", 0),
            provenance=d.get("provenance", {}),
        )

    def summary(self) -> dict:
        """Compact numbers per model: intact, delete-one (min / median / max over removable blocks), delete-k."""
        out = {}
        for kind, m in self.models.items():
            accs = [r["acc"] for r in m.delete_one if r["acc"] is not None]
            plain_blocks = [r["acc"] for r in m.delete_one if r["acc"] is not None and not r["downsample"]]
            out[kind] = {
                "name": m.name,
                "baseline_acc": m.baseline_acc,
                "delete_one_min": min(accs) if accs else None,
                "delete_one_median": statistics.median(accs) if accs else None,
                "delete_one_max": max(accs) if accs else None,
                "delete_one_median_non_downsampling": statistics.median(plain_blocks) if plain_blocks else None,
                "not_removable": [r["block"] for r in m.delete_one if r["acc"] is None],
                "delete_k": [(r["k"], r["mean_acc"], r["std_acc"]) for r in m.delete_k],
                "reorder": [(r["swaps"], r["mean_acc"], r["std_acc"]) for r in m.reorder],
            }
        return out


# ------------------------------------------------------------------------------------------------- models


def resolve_checkpoint(spec: str | None, default_name: str) -> Path:
    """A path to a checkpoint file, or the name of a shipped one (e.g. 'resnet56')."""
    spec = spec or default_name
    p = Path(spec)
    if p.suffix == ".pt" or p.exists():
        if not p.is_file():
            raise FileNotFoundError(f"checkpoint {p} not found")
        return p
    return shipped_path(spec)


def shipped_depths() -> dict[int, dict[str, str]]:
    """{depth: {"residual": "resnet{depth}", "plain": "plain{depth}"}} for the shipped pairs (either may be missing).

    Only the canonical names count: other shipped checkpoints (e.g. a transfer-learning source net) may be
    trained on other classes and are not part of this experiment."""
    out: dict[int, dict[str, str]] = {}
    for name, entry in shipped_checkpoints().items():
        cfg = entry.get("net_config") or {}
        depth, residual = cfg.get("depth"), cfg.get("residual", True)
        if depth is None or name != f"{'resnet' if residual else 'plain'}{depth}":
            continue
        out.setdefault(int(depth), {})["residual" if residual else "plain"] = name
    return dict(sorted(out.items()))


def load_pair(config: AblationConfig, device: torch.device) -> dict[str, tuple[CifarNet, str, dict]]:
    """{kind: (model, source, manifest entry)} for the checkpoints the config names."""
    manifest = read_manifest().get("checkpoints", {})
    pair = {}
    for kind, spec in (("residual", config.residual_checkpoint), ("plain", config.plain_checkpoint)):
        default = f"{'resnet' if kind == 'residual' else 'plain'}{config.depth}"
        path = resolve_checkpoint(spec, default)
        model, meta = load_checkpoint(path, device=device)
        if model.config.residual != (kind == "residual"):
            raise ValueError(f"{path.name} is a {'residual' if model.config.residual else 'plain'} net, "
                             f"expected a {kind} one")  # fmt: skip
        entry = manifest.get(path.stem, {}) if path.parent.resolve() == shipped_path_dir() else {}
        info = {k: entry.get(k) for k in ("test_acc", "bundled_test_acc", "test_data", "sha256", "command", "date")
                if k in entry}  # fmt: skip
        if entry:
            info["sha256_matches"] = sha256_file(path) == entry.get("sha256")
        pair[kind] = (model, str(path), info)
    return pair


def shipped_path_dir() -> Path:
    from resnet_core.checkpoints import CHECKPOINT_DIR

    return CHECKPOINT_DIR.resolve()


def train_pair(
    depth: int = 14,
    *,
    device: torch.device,
    epochs: int = 2,
    train_size: int = 2000,
    seed: int = 0,
    dataset: str = "bundled",
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> dict[str, CifarNet]:
    """Train a small residual and plain pair (same seed, same data) to ablate; for the page's own-pair job.

    Returns whichever models finished (a stop during the second leaves only the first)."""
    splits = data_mod.load_dataset(dataset)
    train_set = splits.train
    if train_size and train_size < len(train_set):
        k = max(1, train_size // train_set.num_classes)
        train_set = train_set.subset(data_mod.stratified_kshot(train_set.labels, k, seed=seed))
    out = {}
    for kind in KINDS:
        if should_stop is not None and should_stop():
            break
        model = seeded(lambda kind=kind: build_cifar_net(depth, residual=kind == "residual",
                                                         in_channels=train_set.channels,
                                                         num_classes=train_set.num_classes), seed)  # fmt: skip
        result = train(model, train_set, TrainConfig(epochs=epochs, seed=seed), device=device,
                       on_progress=on_progress, should_stop=should_stop, tag=kind)  # fmt: skip
        if result.status != "done":
            break
        out[kind] = model.eval()
    return out


# ------------------------------------------------------------------------------------------------- the run


def ablation_test_set(config: AblationConfig) -> data_mod.ImageSet:
    test = data_mod.load_dataset(config.dataset).test
    if config.test_size and config.test_size < len(test):
        k = max(1, config.test_size // test.num_classes)
        test = test.subset(data_mod.stratified_kshot(test.labels, k, seed=config.seed))
    return test


def shape_keeping_blocks(model: CifarNet) -> list[int]:
    """Blocks whose input and output shapes match: deletable in residual and plain nets alike."""
    return [i for i, b in enumerate(model.blocks) if not b.downsample]


def swappable_groups(model: CifarNet) -> list[list[int]]:
    """Same-shape blocks, grouped by stage (a swap exchanges two blocks of one group)."""
    groups: dict[int, list[int]] = {}
    for row in model.block_info():
        if not row["downsample"]:
            groups.setdefault(row["stage"], []).append(row["block"])
    return [g for g in groups.values() if len(g) >= 2]


def random_swaps(groups: list[list[int]], count: int, rng: random.Random) -> list[tuple[int, int]]:
    """``count`` random swaps, each of two distinct blocks of one stage (stage chosen ∝ its pair count)."""
    weights = [len(g) * (len(g) - 1) for g in groups]
    pairs = []
    for _ in range(count):
        g = rng.choices(groups, weights=weights)[0]
        i, j = rng.sample(g, 2)
        pairs.append((i, j))
    return pairs


def delete_one_sweep(
    model: CifarNet,
    test: data_mod.ImageSet,
    *,
    device: torch.device,
    batch_size: int = 500,
    should_stop: StopFn | None = None,
) -> Iterator[tuple[int, dict | None]]:
    """Yield (block, {"loss", "acc"} or None if not removable) for every block, deleting one at a time.

    Same numbers as ``evaluate`` under ``deleted_blocks(model, [i])``, at about half the cost: the intact
    activations entering block i are kept (one tensor per batch, advanced block by block), so deleting block i
    only recomputes blocks i+1..n instead of the whole net."""
    model.eval()
    images, labels = test.images.to(device), test.labels.to(device)
    prep = BatchPreparer(images, device=device, fast=True)
    n = max(1, len(test))
    starts = range(0, len(test), batch_size)
    ys = [labels[s : s + batch_size] for s in starts]
    # Grad mode and autocast are entered around each computation, never across a ``yield``: a generator that
    # yields inside them would leave them switched on in the caller.
    with torch.no_grad(), autocast_for(device, True):
        xs = [model.stem(prep(images[s : s + batch_size])) for s in starts]
    for i, block in enumerate(model.blocks):
        if should_stop is not None and should_stop():
            return
        if not block.removable:
            yield i, None
        else:
            loss = torch.zeros((), device=device)
            correct = torch.zeros((), device=device, dtype=torch.long)
            with torch.no_grad(), autocast_for(device, True), deleted_blocks(model, [i]):
                for x, y in zip(xs, ys):
                    h = x
                    for b in model.blocks[i:]:
                        h = b(h)
                    logits = model.fc(torch.flatten(model.pool(h), 1)).float()
                    loss += F.cross_entropy(logits, y, reduction="sum")
                    correct += (logits.argmax(1) == y).sum()
            yield i, {"loss": loss.item() / n, "acc": correct.item() / n}
        if i + 1 < len(model.blocks):
            with torch.no_grad(), autocast_for(device, True):
                xs = [block(x) for x in xs]


def draw_subsets(pool: list[int], k: int, trials: int, rng: random.Random) -> list[list[int]]:
    """``trials`` random k-subsets of ``pool``; all of them (each once) when there are no more than ``trials``."""
    if math.comb(len(pool), k) <= trials:
        return [list(c) for c in itertools.combinations(pool, k)]
    return [sorted(rng.sample(pool, k)) for _ in range(trials)]


def _mean_std(values: list[float]) -> tuple[float, float]:
    if not values:
        return float("nan"), float("nan")
    return statistics.fmean(values), statistics.pstdev(values) if len(values) > 1 else 0.0


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
    device = torch.device(device)
    t0 = time.perf_counter()
    stop = should_stop or (lambda: False)

    if models is not None:
        pair = {kind: (m.to(device).eval(), "trained on the page", {}) for kind, m in models.items() if m is not None}
        if not pair:
            raise ValueError("no models to ablate")
        config.depth = next(iter(pair.values()))[0].config.depth
    else:
        pair = load_pair(config, device)
    depths = {m.config.depth for m, _, _ in pair.values()}
    if len(depths) != 1:
        raise ValueError(f"the residual and plain nets must have the same depth (got {sorted(depths)})")
    config.depth = depths.pop()

    test = ablation_test_set(config)
    test_dev = test.to(device)
    n_classes = test.num_classes
    rng_master = random.Random(config.seed)

    # Plan the work so progress can say "evaluation i of N" and both nets' curves grow together.
    any_model = next(iter(pair.values()))[0]
    n_blocks = len(any_model.blocks)
    pool = shape_keeping_blocks(any_model)
    ks = [k for k in (config.ks if config.ks is not None else default_ks(len(pool))) if 0 < k <= len(pool)]
    groups = swappable_groups(any_model)
    swaps = [s for s in (config.swaps if config.swaps is not None else default_swaps(len(pool))) if s > 0]
    if not groups:
        swaps = []
    # The same random subsets / swaps for both nets: differences come from the nets, not the draw.
    subsets = {k: draw_subsets(pool, k, config.trials, rng_master) for k in ks}
    swap_sets = {s: [random_swaps(groups, s, rng_master) for _ in range(config.trials)] for s in swaps}

    n_kinds = len(pair)
    total = n_kinds  # baselines
    if config.delete_one:
        total += sum(1 for m, _, _ in pair.values() for b in m.blocks if b.removable)
    if config.delete_k:
        total += n_kinds * sum(len(subsets[k]) for k in ks)
    if config.reorder:
        total += n_kinds * len(swaps) * config.trials

    prov = provenance(seed=config.seed, device=device, data=f"{config.dataset} test")
    result = AblationResult(config=config.to_dict(), models={}, paths=path_length_distribution(n_blocks),
                            test_size=len(test), test_data=f"{config.dataset} test", provenance=prov)  # fmt: skip
    done = 0

    def evaluate_now(model: CifarNet, kind: str, what: str, out: dict | None = None) -> dict:
        nonlocal done
        if out is None:
            out = evaluate(model, test_dev, device=device, batch_size=config.batch_size)
        done += 1
        result.evaluations = done
        result.seconds = time.perf_counter() - t0
        if on_progress is not None:
            on_progress(ProgressEvent(kind="step", step=done, total_steps=total, epoch=0.0, loss=out["loss"],
                                      acc=out["acc"], elapsed=result.seconds, metrics={"what": what}, tag=kind))  # fmt: skip
        return out

    def publish() -> None:
        if on_partial is not None:
            on_partial(AblationResult.from_dict(result.to_dict()))  # a copy: the worker keeps appending

    # 1. Intact accuracy.
    for kind, (model, source, info) in pair.items():
        if stop():
            break
        base = evaluate_now(model, kind, "intact")
        result.models[kind] = ModelAblation(kind=kind, name=model.config.name, source=source, depth=model.config.depth,
                                            baseline_acc=base["acc"], baseline_loss=base["loss"],
                                            chance_acc=1.0 / n_classes, blocks=model.block_info(),
                                            manifest=info)  # fmt: skip
        publish()

    # 2. Delete one block at a time (both nets in step, block by block, so both curves grow together).
    if config.delete_one:
        sweeps = {kind: delete_one_sweep(model, test_dev, device=device, batch_size=config.batch_size,
                                         should_stop=stop)
                  for kind, (model, _, _) in pair.items() if kind in result.models}  # fmt: skip
        for i in range(n_blocks):
            for kind, sweep in sweeps.items():
                if stop():
                    break
                model = pair[kind][0]
                block_i, out = next(sweep, (None, None))
                if block_i is None:
                    continue
                block = model.blocks[block_i]
                row = {"block": block_i, "stage": model.block_info()[block_i]["stage"], "downsample": block.downsample,
                       "removable": block.removable, "acc": None, "loss": None}  # fmt: skip
                if out is not None:
                    evaluate_now(model, kind, f"delete block {block_i}", out)
                    row["acc"], row["loss"] = out["acc"], out["loss"]
                result.models[kind].delete_one.append(row)
                publish()
        for sweep in sweeps.values():
            sweep.close()

    # 3. Delete k random shape-keeping blocks.
    if config.delete_k:
        for k in ks:
            for kind, (model, _, _) in pair.items():
                if stop() or kind not in result.models:
                    continue
                accs = []
                for subset in subsets[k]:
                    if stop():
                        break
                    with deleted_blocks(model, subset):
                        accs.append(evaluate_now(model, kind, f"delete {k} blocks")["acc"])
                if accs:
                    mean, std = _mean_std(accs)
                    result.models[kind].delete_k.append({"k": k, "mean_acc": mean, "std_acc": std, "accs": accs,
                                                         "trials": len(accs), "subsets": subsets[k][: len(accs)]})  # fmt: skip
                    publish()

    # 4. Reorder: random swaps of same-shape blocks.
    if config.reorder:
        for s in swaps:
            for kind, (model, _, _) in pair.items():
                if stop() or kind not in result.models:
                    continue
                accs = []
                for pairs in swap_sets[s]:
                    if stop():
                        break
                    with swapped_blocks(model, pairs):
                        accs.append(evaluate_now(model, kind, f"{s} swaps")["acc"])
                if accs:
                    mean, std = _mean_std(accs)
                    result.models[kind].reorder.append({"swaps": s, "mean_acc": mean, "std_acc": std, "accs": accs,
                                                        "trials": len(accs)})  # fmt: skip
                    publish()

    result.seconds = time.perf_counter() - t0
    result.status = "cancelled" if stop() else "done"
    publish()
    return result


# ------------------------------------------------------------------------------------------------- CLI


def _int_list(text: str) -> list[int]:
    return [int(x) for x in text.replace(",", " ").split() if x]


def register_cli(subparsers: Any) -> None:
    from resnet_core.commands.common import add_common

    p = subparsers.add_parser("ablation", help="delete / reorder blocks of trained residual and plain nets "
                                               "(Veit et al. 2016)")  # fmt: skip
    add_common(p)
    p.add_argument("--depth", type=int, default=56, help="uses the shipped resnet{depth}.pt and plain{depth}.pt")
    p.add_argument("--residual", default=None, help="residual checkpoint (path or shipped name) instead")
    p.add_argument("--plain", default=None, help="plain checkpoint (path or shipped name) instead")
    p.add_argument("--dataset", choices=sorted(data_mod.DATASETS), default="bundled", help="test images from here")
    p.add_argument("--test-size", type=int, default=1000, help="stratified test subset (0: all)")
    p.add_argument("--trials", type=int, default=5, help="random subsets per k / swap sets per count")
    p.add_argument("--ks", type=_int_list, default=None, help="delete-k values, e.g. '1,2,4,8'")
    p.add_argument("--swaps", type=_int_list, default=None, help="reorder: swap counts, e.g. '1,2,4'")
    p.add_argument("--no-reorder", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, default=None, help="write the result here")
    p.set_defaults(func=cmd_ablation)


def cmd_ablation(args: Any) -> int:
    from resnet_core.devices import pick_device
    from resnet_core.provenance import write_json

    device = pick_device(args.device)
    config = AblationConfig(depth=args.depth, residual_checkpoint=args.residual, plain_checkpoint=args.plain,
                            dataset=args.dataset, test_size=args.test_size, trials=args.trials, ks=args.ks,
                            swaps=args.swaps, reorder=not args.no_reorder, seed=args.seed)  # fmt: skip

    last = [0.0]

    def progress(e: ProgressEvent) -> None:
        if e.elapsed - last[0] >= 5 or e.step == e.total_steps:
            last[0] = e.elapsed
            print(f"  [{e.step}/{e.total_steps}] {e.tag} {e.metrics.get('what', '')}: acc {e.acc:.4f} "
                  f"({e.elapsed:.0f}s)", flush=True)  # fmt: skip

    result = run_ablation(config, device=device, on_progress=progress)
    print(f"ablation on {result.test_size} {result.test_data} images, {result.evaluations} evaluations, "
          f"{result.seconds:.1f}s")  # fmt: skip
    for kind, s in result.summary().items():
        print(f"{s['name']}: intact {s['baseline_acc']:.4f}; delete one block: min {_f(s['delete_one_min'])}, "
              f"median {_f(s['delete_one_median'])}, max {_f(s['delete_one_max'])}"
              + (f"; not removable: {s['not_removable']}" if s["not_removable"] else ""))  # fmt: skip
        if s["delete_k"]:
            print("   delete k: " + ", ".join(f"k={k} {m:.3f}±{sd:.3f}" for k, m, sd in s["delete_k"]))
        if s["reorder"]:
            print("   swaps:    " + ", ".join(f"{n} {m:.3f}±{sd:.3f}" for n, m, sd in s["reorder"]))
    if args.json:
        write_json(args.json, result.to_dict())
        print(f"wrote {args.json}")
    return 0


def _f(x: float | None) -> str:
    return "—" if x is None else f"{x:.4f}"
