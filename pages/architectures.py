"""Architectures: VGG vs ResNet-18…152 and the lab's nets, basic vs bottleneck blocks, downsampling shortcuts,
replacing the last layer.

Thin page: every number comes from resnet_core.architectures (counted on the real modules, on the meta device,
once per server process) and every figure from resnet_core.plots.architectures.
"""

import inspect
import time

import pandas as pd
import streamlit as st
from torchvision.models.resnet import BasicBlock, Bottleneck

from pages import presenter
from pages.ui import current_seed, remember
from resnet_core import architectures as arch
from resnet_core.models import PadShortcut
from resnet_core.plots.architectures import (
    block_diagram_figure,
    params_where_figure,
    shortcut_gradient_figure,
    zoo_bubble_figure,
)

STRATEGY_TITLES = {
    "feature_extraction": "feature extraction (head only)",
    "partial_finetune": "partial fine-tuning (last stage + head)",
    "full_finetune": "full fine-tuning (everything)",
}


@st.cache_resource(show_spinner="Counting parameters and MACs of 13 networks (once per server)…")
def zoo_stats() -> tuple[list, float]:
    start = time.perf_counter()
    return arch.zoo(), time.perf_counter() - start


@st.cache_data(show_spinner=False)
def strategy_rows(source: str, k: int) -> list[dict]:
    return arch.strategy_counts(source, k)


@st.cache_data(show_spinner="Measuring gradient flow with shortcut A and B (a few seconds)…")
def shortcut_grads(depths: tuple[int, ...], seed: int) -> dict:
    return arch.shortcut_gradients(depths, seed=seed)


presenter.gate("architectures", "Architectures")
st.title("Architectures")
st.markdown(
    "What is inside VGG and the ResNets: how many parameters, how much compute per image, how deep, and where the "
    "cost sits. Every figure below is counted by the app from the real PyTorch modules (torchvision's "
    "constructors with `weights=None` and the lab's own nets), with PyTorch's `FlopCounterMode`; the ImageNet "
    "accuracies are torchvision's published figures for its `IMAGENET1K_V1` weights (metadata: nothing is downloaded)."
)
stats, seconds = zoo_stats()
by_name = {s.name: s for s in stats}

# ================================================================================================ zoo
st.header("The model zoo")
rows = [
    {
        "model": s.title,
        "input": "×".join(map(str, s.input_shape)),
        "parameters": s.params,
        "GMACs": s.macs / 1e9,
        "GFLOPs (2×MACs)": s.flops / 1e9,
        "activations (MB)": s.activation_mb,
        "depth": s.depth,
        "shortcut params": s.shortcut_params,
        "ImageNet top-1 (%)": s.imagenet_top1,
        "published GFLOPS": s.published_gflops,
        "weights (MB)": s.weights_mb,
    }
    for s in stats
]
st.dataframe(
    rows,
    hide_index=True,
    width="stretch",
    height=38 + 35 * len(rows),
    column_config={
        "parameters": st.column_config.NumberColumn(format="localized"),
        "GMACs": st.column_config.NumberColumn(format="%.3f"),
        "GFLOPs (2×MACs)": st.column_config.NumberColumn(format="%.3f"),
        "activations (MB)": st.column_config.NumberColumn(format="%.1f"),
        "shortcut params": st.column_config.NumberColumn(
            format="localized", help="parameters of projection shortcuts (1x1 conv + BN)"
        ),
        "ImageNet top-1 (%)": st.column_config.NumberColumn(format="%.1f"),
        "published GFLOPS": st.column_config.NumberColumn(
            help="torchvision's `_ops` metadata: these are MACs, compare with the GMACs column"
        ),
    },
)
st.caption(
    "MACs: multiply-accumulates of the conv and linear layers for one image (224×224 RGB for the ImageNet nets; the "
    "lab's nets at their native 28×28 grey Fashion-MNIST input, 10 classes). FLOPs = 2 × MACs; the often quoted "
    "“ResNet-50: 4.1 GFLOPs” is in fact MACs. Activations: float32 outputs of every layer for one image, which a "
    "training step keeps for the backward pass. Depth: conv + linear layers on the main path (projection shortcuts "
    f"not counted). Counted once per server process in {seconds:.1f} s."
)
left, right = st.columns([3, 2])
left.plotly_chart(zoo_bubble_figure(stats), width="stretch", key="arch-bubble")
compare = right.multiselect(
    "Compare where the parameters sit",
    list(by_name),
    default=["vgg16", "resnet50"],
    format_func=lambda n: by_name[n].title,
    **remember("arch-compare"),
)
if compare:
    chosen = [by_name[n] for n in compare]
    right.markdown(arch.describe_params(chosen))
    st.plotly_chart(params_where_figure(chosen), width="stretch", key="arch-where")

# ========================================================================================== layer table
st.header("Layer by layer")
net = st.selectbox(
    "Network",
    list(by_name),
    index=list(by_name).index("resnet50"),
    format_func=lambda n: by_name[n].title,
    **remember("arch-net"),
)
s = by_name[net]
table = [
    {
        "stage": r["stage"],
        "block / layer": r["block"],
        "kind": r["kind"],
        "downsamples": "↓ ½" if r["downsample"] else "",
        "output shape": "×".join(map(str, r["output_shape"])),
        "parameters": r["params"],
        "MMACs": r["macs"] / 1e6,
    }
    for r in s.layers
]
stage_index = {name: i for i, name in enumerate(dict.fromkeys(r["stage"] for r in table))}


def stage_shading(row):
    """Alternate shading per stage (boundaries show), downsampling rows in orange."""
    if row["downsamples"]:
        return ["background-color: #fde0c5"] * len(row)
    return ["background-color: #f0f4fa" if stage_index[row["stage"]] % 2 else ""] * len(row)


c1, c2 = st.columns([3, 2])
c1.dataframe(
    pd.DataFrame(table).style.apply(stage_shading, axis=1),
    hide_index=True,
    width="stretch",
    height=min(420, 36 + 35 * len(table)),
    column_config={
        "parameters": st.column_config.NumberColumn(format="localized"),
        "MMACs": st.column_config.NumberColumn(format="%.1f"),
    },
)
c2.dataframe(
    [
        {
            "stage": st_["name"],
            "rows": st_["units"],
            "output": "×".join(map(str, st_["output_shape"])),
            "parameters": st_["params"],
            "share of MACs": st_["macs"] / max(1, s.macs),
        }
        for st_ in s.stages
    ],
    hide_index=True,
    width="stretch",
    column_config={
        "parameters": st.column_config.NumberColumn(format="localized"),
        "share of MACs": st.column_config.NumberColumn(format="percent"),
    },
)
c2.caption(
    f"{s.title}: {s.params:,} parameters, {s.macs / 1e9:.3f} GMACs, depth {s.depth}. A ↓ ½ row halves the "
    "feature map (stride 2 or pooling); each new stage starts there, usually doubling the channels."
)

# ===================================================================================== basic vs bottleneck
st.header("Basic block vs bottleneck")
costs = arch.block_costs()
st.plotly_chart(block_diagram_figure(costs), width="stretch", key="arch-blocks")
st.markdown(arch.describe_blocks(costs))
with st.expander("The real code (torchvision's blocks)"):
    st.code(inspect.getsource(Bottleneck.forward), language="python")
    st.code(inspect.getsource(BasicBlock.forward), language="python")

# ================================================================================== downsampling shortcuts
st.header("Downsampling shortcuts: option A vs option B")
st.markdown(
    "Where a block halves the map and doubles the channels, x and F(x) no longer have the same shape. **Option A** "
    "keeps the shortcut parameter-free: take every second pixel and zero-pad the new channels. **Option B** "
    "learns a 1×1 convolution with stride 2 (plus BatchNorm). torchvision's ResNets use B; the lab's CIFAR nets "
    "use A, as He et al. did on CIFAR-10."
)
depth = st.radio(
    "Lab ResNet", [20, 56, 110], horizontal=True, **remember("arch-sc-depth"), format_func=lambda d: f"ResNet-{d}"
)
sc_rows = arch.shortcut_shapes(depth)
st.dataframe(
    [
        {
            "block": r["block"],
            "input": "×".join(map(str, r["input_shape"])),
            "output": "×".join(map(str, r["output_shape"])),
            "block params, A": r["params_A"],
            "block params, B": r["params_B"],
            "added by B": r["added_by_B"],
        }
        for r in sc_rows
    ],
    hide_index=True,
    width="stretch",
    column_config={
        c: st.column_config.NumberColumn(format="localized")
        for c in ("block params, A", "block params, B", "added by B")
    },
)
r50 = by_name["resnet50"]
st.caption(
    f"torchvision's ResNet-50 spends {r50.shortcut_params:,} parameters ({r50.shortcut_params / r50.params:.1%}) "
    "on its four projection shortcuts."
)
grads = None
if st.button(
    "Measure gradient flow with A and B",
    key="arch-sc-measure",
    help="Runs the Gradient flow experiment on residual nets of depth 20 and 56 at initialisation, same seed "
    "and batch, once with each option (a few seconds on a CPU; cached).",
):
    st.session_state["arch-sc-measured"] = True
if st.session_state.get("arch-sc-measured"):
    grads = shortcut_grads((20, 56), current_seed())
    st.plotly_chart(shortcut_gradient_figure(grads), width="stretch", key="arch-sc-grads")
st.markdown(arch.describe_shortcuts(sc_rows, grads))
with st.expander("The lab's option A, in code"):
    st.code(inspect.getsource(PadShortcut), language="python")

# ================================================================================ replace the last layer
st.header("Replace the last layer")
c1, c2 = st.columns(2)
sources = {
    "resnet20": "ResNet-20 (the Transfer page's shipped Fashion-MNIST source)",
    "resnet18": "ResNet-18 (ImageNet)",
    "resnet34": "ResNet-34 (ImageNet)",
    "resnet50": "ResNet-50 (ImageNet)",
    "vgg16": "VGG-16 (ImageNet)",
}
src = c1.selectbox("Pretrained network", list(sources), format_func=sources.get, **remember("arch-src"))
k = int(c2.number_input("Classes in the new task (k)", 2, 1000, 4, **remember("arch-k")))
c1.code(f"import torch.nn as nn\n\n{arch.head_code(src, k)}", language="python")
if src == "vgg16":
    c2.info(
        "The Transfer page trains ResNets only; VGG-16's new head alone would have "
        f"{4096 * k + k:,} trainable parameters."
    )
else:
    rows = strategy_rows("fashion" if src == "resnet20" else src, k)
    c2.dataframe(
        [
            {
                "strategy": STRATEGY_TITLES[r["strategy"]],
                "trainable": r["trainable"],
                "frozen": r["frozen"],
                "trainable share": 100 * r["trainable"] / r["total"],
            }
            for r in rows
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "trainable": st.column_config.NumberColumn(format="localized"),
            "frozen": st.column_config.NumberColumn(format="localized"),
            "trainable share": st.column_config.NumberColumn(format="%.1f %%"),
        },
    )
    c2.caption(
        "Counted by the Transfer page's own `configure_strategy` on the model it trains (the new head has "
        "k outputs); these are the numbers in its results table."
    )
