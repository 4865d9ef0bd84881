"""The Home page's live demonstration of why the identity path matters: y = F(x) + x gives dy/dx = dF/dx + I.

A stack of blocks (two 3x3 convs each, no normalisation, so nothing else rescales the signal) is applied to a
real batch of images; one backward pass from a random direction at the output measures the gradient norm that
reaches the input of every block. Without the identity path the gradient is multiplied by one block Jacobian
after another and shrinks (or grows) geometrically; with it, each factor is I + dF/dx and stays near 1.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

import torch
from torch import nn

from resnet_core.data.datasets import DATASET_STATS, load_dataset, normalize
from resnet_core.i18n import gettext as _
from resnet_core.models import Block, conv3x3
from resnet_core.numbers import superscript

Init = Literal["pytorch", "he"]


@dataclass
class IdentityDemoResult:
    num_blocks: int
    init: str
    activation: str
    # grad_norm[v][i]: ||d(v . y_L)/dx_i|| / ||v|| at the input of block i (i = 0 is the first block).
    plain: list[float]
    residual: list[float]
    # One block's Jacobian in isolation: mean ||J^T u|| over random unit vectors u, with and without + I.
    one_block_plain: float
    one_block_residual: float

    def to_dict(self) -> dict:
        return asdict(self)


def _stack(num_blocks: int, *, residual: bool, init: Init, activation: str, width: int) -> nn.Sequential:
    blocks = [
        Block(width, width, 1, residual=residual, norm="none", activation=activation, shortcut="A")  # type: ignore[arg-type]
        for _ in range(num_blocks)
    ]
    if init == "he":
        for b in blocks:
            for conv in (b.conv1, b.conv2):
                nn.init.kaiming_normal_(conv.weight, mode="fan_in", nonlinearity="relu")
    # "pytorch" keeps nn.Conv2d's own default (kaiming_uniform with a=sqrt(5)): what a model gets if nobody
    # chooses an initialisation, and about 1/sqrt(3) of He's scale.
    return nn.Sequential(*blocks)


def _grads_at_block_inputs(stack: nn.Sequential, x: torch.Tensor, direction_seed: int) -> list[float]:
    inputs = []
    h = x
    for block in stack:
        h = h.detach().requires_grad_(True) if not inputs else h
        h.retain_grad()
        inputs.append(h)
        h = block(h)
    gen = torch.Generator().manual_seed(direction_seed)
    v = torch.randn(h.shape, generator=gen, dtype=h.dtype)
    v = v / v.norm()
    (h * v).sum().backward()
    return [float(t.grad.norm()) for t in inputs]


def _one_block_jacobian_norm(block: Block, x: torch.Tensor, probes: int, seed: int) -> float:
    gen = torch.Generator().manual_seed(seed)
    x = x.detach().requires_grad_(True)
    y = block(x)
    norms = []
    for _probe in range(probes):
        u = torch.randn(y.shape, generator=gen, dtype=y.dtype)
        u = u / u.norm()
        (g,) = torch.autograd.grad(y, x, u, retain_graph=True)
        norms.append(float(g.norm()))
    return sum(norms) / len(norms)


def run_identity_demo(
    num_blocks: int = 30,
    *,
    init: Init = "pytorch",
    activation: str = "relu",
    seed: int = 0,
    batch: int = 8,
    width: int = 16,
) -> IdentityDemoResult:
    """Gradient norm reaching each block of a plain and a residual stack with the same weights."""
    images = load_dataset("bundled").test.images[:batch]
    mean, std = DATASET_STATS[1]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        stem = conv3x3(1, width)
        with torch.no_grad():
            x = torch.relu(stem(normalize(images, mean, std)))
        plain = _stack(num_blocks, residual=False, init=init, activation=activation, width=width)
    residual = _stack(num_blocks, residual=True, init=init, activation=activation, width=width)
    residual.load_state_dict(plain.state_dict())  # identical weights: only the skip path differs
    # float64: a plain stack's gradient can fall below float32's smallest number within 30 blocks, and an
    # honest 1e-40 reads better than a false 0.
    x, plain, residual = x.double(), plain.double(), residual.double()
    return IdentityDemoResult(
        num_blocks=num_blocks,
        init=init,
        activation=activation,
        plain=_grads_at_block_inputs(plain, x, seed),
        residual=_grads_at_block_inputs(residual, x, seed),
        one_block_plain=_one_block_jacobian_norm(plain[0], x, 4, seed),
        one_block_residual=_one_block_jacobian_norm(residual[0], x, 4, seed),
    )


def describe_identity_demo(r: IdentityDemoResult) -> str:
    """A sentence built from the measured numbers (no fixed claims)."""

    def fmt(v: float) -> str:
        if v == 0 or not math.isfinite(v):
            return str(v)
        exp = math.floor(math.log10(abs(v)))
        return f"{v:.3g}" if -2 <= exp <= 3 else f"{v / 10**exp:.2f}×10{superscript(exp)}"  # 10⁻²⁴, not 10^-24

    return _(
        "One block on its own: ‖∂F/∂x‖ ≈ {one_plain} without the identity path, ‖∂(F(x)+x)/∂x‖ ≈ {one_residual} "
        "with it. Through {blocks} blocks the gradient reaching the first block is {plain} in the plain stack and "
        "{residual} in the residual one (both start from a unit-norm gradient at the output)."
    ).format(
        one_plain=fmt(r.one_block_plain),
        one_residual=fmt(r.one_block_residual),
        blocks=r.num_blocks,
        plain=fmt(r.plain[0]),
        residual=fmt(r.residual[0]),
    )
