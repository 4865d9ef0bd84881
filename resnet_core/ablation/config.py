"""Block ablation's configuration: which trained pair, which test images, which lesions, which BatchNorm statistics."""

from __future__ import annotations

from dataclasses import asdict, dataclass


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
    bn_stats: str = "raw"  # raw: the trained BatchNorm statistics (as Veit et al.); recompute: re-estimated per lesion
    bn_images: int = 1000  # training images used to re-estimate them
    # Numerics of every evaluation. False (default): fp32 with the weights' own (NCHW) layout, so the accuracies
    # are comparable with the manifest's fp32 test accuracies. True: the engine's fast path (bf16 autocast where
    # native, channels-last weights and inputs) - faster, but bf16 rounding can move an accuracy by a few images.
    fast: bool = False

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


def checkpoints(config: dict) -> list[str]:
    """The shipped checkpoints a configuration reads (their sha256 is part of its config hash)."""
    depth = config["depth"]
    return [config.get("residual_checkpoint") or f"resnet{depth}", config.get("plain_checkpoint") or f"plain{depth}"]
