"""Inside the networks: parameters, MACs, activation memory and depth of VGG, ResNet-18…152 and the lab's nets.

Everything is counted from the real modules (torchvision constructors with ``weights=None``, the lab's
``build_cifar_net``), built on PyTorch's ``meta`` device so that no weights are allocated and no file is read:
the whole zoo (VGG-16/19, ResNet-18/34/50/101/152 at 224x224, six CIFAR-style nets) takes 1.9-2.1 s on one
CPU thread of the shared 2-core lab machine at load average 6-7, most of it building the modules; counting
ResNet-152 went from 0.9 s to 0.1 s once BatchNorm became a pass-through while counting (see ``measure``).

Conventions (stated once, used everywhere):

- **MACs**: multiply-accumulates of the convolutions and linear layers, counted by forward hooks on those
  modules during one real forward pass on meta tensors (``resnet_core.macs``; identical, layer by layer, to
  ``torch.utils.flop_counter.FlopCounterMode``, whose process-wide hooks would break other threads' backward
  passes on a shared server; torchinfo would be an extra dependency that re-derives them from module shapes). **FLOPs = 2 x MACs.** ResNet-50 at 224x224: 4.09 G MACs, the commonly cited "4.1 GFLOPs" (which are
  MACs) and torchvision's published ``_ops`` (4.089). BatchNorm, ReLU, pooling and the residual additions are
  not counted (about 1 % of the total).
- **Activation memory**: the float32 outputs of every leaf module for one image (what a training step keeps
  for the backward pass; in-place ReLUs and identities, which share their input's memory, not counted), in
  MB = 10^6 bytes.
- **Depth**: convolution and linear layers on the main path (projection shortcuts not counted), the number in
  the name: ResNet-50 has 50, VGG-16 has 16, the lab's ResNet-20 has 20.
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from resnet_core.macs import MacCount, count_macs
from resnet_core.models import CifarNet, blocks_per_stage, build_cifar_net

IMAGENET_INPUT = (3, 224, 224)
LAB_INPUT = (1, 28, 28)  # what the lab trains on: Fashion-MNIST, grey 28x28, 10 classes
TORCHVISION_NETS = {  # name -> (constructor, weights enum): only metadata is read from the enum, nothing downloads
    "vgg16": ("vgg16", "VGG16_Weights"),
    "vgg19": ("vgg19", "VGG19_Weights"),
    "resnet18": ("resnet18", "ResNet18_Weights"),
    "resnet34": ("resnet34", "ResNet34_Weights"),
    "resnet50": ("resnet50", "ResNet50_Weights"),
    "resnet101": ("resnet101", "ResNet101_Weights"),
    "resnet152": ("resnet152", "ResNet152_Weights"),
}
LAB_NETS = ["resnet20", "plain20", "resnet56", "plain56", "resnet110", "plain110"]
ALL_NETS = [*TORCHVISION_NETS, *LAB_NETS]
TITLES = {
    "vgg16": "VGG-16",
    "vgg19": "VGG-19",
    **{f"resnet{d}": f"ResNet-{d}" for d in (18, 34, 50, 101, 152, 20, 56, 110)},
    **{f"plain{d}": f"Plain-{d}" for d in (20, 56, 110)},
}
SHORTCUT_NAMES = ("downsample", "shortcut")  # module names of projection shortcuts (torchvision, the lab)


def build_net(name: str, *, shortcut: str = "A", num_classes: int | None = None) -> nn.Module:
    """The named network with random weights (call inside ``torch.device('meta')`` to allocate nothing)."""
    if name in TORCHVISION_NETS:
        import torchvision.models as tvm

        kwargs = {} if num_classes is None else {"num_classes": num_classes}
        return getattr(tvm, TORCHVISION_NETS[name][0])(weights=None, **kwargs)
    depth = name.removeprefix("resnet").removeprefix("plain")
    if name.startswith(("resnet", "plain")) and depth.isdigit():
        depth = int(depth)
        return build_cifar_net(
            depth,
            residual=name.startswith("resnet"),
            shortcut=shortcut,
            in_channels=LAB_INPUT[0],
            num_classes=num_classes or 10,
        )
    raise ValueError(f"unknown network {name!r}; choose one of {ALL_NETS}")


def native_input(name: str) -> tuple[int, int, int]:
    return IMAGENET_INPUT if name in TORCHVISION_NETS else LAB_INPUT


def imagenet_meta(name: str) -> dict:
    """torchvision's published figures for the IMAGENET1K_V1 weights (metadata only; no download)."""
    if name not in TORCHVISION_NETS:
        return {}
    import torchvision.models as tvm

    meta = getattr(tvm, TORCHVISION_NETS[name][1]).IMAGENET1K_V1.meta
    return {
        "imagenet_top1": meta["_metrics"]["ImageNet-1K"]["acc@1"],
        "imagenet_top5": meta["_metrics"]["ImageNet-1K"]["acc@5"],
        "published_gflops": meta.get("_ops"),
        "weights_mb": meta.get("_file_size"),
    }


# ------------------------------------------------------------------------------------------- layer units


@dataclass
class Unit:
    """One row of the layer table: a block (ResNets) or a layer (VGG), with the stage it belongs to."""

    stage: str
    name: str
    modules: list[tuple[str, nn.Module]]  # (qualified name, module); the last one's output is the unit's output
    downsample: bool = False  # halves the feature map (stride 2 or pooling)
    kind: str = ""


def layer_units(name: str, model: nn.Module) -> list[Unit]:
    """The model cut into table rows, earliest first: stem, blocks (or layers) per stage, head."""
    if isinstance(model, CifarNet):
        n = blocks_per_stage(model.config.depth)
        units = [Unit("stem", "conv 3x3", [("stem", model.stem)], kind="stem")]
        for i, block in enumerate(model.blocks):
            kind = ("residual" if block.residual else "plain") + " block"
            units.append(Unit(f"stage {i // n + 1}", f"blocks.{i}", [(f"blocks.{i}", block)], block.downsample, kind))
        units.append(Unit("head", "avgpool + fc", [("pool", model.pool), ("fc", model.fc)], kind="head"))
        return units
    if name.startswith("resnet"):
        stem = [("conv1", model.conv1), ("bn1", model.bn1), ("relu", model.relu), ("maxpool", model.maxpool)]
        units = [Unit("stem", "conv 7x7/2 + maxpool", stem, True, "stem")]
        for s in range(1, 5):
            for i, block in enumerate(getattr(model, f"layer{s}")):
                kind = type(block).__name__.lower()
                down = block.downsample is not None and block.stride != 1
                units.append(Unit(f"layer{s}", f"layer{s}.{i}", [(f"layer{s}.{i}", block)], down, kind))
        units.append(Unit("head", "avgpool + fc", [("avgpool", model.avgpool), ("fc", model.fc)], kind="head"))
        return units
    units, stage = [], 1  # VGG: stages end at each max-pool
    for i, m in enumerate(model.features):
        if isinstance(m, nn.Conv2d):
            units.append(Unit(f"stage {stage}", f"features.{i} conv 3x3", [(f"features.{i}", m)], kind="conv"))
        elif isinstance(m, nn.MaxPool2d):
            units.append(Unit(f"stage {stage}", f"features.{i} maxpool", [(f"features.{i}", m)], True, "pool"))
            stage += 1
    linears = [(i, m) for i, m in enumerate(model.classifier) if isinstance(m, nn.Linear)]
    for j, (i, m) in enumerate(linears):
        units.append(Unit("classifier", f"fc{6 + j}", [(f"classifier.{i}", m)], kind="fc"))
    return units


def _leaf_macs(model: nn.Module, counted: MacCount) -> dict[str, int]:
    """MACs per leaf module (qualified name) from one counted forward pass."""
    return {q: counted.per_module.get(q, 0) for q, m in model.named_modules() if not list(m.children())}


# ------------------------------------------------------------------------------------------------ stats


@dataclass
class NetStats:
    name: str
    title: str
    input_shape: list[int]
    params: int
    macs: int
    flops: int  # 2 x macs
    activation_mb: float
    depth: int
    shortcut_params: int  # parameters in projection shortcuts, conv + BN (0 for option A and for VGG)
    imagenet_top1: float | None = None
    imagenet_top5: float | None = None
    published_gflops: float | None = None
    weights_mb: float | None = None
    stages: list[dict] = field(default_factory=list)  # name, output_shape, params, macs, units, downsample
    layers: list[dict] = field(default_factory=list)  # stage, block, kind, output_shape, params, macs, downsample
    params_by_kind: dict = field(default_factory=dict)  # conv / linear / norm parameters

    def to_dict(self, *, layers: bool = False) -> dict:
        d = asdict(self)
        if not layers:
            d.pop("layers")
        return d


def _passthrough(x: torch.Tensor) -> torch.Tensor:
    return x


def measure(model: nn.Module, name: str, input_shape: tuple[int, int, int]) -> NetStats:
    """Count everything on ``model`` (ideally on the meta device) with one forward pass of a single image."""
    units = layer_units(name, model)
    out_shapes: dict[int, list[int]] = {}
    act_numel = [0]
    hooks = []
    for i, unit in enumerate(units):
        hooks.append(
            unit.modules[-1][1].register_forward_hook(
                lambda _m, _inp, out, i=i: out_shapes.__setitem__(i, list(out.shape[1:]))
            )
        )
    for m in model.modules():
        if not list(m.children()) and not getattr(m, "inplace", False) and not isinstance(m, nn.Identity):
            hooks.append(
                m.register_forward_hook(lambda _m, _inp, out: act_numel.__setitem__(0, act_numel[0] + out.numel()))
            )
    device = next(model.parameters()).device
    # FlopCounterMode does not count BatchNorm, and on meta tensors its dispatch is the slow part (0.6 s of
    # ResNet-152's 0.9 s): while counting, each BN is a shape-preserving pass-through (hooks still see its output).
    norms = (
        [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)] if device.type == "meta" else []
    )
    for m in norms:
        m.forward = _passthrough
    try:
        with torch.no_grad(), count_macs(model) as counter:
            model.eval()(torch.empty(1, *input_shape, device=device))
    finally:
        for h in hooks:
            h.remove()
        for m in norms:
            del m.forward
    leaf = _leaf_macs(model, counter)
    layers = []
    for i, unit in enumerate(units):
        params = sum(p.numel() for _, m in unit.modules for p in m.parameters())
        macs = sum(
            v for q, v in leaf.items() for prefix, _ in unit.modules if q == prefix or q.startswith(prefix + ".")
        )
        layers.append(
            {
                "stage": unit.stage,
                "block": unit.name,
                "kind": unit.kind,
                "output_shape": out_shapes[i],
                "params": params,
                "macs": macs,
                "downsample": unit.downsample,
            }
        )
    stages: list[dict] = []
    for row in layers:
        if not stages or stages[-1]["name"] != row["stage"]:
            stages.append({"name": row["stage"], "units": 0, "params": 0, "macs": 0, "downsample": False})
        st = stages[-1]
        st["units"] += 1
        st["params"] += row["params"]
        st["macs"] += row["macs"]
        st["output_shape"] = row["output_shape"]
        st["downsample"] = st["downsample"] or row["downsample"]
    named = list(model.named_modules())
    weighted = [(q, m) for q, m in named if isinstance(m, (nn.Conv2d, nn.Linear))]
    on_shortcut = [m for q, m in weighted if any(s in q.split(".") for s in SHORTCUT_NAMES)]
    by_kind = {"conv": 0, "linear": 0, "norm": 0}
    for _, m in named:
        own = sum(p.numel() for p in m.parameters(recurse=False))
        kind = "conv" if isinstance(m, nn.Conv2d) else "linear" if isinstance(m, nn.Linear) else "norm"
        by_kind[kind] += own
    macs = sum(leaf.values())
    return NetStats(
        name=name,
        title=TITLES.get(name, name),
        input_shape=list(input_shape),
        params=sum(p.numel() for p in model.parameters()),
        macs=macs,
        flops=2 * macs,
        activation_mb=act_numel[0] * 4 / 1e6,
        depth=len(weighted) - len(on_shortcut),
        shortcut_params=sum(p.numel() for q, m in named if q.split(".")[-1] in SHORTCUT_NAMES for p in m.parameters()),
        stages=stages,
        layers=layers,
        params_by_kind=by_kind,
        **imagenet_meta(name),
    )


@functools.lru_cache(maxsize=64)
def net_stats(name: str, *, shortcut: str = "A", input_size: int | None = None) -> NetStats:
    """Stats of a named network at its native input (or ``input_size`` pixels square); cached per process."""
    channels, h, w = native_input(name)
    shape = (channels, input_size or h, input_size or w)
    with torch.device("meta"):
        model = build_net(name, shortcut=shortcut)
    return measure(model, name, shape)


ZOO_SECONDS: dict[str, float] = {}  # how long counting the whole zoo took in this process (set once)


def zoo(names: list[str] | None = None) -> list[NetStats]:
    start = time.perf_counter()
    stats = [net_stats(n) for n in (names or ALL_NETS)]
    if names is None:
        ZOO_SECONDS.setdefault("all", time.perf_counter() - start)
    return stats


def warm_up() -> threading.Thread:
    """Count the whole zoo in a background thread (the app starts one when the server starts), so the first
    visitor of the Architectures page finds the counts ready instead of waiting ~1.5 s for them."""
    thread = threading.Thread(target=zoo, name="resnet-lab-zoo-warm-up", daemon=True)
    thread.start()
    return thread
