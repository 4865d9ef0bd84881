"""CIFAR-style plain and residual networks of depth 6n+2 (He et al. 2016, section 4.2).

A 3x3 conv stem, three stages of n blocks on feature maps that halve in size while the width doubles
(16/32/64 filters at the default width), global average pooling and a linear classifier. Every block is two
3x3 convs; ``residual=True`` adds a shortcut around them, ``residual=False`` leaves the same two convs without
it, so with shortcut option A the plain and residual nets have identical parameters (same names and shapes)
and differ only in the skip path.

Blocks can be deleted (Veit et al. 2016: a residual block then becomes its shortcut) and reordered in place,
which is what the block-ablation experiment needs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

Norm = Literal["batch", "none"]
Activation = Literal["relu", "tanh", "sigmoid"]
Shortcut = Literal["A", "B"]

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": lambda: nn.ReLU(inplace=False),
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}


def make_norm(norm: Norm, channels: int) -> nn.Module:
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {norm!r}; use 'batch' or 'none'")


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    # No bias: with BatchNorm it is redundant; without it, leaving it out keeps plain/residual comparisons
    # about the skip path alone.
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


class PadShortcut(nn.Module):
    """Option A: identity that subsamples by ``stride`` and zero-pads the new channels (no parameters)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.extra_channels = out_channels - in_channels

    def forward(self, x: Tensor) -> Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        if self.extra_channels:
            half = self.extra_channels // 2
            x = F.pad(x, (0, 0, 0, 0, half, self.extra_channels - half))
        return x


class Block(nn.Module):
    """Two 3x3 convs, with or without a shortcut around them.

    ``deleted`` removes the block from the computation the way Veit et al. do it: a residual block becomes its
    shortcut (``y = shortcut(x)``; on a downsampling block the pad or projection stays), a plain block
    becomes the identity, which is only possible when its input and output shapes match (``removable``).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int,
        *,
        residual: bool,
        norm: Norm,
        activation: Activation,
        shortcut: Shortcut,
    ) -> None:
        super().__init__()
        self.residual = residual
        self.downsample = stride != 1 or in_channels != out_channels
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.norm1 = make_norm(norm, out_channels)
        self.act1 = ACTIVATIONS[activation]()
        self.conv2 = conv3x3(out_channels, out_channels)
        self.norm2 = make_norm(norm, out_channels)
        self.act2 = ACTIVATIONS[activation]()
        self.shortcut: nn.Module
        if not residual or not self.downsample:
            self.shortcut = nn.Identity()
        elif shortcut == "A":
            self.shortcut = PadShortcut(in_channels, out_channels, stride)
        elif shortcut == "B":
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), make_norm(norm, out_channels)
            )
        else:
            raise ValueError(f"unknown shortcut option {shortcut!r}; use 'A' or 'B'")
        self.deleted = False

    @property
    def removable(self) -> bool:
        """Whether deleting the block leaves a network that still computes (shapes still match)."""
        return self.residual or not self.downsample

    def branch(self, x: Tensor) -> Tensor:
        """F(x): the two convs the shortcut goes around."""
        out = self.act1(self.norm1(self.conv1(x)))
        return self.norm2(self.conv2(out))

    def forward(self, x: Tensor) -> Tensor:
        if self.deleted:
            return self.shortcut(x) if self.residual else x
        out = self.branch(x)
        if self.residual:
            out = out + self.shortcut(x)
        return self.act2(out)


@dataclass(frozen=True)
class NetConfig:
    """Everything needed to rebuild a network (stored next to checkpoint weights)."""

    depth: int = 20
    residual: bool = True
    norm: Norm = "batch"
    activation: Activation = "relu"
    shortcut: Shortcut = "A"
    in_channels: int = 1
    num_classes: int = 10
    width: int = 16

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def name(self) -> str:
        return f"{'resnet' if self.residual else 'plain'}{self.depth}"


def blocks_per_stage(depth: int) -> int:
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(f"depth must be 6n+2 with n >= 1 (8, 14, 20, 26, 32, 44, 56, 110, ...), got {depth}")
    return (depth - 2) // 6


def parse_depths(text: str | list[int]) -> list[int]:
    """'20,56' (or [20, 56]) -> [20, 56], each checked to be 6n+2."""
    depths = [int(d) for d in text.split(",") if d.strip()] if isinstance(text, str) else [int(d) for d in text]
    for d in depths:
        blocks_per_stage(d)  # raises ValueError with a helpful message for a depth that is not 6n+2
    if not depths:
        raise ValueError("give at least one depth")
    return depths


def variant_name(residual: bool, depth: int) -> str:
    return f"{'residual' if residual else 'plain'}-{depth}"


class CifarNet(nn.Module):
    """He et al.'s CIFAR network: 6n+2 weighted layers; ``residual`` switches the shortcuts on or off."""

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        self.config = config
        n = blocks_per_stage(config.depth)
        widths = [config.width, 2 * config.width, 4 * config.width]
        self.stem = nn.Sequential(
            conv3x3(config.in_channels, widths[0]),
            make_norm(config.norm, widths[0]),
            ACTIVATIONS[config.activation](),
        )
        blocks: list[Block] = []
        in_channels = widths[0]
        for stage, out_channels in enumerate(widths):
            for i in range(n):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(
                    Block(
                        in_channels,
                        out_channels,
                        stride,
                        residual=config.residual,
                        norm=config.norm,
                        activation=config.activation,
                        shortcut=config.shortcut,
                    )
                )
                in_channels = out_channels
        self.blocks = nn.ModuleList(blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_channels, config.num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                # He (Kaiming) normal init, as in the paper; it is what keeps plain nets trainable at all.
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                bound = 1 / math.sqrt(m.in_features)
                nn.init.uniform_(m.weight, -bound, bound)
                nn.init.zeros_(m.bias)

    def features(self, x: Tensor) -> Tensor:
        """Pooled penultimate features (what a frozen backbone hands a new head)."""
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return torch.flatten(self.pool(x), 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.features(x))

    def block_info(self) -> list[dict]:
        """One row per block: index, stage, whether it downsamples and whether it can be deleted."""
        n = blocks_per_stage(self.config.depth)
        return [
            {"block": i, "stage": i // n, "downsample": b.downsample, "removable": b.removable}
            for i, b in enumerate(self.blocks)
        ]


def build_cifar_net(
    depth: int = 20,
    *,
    residual: bool = True,
    norm: Norm = "batch",
    activation: Activation = "relu",
    shortcut: Shortcut = "A",
    in_channels: int = 1,
    num_classes: int = 10,
    width: int = 16,
) -> CifarNet:
    """Keyword-only builder: ``build_cifar_net(56, residual=False)`` is plain-56."""
    return CifarNet(NetConfig(depth, residual, norm, activation, shortcut, in_channels, num_classes, width))


def count_parameters(model: nn.Module, *, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


@contextmanager
def deleted_blocks(model: CifarNet, indices: Iterator[int] | list[int]) -> Iterator[CifarNet]:
    """Temporarily delete blocks (restored on exit, even after an error)."""
    indices = list(indices)
    for i in indices:
        if not model.blocks[i].removable:
            raise ValueError(f"block {i} changes the tensor shape and has no shortcut: it cannot be deleted")
    previous = [model.blocks[i].deleted for i in indices]
    try:
        for i in indices:
            model.blocks[i].deleted = True
        yield model
    finally:
        for i, was in zip(indices, previous):
            model.blocks[i].deleted = was


@contextmanager
def swapped_blocks(model: CifarNet, pairs: list[tuple[int, int]]) -> Iterator[CifarNet]:
    """Temporarily swap pairs of same-shape blocks (Veit et al.'s reordering), restored on exit."""
    original = list(model.blocks)
    order = list(range(len(original)))
    for i, j in pairs:
        a, b = original[order[i]], original[order[j]]
        if a.downsample or b.downsample:
            raise ValueError(f"blocks {i} and {j}: only blocks that keep the tensor shape can be swapped")
        if a.conv1.in_channels != b.conv1.in_channels:
            raise ValueError(f"blocks {i} and {j} work on different widths and cannot be swapped")
        order[i], order[j] = order[j], order[i]
    try:
        model.blocks = nn.ModuleList([original[k] for k in order])
        yield model
    finally:
        model.blocks = nn.ModuleList(original)
