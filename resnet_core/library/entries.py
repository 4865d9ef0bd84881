"""The catalogue: every shipped result in ``assets/results`` declared once, as a named entry.

An entry names its output file, the experiment kind (see :mod:`resnet_core.registry`), the configuration that makes it (only what
differs from the experiment's defaults; the rest is filled in), a budget in words and the stand-alone CLI command
that makes the same result. Entries whose kind merges per-seed runs (gradients, degradation, transfer) are built
as one independent run per seed, then merged; an ablation is one run.

The config hash of a run or an entry is the sha256 of the canonical JSON of its kind, full configuration, the
experiment's code version (``Experiment.code_version``) and the sha256 of every shipped checkpoint it reads (from the
checkpoint manifest): change any of them and ``library build --resume`` runs it again.

The library builds results, not checkpoints: the checkpoints in ``assets/checkpoints`` take hours of CPU each,
are made by ``train`` / ``pretrain-source`` (commands in the manifest) and enter the results' hashes instead.
The ``bench_cpu*.json`` files are measurements of one machine, not results to rebuild, and are not entries.

``SMOKE`` is a catalogue of the same kinds at tiny budgets (seconds each): the library's tests, and a check that
a Ray cluster works (``library build --catalog smoke --library-dir /tmp/smoke --executor ray``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from resnet_core import registry


@dataclass(frozen=True)
class Run:
    """One independent unit of work: an entry's whole configuration, or one seed of it."""

    entry: str
    key: str  # "all" or "seed<N>"
    kind: str
    config: dict = field(hash=False)
    config_hash: str

    @property
    def label(self) -> str:
        return self.entry if self.key == "all" else f"{self.entry}/{self.key}"


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str
    file: str  # relative to the library folder
    overrides: dict = field(hash=False)
    budget: str
    command: str  # the stand-alone CLI command that makes the same result

    @cached_property
    def config(self) -> dict:
        return registry.get(self.kind).normalize(self.overrides)

    def _hash(self, config: dict) -> str:
        return registry.get(self.kind).config_hash(config)

    @cached_property
    def config_hash(self) -> str:
        return self._hash(self.config)

    @property
    def split_by_seed(self) -> bool:
        return registry.get(self.kind).merges_seeds and len(self.config.get("seeds", [])) > 1

    def runs(self) -> list[Run]:
        if not self.split_by_seed:
            return [Run(self.name, "all", self.kind, self.config, self.config_hash)]
        out = []
        for seed in self.config["seeds"]:
            part = {**self.config, "seeds": [seed]}
            out.append(Run(self.name, f"seed{seed}", self.kind, part, self._hash(part)))
        return out


def _e(name: str, kind: str, budget: str, command: str, **overrides: object) -> Entry:
    return Entry(name, kind, f"{name}.json", dict(overrides), budget, command)


_ALL6 = ["scratch", "feature_extraction", "partial_finetune", "full_finetune", "staged", "feature_extraction_bn_train"]
_CLI = "python -m resnet_core"
_T20 = f"{_CLI} transfer --device cpu --shots 20 --seeds 0,1,2,3,4"

SHIPPED: tuple[Entry, ...] = (
    _e(
        "degradation",
        "degradation",
        "depths 20, 56, plain + residual; 20 epochs on 4,000 bundled images, test 1,000; seeds 0, 1, 2",
        f"{_CLI} degradation --device cpu --depths 20,56 --epochs 20 --train-size 4000 --test-size 1000 "
        "--seeds N (N = 0, 1, 2), then degradation --merge",
        depths=[20, 56],
        train_size=4000,
        test_size=1000,
        epochs=20,
        seeds=[0, 1, 2],
    ),
    *(
        _e(
            f"gradients_{norm}",
            "gradients",
            f"depths 8, 20, 56, 110, plain + residual, norm {norm}, at initialisation; batch 64; seeds 0-4",
            f"{_CLI} gradients --device cpu --depths 8,20,56,110 --norm {norm} --seeds 0,1,2,3,4 --probes 3 --fp32",
            depths=[8, 20, 56, 110],
            norm=norm,
            seeds=[0, 1, 2, 3, 4],
            jacobian_probes=3,  # the shipped references: float32, three probes (the defaults before issue 13)
            fast=False,
        )
        for norm in ("batch", "none")
    ),
    _e(
        "ablation56",
        "ablation",
        "ResNet-56 / plain-56, raw BN statistics; 3,000 test images; delete-k 1..25 and 1/4/16 swaps, 10 trials",
        f"{_CLI} ablation --device cpu --depth 56 --bn raw --test-size 3000 --trials 10 --ks 1,2,4,8,16,25 "
        "--swaps 1,4,16",
        depth=56,
        test_size=3000,
        trials=10,
        fast=True,  # as shipped: evaluated with the fast numerics (the experiment's legacy value)
        ks=[1, 2, 4, 8, 16, 25],
        swaps=[1, 4, 16],
    ),
    _e(
        "ablation56_recompute",
        "ablation",
        "ResNet-56 / plain-56, BN statistics recomputed per lesion; 3,000 test images; delete-k 1..25, 10 trials",
        f"{_CLI} ablation --device cpu --depth 56 --bn recompute --test-size 3000 --trials 10 --ks 1,2,4,8,16,25 "
        "--no-reorder",
        depth=56,
        bn_stats="recompute",
        test_size=3000,
        trials=10,
        fast=True,  # as shipped: evaluated with the fast numerics (the experiment's legacy value)
        ks=[1, 2, 4, 8, 16, 25],
        reorder=False,
    ),
    _e(
        "ablation20_raw",
        "ablation",
        "ResNet-20 / plain-20, raw BN statistics; 3,000 test images; delete-k and 1/2/4 swaps, 10 trials",
        f"{_CLI} ablation --device cpu --depth 20 --bn raw --test-size 3000 --trials 10 --swaps 1,2,4",
        depth=20,
        test_size=3000,
        trials=10,
        fast=True,  # as shipped: evaluated with the fast numerics (the experiment's legacy value)
        swaps=[1, 2, 4],
    ),
    _e(
        "ablation20_recompute",
        "ablation",
        "ResNet-20 / plain-20, BN statistics recomputed per lesion; 3,000 test images; delete-k, 10 trials",
        f"{_CLI} ablation --device cpu --depth 20 --bn recompute --test-size 3000 --trials 10 --no-reorder",
        depth=20,
        bn_stats="recompute",
        test_size=3000,
        trials=10,
        fast=True,  # as shipped: evaluated with the fast numerics (the experiment's legacy value)
        reorder=False,
    ),
    *(
        _e(
            f"transfer_k20_{'default' if split is None else f'split{split}'}",
            "transfer",
            f"6 strategies, k=20, 12 epochs, {'default split' if split is None else f'split seed {split}'}; seeds 0-4",
            f"{_T20}{'' if split is None else f' --split-seed {split}'} --strategies {','.join(_ALL6)}",
            split_seed=split,
            shots=[20],
            strategies=_ALL6,
            seeds=[0, 1, 2, 3, 4],
            cache_prefix=False,  # as shipped (the experiment's legacy value)
        )
        for split in (None, 1, 2)
    ),
    _e(
        "transfer_k20_default_noaug",
        "transfer",
        "5 strategies, k=20, 12 epochs, augmentation off for all; default split; seeds 0-4",
        f"{_T20} --no-augment",
        shots=[20],
        seeds=[0, 1, 2, 3, 4],
        augment=False,
        cache_prefix=False,
    ),
    _e(
        "transfer_k20_default_clean_features",
        "transfer",
        "feature extraction + staged on clean cached features, k=20, 12 epochs; default split; seeds 0-4",
        f"{_T20} --strategies feature_extraction,staged --feature-views 0",
        shots=[20],
        strategies=["feature_extraction", "staged"],
        seeds=[0, 1, 2, 3, 4],
        feature_views=0,
        cache_prefix=False,
    ),
    _e(
        "transfer_sweep",
        "transfer",
        "5 strategies at k = 5, 20, 100, 12 epochs, 25 validation images per class; default split; seeds 0-2",
        f"{_CLI} transfer --device cpu --shots 5,20,100 --seeds 0,1,2 --epochs 12 --val-per-class 25",
        shots=[5, 20, 100],
        seeds=[0, 1, 2],
        epochs=12,
        val_per_class=25,
        cache_prefix=False,
    ),
)

SMOKE: tuple[Entry, ...] = (
    _e(
        "smoke_gradients",
        "gradients",
        "depth 8, batch 16, 1 probe; seeds 0, 1",
        f"{_CLI} gradients --depths 8 --batch-size 16 --probes 1 --seeds 0,1",
        depths=[8],
        batch_size=16,
        jacobian_probes=1,
        seeds=[0, 1],
    ),
    _e(
        "smoke_degradation",
        "degradation",
        "depth 8, 1 epoch on 100 images, test 100; seeds 0, 1",
        f"{_CLI} degradation --depths 8 --epochs 1 --train-size 100 --test-size 100 --train-eval-size 100 --seeds 0,1",
        depths=[8],
        train_size=100,
        test_size=100,
        train_eval_size=100,
        epochs=1,
        seeds=[0, 1],
    ),
    _e(
        "smoke_ablation",
        "ablation",
        "ResNet-20 / plain-20 on 100 test images; delete-one and delete-2, 1 trial",
        f"{_CLI} ablation --depth 20 --test-size 100 --trials 1 --ks 2 --no-reorder",
        depth=20,
        test_size=100,
        trials=1,
        ks=[2],
        reorder=False,
    ),
    _e(
        "smoke_transfer",
        "transfer",
        "feature extraction + partial fine-tuning, k=5, 1 epoch, 10 val/test images per class; seeds 0, 1",
        f"{_CLI} transfer --shots 5 --strategies feature_extraction,partial_finetune --epochs 1 --seeds 0,1 "
        "--val-per-class 10 --test-per-class 10 --feature-views 1 --min-epoch-images 20",
        shots=[5],
        strategies=["feature_extraction", "partial_finetune"],
        epochs=1,
        seeds=[0, 1],
        val_per_class=10,
        test_per_class=10,
        feature_views=1,
        min_epoch_images=20,
    ),
)

CATALOGS: dict[str, tuple[Entry, ...]] = {"shipped": SHIPPED, "smoke": SMOKE}


def catalog(name: str = "shipped") -> dict[str, Entry]:
    if name not in CATALOGS:
        raise ValueError(f"unknown catalogue {name!r}; choose from {', '.join(CATALOGS)}")
    return {e.name: e for e in CATALOGS[name]}


def select(entries: dict[str, Entry], only: list[str] | None) -> list[Entry]:
    """The entries named in ``only`` (all of them when empty), in catalogue order; unknown names are an error."""
    if not only:
        return list(entries.values())
    unknown = [n for n in only if n not in entries]
    if unknown:
        raise ValueError(f"no library entry named {', '.join(unknown)}; entries: {', '.join(entries)}")
    return [e for name, e in entries.items() if name in only]
