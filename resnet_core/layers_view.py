"""What the layers see: activations after the stem and after each stage of a trained network, its first layer's
filters, a sentence per stage computed from the maps, and Grad-CAM.

The maps are the real forward pass: forward hooks on the model's own modules record their outputs while the
model computes its logits (the tests feed the last stage's recorded map through the remaining layers and get the
same logits). Networks: the shipped ResNet-20 (Fashion-MNIST, 28x28 grey) always; a torchvision ImageNet ResNet
when its weights file is in the torch cache. One 28x28 image through ResNet-20 takes a few milliseconds on a CPU.
Grad-CAM (Selvaraju et al. 2017) is captum's ``LayerGradCam``: the target class's gradient, averaged over each
channel of a layer's output, weights that layer's maps; ReLU, then upsampled to the input's size.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from resnet_core.checkpoints import (
    TORCHVISION_WEIGHTS,
    imagenet_weights_available,
    imagenet_weights_file,
    load_checkpoint,
    shipped_path,
)
from resnet_core.i18n import N_
from resnet_core.i18n import gettext as _
from resnet_core.models import CifarNet, blocks_per_stage

LAB_MODEL = "resnet20"


@functools.lru_cache(maxsize=4)
def load_lab_model(name: str = LAB_MODEL) -> tuple[CifarNet, dict]:
    """A shipped checkpoint (eval mode, CPU); cached per process."""
    return load_checkpoint(shipped_path(name), device="cpu")


def imagenet_models_available() -> dict[str, bool]:
    return {arch: imagenet_weights_available(arch) for arch in TORCHVISION_WEIGHTS}


@functools.lru_cache(maxsize=2)
def load_imagenet_model(arch: str) -> tuple[nn.Module, list[str]]:
    """torchvision ResNet with its ImageNet weights from the torch cache and its 1000 class names (no download:
    FileNotFoundError saying where the file goes)."""
    import torchvision.models as tvm

    file = imagenet_weights_file(arch)
    if not file.is_file():
        raise FileNotFoundError(
            f"ImageNet weights for {arch} are not here: put {file.name} in {file.parent} "
            "(or run `python -m resnet_core download " + arch + "` where the internet is reachable)"
        )
    model = getattr(tvm, arch)(weights=None)
    model.load_state_dict(torch.load(file, map_location="cpu", weights_only=True))
    categories = getattr(tvm, TORCHVISION_WEIGHTS[arch]).IMAGENET1K_V1.meta["categories"]
    return model.eval(), list(categories)


def stage_modules(model: nn.Module) -> dict[str, nn.Module]:
    """The modules whose outputs are 'after the stem' and 'after stage k', in forward order."""
    if isinstance(model, CifarNet):
        n = blocks_per_stage(model.config.depth)
        return {"stem": model.stem, **{f"stage {s + 1}": model.blocks[(s + 1) * n - 1] for s in range(3)}}
    if hasattr(model, "layer4"):  # torchvision ResNet
        return {"stem": model.maxpool, **{f"stage {s}": getattr(model, f"layer{s}") for s in range(1, 5)}}
    raise ValueError(f"no stage map for {type(model).__name__}")


def first_conv(model: nn.Module) -> nn.Conv2d:
    return next(m for m in model.modules() if isinstance(m, nn.Conv2d))


def head_from_last_stage(model: nn.Module, last: Tensor) -> Tensor:
    """The layers after the last stage (global average pool, flatten, fc), applied to a recorded map."""
    pool = model.pool if isinstance(model, CifarNet) else model.avgpool
    return model.fc(torch.flatten(pool(last), 1))


@dataclass
class FeatureMaps:
    names: list[str]
    maps: list[Tensor]  # one [C, H, W] per name (first image of the batch)
    logits: Tensor  # [N, classes]: the model's own output of the same forward pass

    def probabilities(self) -> Tensor:
        return self.logits.softmax(1)


def feature_maps(model: nn.Module, x: Tensor) -> FeatureMaps:
    """One forward pass of ``x`` ([N, C, H, W], normalised) with hooks recording each stage's output."""
    stages = stage_modules(model)
    recorded: dict[str, Tensor] = {}
    hooks = [
        m.register_forward_hook(lambda _m, _i, out, name=name: recorded.__setitem__(name, out.detach()))
        for name, m in stages.items()
    ]
    try:
        with torch.no_grad():
            logits = model.eval()(x)
    finally:
        for h in hooks:
            h.remove()
    return FeatureMaps(list(stages), [recorded[n][0] for n in stages], logits)


def top_channels(act: Tensor, k: int) -> list[int]:
    """Indices of the ``k`` channels with the largest mean activation (what a grid shows first)."""
    return act.flatten(1).mean(1).argsort(descending=True)[:k].tolist()


def _where(act: Tensor) -> str:
    """Where the summed activation peaks, in words (thirds of the map)."""
    energy = act.clamp_min(0).sum(0)
    h, w = energy.shape
    if h < 3 or w < 3:
        return _("everywhere at once (the map is too small to say where)")
    r, c = divmod(int(energy.argmax()), w)
    rows, cols = [N_("top"), N_("middle"), N_("bottom")], [N_("left"), N_("centre"), N_("right")]
    return _("the {row} {column}").format(row=_(rows[min(2, 3 * r // h)]), column=_(cols[min(2, 3 * c // w)]))


def describe_stage(name: str, act: Tensor, previous: Tensor | None, input_shape: list[int]) -> str:
    """A sentence about one stage's maps, from the numbers: size, channels, sparsity, concentration, location."""
    c, h, w = act.shape
    zero = (act <= 0).float().mean().item()
    means = act.clamp_min(0).flatten(1).mean(1)
    k = max(1, c // 8)
    share = (means.sort(descending=True).values[:k].sum() / means.sum().clamp_min(1e-12)).item()
    alive = int((means > 0).sum())
    change = ""
    if previous is not None:
        pc, ph, _pw = previous.shape
        if ph != h or pc != c:
            change = _(" (from {pc}×{ph}×{ph}: ×{size:.2g} in size, ×{channels:.2g} in channels)").format(
                pc=pc, ph=ph, size=h / ph, channels=c / pc
            )
    elif input_shape:
        change = _(" (input {h}×{w})").format(h=input_shape[1], w=input_shape[2])
    silent = (
        _("every channel responds")
        if alive == c
        else _("{silent} of {c} channels are silent for this image").format(silent=c - alive, c=c)
    )
    return _(
        "**{name}**: {c} channels of {h}×{w}{change}. {zero:.0%} of the values are zero after the ReLU and "
        "{silent}; the top {k} channels carry {share:.0%} of the activation, strongest in {where}."
    ).format(
        name=name.capitalize(),
        c=c,
        h=h,
        w=w,
        change=change,
        zero=zero,
        silent=silent,
        k=k,
        share=share,
        where=_where(act),
    )


def describe_all(fm: FeatureMaps, input_shape: list[int]) -> list[str]:
    return [
        describe_stage(n, a, fm.maps[i - 1] if i else None, input_shape)
        for i, (n, a) in enumerate(zip(fm.names, fm.maps))
    ]


# ---------------------------------------------------------------------------------------------- Grad-CAM


def gradcam(model: nn.Module, layer: nn.Module, x: Tensor, targets: Tensor | list[int]) -> np.ndarray:
    """Grad-CAM heatmaps [N, H, W] in 0..1 at the input's resolution, for class ``targets[i]`` of image i."""
    from captum.attr import LayerAttribution, LayerGradCam

    model.eval()
    targets = torch.as_tensor(targets, dtype=torch.long)
    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        attr = LayerGradCam(model, layer).attribute(x, target=targets, relu_attributions=True)
    attr = LayerAttribution.interpolate(attr.detach(), tuple(x.shape[-2:]), interpolate_mode="bilinear")[:, 0]
    hi = attr.flatten(1).max(1).values.clamp_min(1e-12).view(-1, 1, 1)
    return (attr.clamp_min(0) / hi).numpy()
