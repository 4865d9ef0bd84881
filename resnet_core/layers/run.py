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

import numpy as np
import torch
from PIL import Image
from torch import Tensor, nn

from resnet_core.checkpoints import (
    TORCHVISION_WEIGHTS,
    imagenet_weights_available,
    imagenet_weights_file,
    load_checkpoint,
    shipped_path,
)
from resnet_core.data.datasets import FASHION_CLASSES, load_dataset
from resnet_core.experiment import PartialFn, ProgressFn, StopFn
from resnet_core.layers.config import LayersConfig
from resnet_core.layers.preprocess import imagenet_input, lab_input, load_photo
from resnet_core.layers.report import describe_all
from resnet_core.layers.result import FeatureMaps, LayersResult
from resnet_core.models import CifarNet, blocks_per_stage
from resnet_core.provenance import provenance

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


# ------------------------------------------------------------------------------------ one image, one network


def load_image(spec: str) -> Image.Image:
    """A bundled photo by name, or ``fashion:N``: bundled Fashion-MNIST test image N, as an RGB image."""
    if spec.startswith("fashion:"):
        test = load_dataset("bundled").test
        index = int(spec.split(":", 1)[1])
        if not 0 <= index < len(test):
            raise ValueError(f"fashion:{index}: the bundled test split has images 0..{len(test) - 1}")
        return Image.fromarray(test.images[index, 0].numpy()).convert("RGB")
    return load_photo(spec)


def network_input(config: LayersConfig, img: Image.Image) -> tuple[nn.Module, Tensor, list[str]]:
    """(model, the batch it gets for ``img``, its class names)."""
    if config.net == LAB_MODEL:
        model, _meta = load_lab_model()
        return model, lab_input(img), list(FASHION_CLASSES)
    model, classes = load_imagenet_model(config.net)
    return model, imagenet_input(img), classes


def run_layers(
    config: LayersConfig | dict,
    *,
    device: torch.device | str = "cpu",
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    on_partial: PartialFn | None = None,
) -> LayersResult:
    """One forward pass of the configured image through the configured network (a few milliseconds on a CPU, so
    the callbacks are accepted and unused): the prediction and a sentence per stage."""
    if not isinstance(config, LayersConfig):
        config = LayersConfig.from_dict(config)
    model, x, classes = network_input(config, load_image(config.image))
    fm = feature_maps(model, x)
    probs = fm.probabilities()[0]
    sentences = describe_all(fm, list(x.shape[1:]))
    stages = [
        {"name": n, "shape": list(a.shape), "zero_fraction": float((a <= 0).float().mean()), "sentence": s}
        for n, a, s in zip(fm.names, fm.maps, sentences)
    ]
    top = [{"class": classes[i], "probability": float(probs[i])} for i in probs.argsort(descending=True)[:3].tolist()]
    return LayersResult(
        config=config.to_dict(),
        input_shape=list(x.shape[1:]),
        stages=stages,
        top=top,
        provenance=provenance(seed=None, device="cpu", data=config.image),
    )
