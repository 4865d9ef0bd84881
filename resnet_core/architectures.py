"""Inside the networks: parameters, MACs, activation memory and depth of VGG, ResNet-18…152 and the lab's nets.

Everything is counted from the real modules (torchvision constructors with ``weights=None``, the lab's
``build_cifar_net``), built on PyTorch's ``meta`` device so that no weights are allocated and no file is read:
the whole zoo (VGG-16/19, ResNet-18/34/50/101/152 at 224x224, six CIFAR-style nets) takes ~1.5 s on one
CPU thread, measured on the lab machine; ResNet-152 alone ~0.7 s.

Conventions (stated once, used everywhere):

- **MACs**: multiply-accumulates of the convolutions and linear layers, counted by
  ``torch.utils.flop_counter.FlopCounterMode`` (kept in PyTorch itself, works on meta tensors and sees every
  op the forward really runs; torchinfo would be an extra dependency that re-derives them from module
  shapes). **FLOPs = 2 x MACs.** ResNet-50 at 224x224: 4.09 G MACs, the commonly cited "4.1 GFLOPs" (which are
  MACs) and torchvision's published ``_ops`` (4.089). BatchNorm, ReLU, pooling and the residual additions are
  not counted (< 1 % of the total).
- **Activation memory**: the float32 outputs of every leaf module for one image (what a training step keeps
  for the backward pass, in-place ReLUs not counted twice), in MB = 10^6 bytes.
- **Depth**: convolution and linear layers on the main path (projection shortcuts not counted), the number in
  the name: ResNet-50 has 50, VGG-16 has 16, the lab's ResNet-20 has 20.
"""

from __future__ import annotations

import argparse
import functools
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

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
TITLES = {"vgg16": "VGG-16", "vgg19": "VGG-19", **{f"resnet{d}": f"ResNet-{d}" for d in (18, 34, 50, 101, 152, 20, 56, 110)},
          **{f"plain{d}": f"Plain-{d}" for d in (20, 56, 110)}}  # fmt: skip
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
        return build_cifar_net(depth, residual=name.startswith("resnet"), shortcut=shortcut,
                               in_channels=LAB_INPUT[0], num_classes=num_classes or 10)  # fmt: skip
    raise ValueError(f"unknown network {name!r}; choose one of {ALL_NETS}")


def native_input(name: str) -> tuple[int, int, int]:
    return IMAGENET_INPUT if name in TORCHVISION_NETS else LAB_INPUT


def imagenet_meta(name: str) -> dict:
    """torchvision's published figures for the IMAGENET1K_V1 weights (metadata only; no download)."""
    if name not in TORCHVISION_NETS:
        return {}
    import torchvision.models as tvm

    meta = getattr(tvm, TORCHVISION_NETS[name][1]).IMAGENET1K_V1.meta
    return {"imagenet_top1": meta["_metrics"]["ImageNet-1K"]["acc@1"], "imagenet_top5": meta["_metrics"]["ImageNet-1K"]["acc@5"],
            "published_gflops": meta.get("_ops"), "weights_mb": meta.get("_file_size")}  # fmt: skip


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


def _leaf_macs(model: nn.Module, counter: FlopCounterMode) -> dict[str, int]:
    """MACs per leaf module (qualified name) from one counted forward pass."""
    counts = counter.get_flop_counts()
    prefix = type(model).__name__
    out = {}
    for qname, m in model.named_modules():
        if not list(m.children()):
            out[qname] = sum(counts.get(f"{prefix}.{qname}", {}).values()) // 2
    return out


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
        hooks.append(unit.modules[-1][1].register_forward_hook(
            lambda _m, _inp, out, i=i: out_shapes.__setitem__(i, list(out.shape[1:]))))  # fmt: skip
    for m in model.modules():
        if not list(m.children()) and not getattr(m, "inplace", False) and not isinstance(m, nn.Identity):
            hooks.append(m.register_forward_hook(lambda _m, _inp, out: act_numel.__setitem__(0, act_numel[0] + out.numel())))
    device = next(model.parameters()).device
    # FlopCounterMode does not count BatchNorm, and on meta tensors its dispatch is the slow part (0.6 s of
    # ResNet-152's 0.9 s): while counting, each BN is a shape-preserving pass-through (hooks still see its output).
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)] if device.type == "meta" else []
    for m in norms:
        m.forward = _passthrough
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
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
        macs = sum(v for q, v in leaf.items() for prefix, _ in unit.modules if q == prefix or q.startswith(prefix + "."))
        layers.append({"stage": unit.stage, "block": unit.name, "kind": unit.kind, "output_shape": out_shapes[i],
                       "params": params, "macs": macs, "downsample": unit.downsample})  # fmt: skip
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
        name=name, title=TITLES.get(name, name), input_shape=list(input_shape),
        params=sum(p.numel() for p in model.parameters()), macs=macs, flops=2 * macs,
        activation_mb=act_numel[0] * 4 / 1e6, depth=len(weighted) - len(on_shortcut),
        shortcut_params=sum(p.numel() for q, m in named if q.split(".")[-1] in SHORTCUT_NAMES for p in m.parameters()),
        stages=stages, layers=layers, params_by_kind=by_kind, **imagenet_meta(name),
    )  # fmt: skip


@functools.lru_cache(maxsize=64)
def net_stats(name: str, *, shortcut: str = "A", input_size: int | None = None) -> NetStats:
    """Stats of a named network at its native input (or ``input_size`` pixels square); cached per process."""
    channels, h, w = native_input(name)
    shape = (channels, input_size or h, input_size or w)
    with torch.device("meta"):
        model = build_net(name, shortcut=shortcut)
    return measure(model, name, shape)


def zoo(names: list[str] | None = None) -> list[NetStats]:
    return [net_stats(n) for n in (names or ALL_NETS)]


# ----------------------------------------------------------------------------------- basic vs bottleneck


def block_costs(channels: int = 256, width: int = 64, size: int = 56) -> list[dict]:
    """Parameters and MACs of torchvision's own block modules on a ``size`` x ``size`` map (stride 1).

    Three designs: the paper's Fig. 5 pair (a basic block on ``width`` channels and a bottleneck
    ``channels`` -> 1x1 ``width`` -> 3x3 ``width`` -> 1x1 ``channels``, similar cost) and a basic block as wide as
    the bottleneck's input (what ResNet-50 would cost without bottlenecks).
    """
    from torchvision.models.resnet import BasicBlock, Bottleneck

    with torch.device("meta"):
        designs = [
            ("basic", f"basic block, {width}-d", BasicBlock(width, width), width,
             [f"3x3 {width}", f"3x3 {width}"]),
            ("bottleneck", f"bottleneck, {channels}-d", Bottleneck(channels, width), channels,
             [f"1x1 {width}", f"3x3 {width}", f"1x1 {channels}"]),
            ("basic_wide", f"basic block, {channels}-d", BasicBlock(channels, channels), channels,
             [f"3x3 {channels}", f"3x3 {channels}"]),
        ]  # fmt: skip
    rows = []
    for key, title, block, c_in, convs in designs:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            block.eval()(torch.empty(1, c_in, size, size, device="meta"))
        macs = counter.get_total_flops() // 2
        conv_params = sum(m.weight.numel() for m in block.modules() if isinstance(m, nn.Conv2d))
        rows.append({"design": key, "title": title, "in_channels": c_in, "convs": convs, "params": sum(p.numel() for p in block.parameters()),
                     "conv_params": conv_params, "macs": macs, "map": [c_in, size, size]})  # fmt: skip
    return rows


def describe_params(stats: list[NetStats]) -> str:
    """Where each net's parameters sit, in words: the share in fully-connected layers."""
    parts = []
    for s in stats:
        fc = s.params_by_kind["linear"]
        parts.append(f"**{s.title}**: {fc / s.params:.0%} of its {s.params / 1e6:.1f} M parameters are in "
                     f"fully-connected layers ({fc / 1e6:.1f} M), {s.params_by_kind['conv'] / 1e6:.1f} M in convolutions")  # fmt: skip
    return "; ".join(parts) + "."


def describe_blocks(rows: list[dict]) -> str:
    """Why ResNet-50+ use bottlenecks, from the measured costs."""
    basic, bottleneck, wide = (next(r for r in rows if r["design"] == k) for k in ("basic", "bottleneck", "basic_wide"))
    return (f"A bottleneck keeps a **{bottleneck['in_channels']}-d** representation for {bottleneck['params']:,} "
            f"parameters and {bottleneck['macs'] / 1e6:,.0f} M MACs, about what a basic block on only "
            f"{basic['in_channels']}-d costs ({basic['params']:,}; {basic['macs'] / 1e6:,.0f} M MACs). A basic block "
            f"as wide as the bottleneck would cost {wide['params'] / bottleneck['params']:.0f}× the parameters and "
            f"{wide['macs'] / bottleneck['macs']:.0f}× the MACs: the 1×1 convs shrink the channels before the "
            "expensive 3×3 and restore them after, which is how ResNet-50/101/152 get deep and wide at once.")  # fmt: skip


# ------------------------------------------------------------------------------- shortcut A vs B (lab nets)


def shortcut_shapes(depth: int = 20) -> list[dict]:
    """Per downsampling block of the lab's ResNet: input and output shapes and the parameters option B adds."""
    stats_a, stats_b = net_stats(f"resnet{depth}", shortcut="A"), net_stats(f"resnet{depth}", shortcut="B")
    rows, prev = [], None
    for la, lb in zip(stats_a.layers, stats_b.layers):
        if la["downsample"] and prev is not None:
            rows.append({"block": la["block"], "input_shape": prev, "output_shape": la["output_shape"],
                         "params_A": la["params"], "params_B": lb["params"], "added_by_B": lb["params"] - la["params"]})  # fmt: skip
        prev = la["output_shape"]
    return rows


def shortcut_gradients(depths: tuple[int, ...] = (20, 56), *, seed: int = 0, batch_size: int = 64) -> dict[str, Any]:
    """Reuses the Gradient flow experiment: residual nets with option A vs B at initialisation, same seed and batch."""
    from resnet_core.gradients import GradientConfig, run_gradients

    out = {}
    for option in ("A", "B"):
        config = GradientConfig(depths=list(depths), variants=["residual"], shortcut=option, seed=seed, batch_size=batch_size)
        out[option] = run_gradients(config, device="cpu").to_dict()
    return out


def describe_shortcuts(rows: list[dict], grads: dict | None = None) -> str:
    """Words from the numbers: what option B adds and what it changes in the measured gradient flow."""
    added = sum(r["added_by_B"] for r in rows)
    text = (f"Option B adds **{added:,} parameters** ({len(rows)} projections); option A adds none: it "
            "subsamples with stride 2 and zero-pads the new channels.")
    if grads:
        parts = []
        for ra, rb in zip(grads["A"]["runs"], grads["B"]["runs"]):
            a, b = ra.get("first_last_ratio"), rb.get("first_last_ratio")
            if a and b:
                parts.append(f"ResNet-{ra['depth']}: first/last gradient ratio {a:.2f} (A) vs {b:.2f} (B)")
        if parts:
            text += " Measured at initialisation on one batch of 64 bundled images: " + "; ".join(parts) + "."
    return text


# ------------------------------------------------------------------------------------ replace the last layer


def head_code(name: str, num_classes: int) -> str:
    """The exact line that replaces the classifier of ``name`` (its real in_features)."""
    with torch.device("meta"):
        model = build_net(name)
    if hasattr(model, "fc"):
        return f"model.fc = nn.Linear({model.fc.in_features}, {num_classes})"
    last = max(i for i, m in enumerate(model.classifier) if isinstance(m, nn.Linear))
    return f"model.classifier[{last}] = nn.Linear({model.classifier[last].in_features}, {num_classes})"


def strategy_counts(source: str, num_classes: int = 4) -> list[dict]:
    """Frozen and trainable parameters for each transfer strategy, from the Transfer page's own functions.

    ``source``: "fashion" (the shipped ResNet-20 source) or "resnet18/34/50" (random ImageNet-shaped body: the
    counts do not depend on the weights, so nothing has to be downloaded).
    """
    from resnet_core import transfer

    config = transfer.TransferConfig()
    if source == "fashion":
        src = transfer.load_source(config)
        channels, size = 1, 28
    else:
        src = transfer.SourceModel(source, functools.partial(_torchvision_body, source), 3, 64,
                                   (transfer.IMAGENET_MEAN, transfer.IMAGENET_STD), {})  # fmt: skip
        channels, size = 3, 64
    model = transfer.build_model(src, channels, size, num_classes, pretrained=False, seed=0, dropout=0.0)
    total = sum(p.numel() for p in model.parameters())
    rows = []
    for strategy in ("feature_extraction", "partial_finetune", "full_finetune"):
        trainable = transfer.trainable_parameter_count(model, strategy, config)
        rows.append({"strategy": strategy, "trainable": trainable, "frozen": total - trainable, "total": total})
    return rows


def _torchvision_body(arch: str, pretrained: bool) -> tuple[nn.Module, list[nn.Module], int]:
    """The same body layout the Transfer page uses for ImageNet sources: stem, layer1..4; fc removed."""
    import torchvision.models as tvm

    net = getattr(tvm, arch)(weights=None)
    dim = net.fc.in_features
    net.fc = nn.Identity()
    return net, [nn.ModuleList([net.conv1, net.bn1]), net.layer1, net.layer2, net.layer3, net.layer4], dim


# ------------------------------------------------------------------------------------------------- CLI


def architectures_json(names: list[str] | None = None) -> dict:
    models = []
    for s in zoo(names):
        d = s.to_dict()
        d["convention"] = "macs: multiply-accumulates of conv and linear layers; flops = 2 x macs"
        models.append(d)
    return {"input": {"imagenet": list(IMAGENET_INPUT), "lab": list(LAB_INPUT)}, "models": models,
            "block_costs": block_costs(), "shortcut_shapes": shortcut_shapes(20)}  # fmt: skip


def _cmd_architectures(args: argparse.Namespace) -> int:
    from resnet_core.provenance import provenance, write_json

    names = [n.strip() for n in args.models.split(",")] if args.models else None
    payload = architectures_json(names)
    for m in payload["models"]:
        top1 = f"{m['imagenet_top1']:.1f}%" if m.get("imagenet_top1") else "  –  "
        print(f"{m['title']:<11} {m['params']:>12,} params  {m['macs'] / 1e9:7.3f} GMACs  {m['flops'] / 1e9:7.3f} GFLOPs  "
              f"{m['activation_mb']:7.1f} MB act.  depth {m['depth']:>3}  top-1 {top1}")  # fmt: skip
    if args.json:
        payload["provenance"] = provenance(seed=None, device="meta", data="none (shapes only)")
        write_json(args.json, payload)
        print(f"wrote {args.json}")
    return 0


def register_cli(subparsers: Any) -> None:
    p = subparsers.add_parser("architectures", help="parameters, MACs/FLOPs, activation memory and depth of VGG, "
                              "ResNet-18..152 and the lab's nets (no weights needed)")  # fmt: skip
    p.add_argument("--models", default=None, help=f"comma-separated subset of {','.join(ALL_NETS)}")
    p.add_argument("--json", default=None, help="write the figures here")
    p.set_defaults(func=_cmd_architectures)

