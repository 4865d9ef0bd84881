"""The networks a strategy trains: the source body (shipped Fashion-MNIST net or torchvision ImageNet weights), an
input adapter, a new head, and ``configure_strategy`` (what trains, at which learning rate, in which mode)."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from resnet_core.checkpoints import CHECKPOINT_DIR, load_checkpoint
from resnet_core.data import datasets as data_mod
from resnet_core.models import CifarNet, blocks_per_stage, count_parameters
from resnet_core.provenance import sha256_file
from resnet_core.training.engine import seeded
from resnet_core.transfer.config import (
    BN_TRAIN,
    IMAGENET_MEAN,
    IMAGENET_SOURCES,
    IMAGENET_STD,
    TransferConfig,
    draw_split,
)


class InputAdapter(nn.Module):
    """Turns batches normalised for the target data (the engine's per-channel stats) into what the source
    network expects: channels (grey <-> RGB), size, and its own normalisation (e.g. ImageNet mean/std)."""

    def __init__(self, in_channels: int, out_channels: int, size: int | None, in_stats, out_stats) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.size = in_channels, out_channels, size
        for name, values in (
            ("in_mean", in_stats[0]),
            ("in_std", in_stats[1]),
            ("out_mean", out_stats[0]),
            ("out_std", out_stats[1]),
        ):
            self.register_buffer(name, torch.tensor(values).view(1, -1, 1, 1), persistent=False)
        same_stats = tuple(in_stats[0]) == tuple(out_stats[0]) and tuple(in_stats[1]) == tuple(out_stats[1])
        self.identity = in_channels == out_channels and size is None and same_stats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.identity:
            return x
        x = x * self.in_std.to(x.dtype) + self.in_mean.to(x.dtype)  # (B, C_in, H, W), back to 0..1
        if self.in_channels == 1 and self.out_channels == 3:
            x = x.expand(-1, 3, -1, -1)  # (B, 3, H, W): grey copied to RGB
        elif self.in_channels == 3 and self.out_channels == 1:
            x = 0.299 * x[:, :1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]  # (B, 1, H, W): luma
        if self.size is not None and x.shape[-1] != self.size:
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)  # (B, C, S, S)
        return (x - self.out_mean.to(x.dtype)) / self.out_std.to(x.dtype)


class TransferNet(nn.Module):
    """adapter -> body (pooled features) -> dropout -> new head. ``body_stages`` lists the body's stages,
    earliest first, so that partial fine-tuning can unfreeze the last one."""

    def __init__(
        self,
        adapter: InputAdapter,
        body: nn.Module,
        body_stages: list[nn.Module],
        feature_dim: int,
        num_classes: int,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.adapter = adapter
        self.body = body
        self.body_stages = body_stages  # plain list: the modules are registered through body
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(self.adapter(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))


@dataclass
class SourceModel:
    """What a strategy starts from: a builder for the pretrained (or random) body and a description."""

    name: str
    build_body: Callable[[bool], tuple[nn.Module, list[nn.Module], int]]  # pretrained? -> (body, stages, dim)
    in_channels: int
    size: int | None
    stats: tuple
    info: dict


def _cifar_body(net: CifarNet) -> tuple[nn.Module, list[nn.Module], int]:
    dim = net.fc.in_features
    net.fc = nn.Identity()
    n = blocks_per_stage(net.config.depth)
    stages = [net.stem] + [nn.ModuleList(list(net.blocks[i * n : (i + 1) * n])) for i in range(3)]
    return net, stages, dim


def _torchvision_body(net: nn.Module) -> tuple[nn.Module, list[nn.Module], int]:
    dim = net.fc.in_features
    net.fc = nn.Identity()
    stages = [nn.ModuleList([net.conv1, net.bn1]), net.layer1, net.layer2, net.layer3, net.layer4]
    return net, stages, dim


def _fashion_source(config: TransferConfig, checkpoint_path: Path | None) -> SourceModel:
    path = checkpoint_path or (CHECKPOINT_DIR / f"{config.checkpoint_name}.pt")
    if not path.is_file():
        split = "" if config.split_seed is None else f" --split-seed {config.split_seed}"
        raise FileNotFoundError(
            f"the source checkpoint {path.name} is missing from {path.parent}. Recreate it with "
            f"`python -m resnet_core pretrain-source{split}` (needs the full Fashion-MNIST)."
        )
    base, meta = load_checkpoint(path, device="cpu")
    expected = draw_split(config.split_seed)[1]
    if checkpoint_path is None and meta.get("target_class_ids") not in (None, expected):
        raise ValueError(
            f"{path.name} was pretrained for target classes {meta.get('target_class_ids')}, but split "
            f"{config.split_seed} holds out {expected}"
        )
    state = copy.deepcopy(base.state_dict())
    net_config = base.config

    def build(pretrained: bool) -> tuple[nn.Module, list[nn.Module], int]:
        net = CifarNet(net_config)
        if pretrained:
            net.load_state_dict(state)
        return _cifar_body(net)

    keys = (
        "model",
        "split_seed",
        "source_classes",
        "target_classes",
        "test_acc",
        "test_data",
        "date",
        "command",
        "device",
        "git_revision",
        "train_seconds",
    )
    info = {k: meta.get(k) for k in keys}
    info.update(name=path.stem, parameters=count_parameters(base), sha256=sha256_file(path))
    return SourceModel(path.stem, build, net_config.in_channels, None, data_mod.DATASET_STATS[1], info)


def load_source(config: TransferConfig, *, checkpoint_path: Path | None = None) -> SourceModel:
    """The shipped Fashion-MNIST source net of the split, or torchvision ImageNet weights (FileNotFoundError says
    where the file goes)."""
    if config.source == "fashion":
        return _fashion_source(config, checkpoint_path)
    from resnet_core.checkpoints import build_imagenet_resnet, imagenet_weights_file

    arch = IMAGENET_SOURCES[config.source]
    pretrained_net = build_imagenet_resnet(arch, 1000, download=config.download_weights)
    state = {k: v for k, v in pretrained_net.state_dict().items() if not k.startswith("fc.")}

    def build_tv(pretrained: bool) -> tuple[nn.Module, list[nn.Module], int]:
        import torchvision.models as tvm

        net = getattr(tvm, arch)(weights=None)
        if pretrained:
            net.load_state_dict(state, strict=False)
        return _torchvision_body(net)

    info = {
        "name": arch,
        "weights": str(imagenet_weights_file(arch)),
        "parameters": count_parameters(pretrained_net),
        "image_size": config.image_size,
    }
    return SourceModel(arch, build_tv, 3, config.image_size, (IMAGENET_MEAN, IMAGENET_STD), info)


def build_model(
    source: SourceModel,
    target_channels: int,
    target_size: int,
    num_classes: int,
    *,
    pretrained: bool,
    seed: int,
    dropout: float,
) -> TransferNet:
    """A TransferNet with the source body (pretrained or random) and a fresh head, deterministic in ``seed``."""
    in_stats = data_mod.DATASET_STATS.get(target_channels, data_mod.DATASET_STATS[1])
    size = source.size
    if size is None and source.in_channels == 1 and target_size != 28:
        size = 28  # the Fashion-MNIST source saw 28x28 images
    adapter = InputAdapter(target_channels, source.in_channels, size, in_stats, source.stats)

    def build() -> TransferNet:
        body, stages, dim = source.build_body(pretrained)
        return TransferNet(adapter, body, stages, dim, num_classes, dropout)

    return seeded(build, seed)


# -------------------------------------------------------------------------------------------- freezing


def bn_layers(module: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def configure_strategy(model: TransferNet, strategy: str, config: TransferConfig) -> tuple[list[dict], Callable]:
    """Set requires_grad for ``strategy`` and return (optimizer param groups, set_train_mode)."""
    for p in model.parameters():
        p.requires_grad_(False)
    head = list(model.head.parameters())
    for p in head:
        p.requires_grad_(True)
    if strategy == "scratch":
        for p in model.parameters():
            p.requires_grad_(True)
        return [{"params": list(model.parameters()), "lr": config.lr_scratch}], lambda m: m.train()
    if strategy == BN_TRAIN:
        # The tutorial's loop calls model.train() on the whole net: no weight of the body trains, but every
        # BatchNorm normalises with batch statistics and overwrites its running statistics with the target's.
        return [{"params": head, "lr": config.lr_head}], lambda m: m.train()
    if strategy == "feature_extraction":
        trainable_body: list[nn.Module] = []
    elif strategy == "partial_finetune":
        trainable_body = [model.body_stages[-1]]
    elif strategy in ("full_finetune", "staged"):
        trainable_body = [model.body]
    else:
        raise ValueError(f"unknown strategy {strategy!r}")
    body_params = [p for m in trainable_body for p in m.parameters()]
    for p in body_params:
        p.requires_grad_(True)
    train_bn = {id(m) for mod in trainable_body for m in bn_layers(mod)} if config.bn_mode == "train" else set()

    def set_mode(m: TransferNet) -> None:
        # Frozen layers (and, with bn_mode="frozen", every pretrained BatchNorm) stay in eval mode: their running
        # statistics are the source's and never move. Only dropout and re-estimated BN layers train.
        m.eval()
        m.dropout.train()
        for layer in bn_layers(m.body):
            if id(layer) in train_bn:
                layer.train()

    groups = [{"params": head, "lr": config.lr_head}]
    if body_params:
        groups.append({"params": body_params, "lr": config.lr_backbone})
    return groups, set_mode


def trainable_parameter_count(model: TransferNet, strategy: str, config: TransferConfig) -> int:
    configure_strategy(model, strategy, config)
    return count_parameters(model, trainable_only=True)


# ------------------------------------------------------------------------------------- BatchNorm drift


def bn_statistics(model: TransferNet) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """A copy of every body BatchNorm layer's (running_mean, running_var), input side first."""
    return [
        (m.running_mean.detach().float().cpu().clone(), m.running_var.detach().float().cpu().clone())
        for m in bn_layers(model.body)
        if m.running_mean is not None
    ]


def bn_drift(before: list[tuple[torch.Tensor, torch.Tensor]], after: list[tuple[torch.Tensor, torch.Tensor]]) -> dict:
    """How far the running statistics moved, per layer and on average: the mean shift in units of the source's
    standard deviation, mean |Δμ| / σ_source, and the mean |log(σ²_after / σ²_before)|. 0 means untouched."""
    shifts, log_ratios = [], []
    for (m0, v0), (m1, v1) in zip(before, after):
        sd = torch.sqrt(v0 + 1e-5)
        shifts.append(((m1 - m0).abs() / sd).mean().item())
        log_ratios.append(torch.log((v1 + 1e-5) / (v0 + 1e-5)).abs().mean().item())

    def mean(xs):
        return sum(xs) / len(xs) if xs else None

    finite = all(math.isfinite(x) for x in shifts + log_ratios)
    return {
        "mean_shift": mean(shifts),
        "var_log_ratio": mean(log_ratios),
        "layer_mean_shift": shifts,
        "layer_var_log_ratio": log_ratios,
        "finite": finite,
    }
