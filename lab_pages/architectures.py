"""Architectures: VGG vs ResNet-18…152 and the lab's nets, basic vs bottleneck blocks, downsampling shortcuts,
replacing the last layer.

Thin page: every number comes from resnet_core.architectures (counted on the real modules, on the meta device,
once per server process) and every figure from resnet_core.architectures.plots.
"""

import dataclasses
import inspect

import pandas as pd
import streamlit as st
from torchvision.models.resnet import BasicBlock, Bottleneck

from lab_pages import presenter
from lab_pages.charts import chart
from lab_pages.run_panel import job_panel, show_estimate
from lab_pages.runs import attach_existing, request_run
from lab_pages.ui import column_labels, current_device, current_seed, remember, tabs
from resnet_core import architectures as arch
from resnet_core.architectures.plots import (
    block_diagram_figure,
    params_where_figure,
    shortcut_gradient_figure,
    zoo_bubble_figure,
)
from resnet_core.i18n import N_
from resnet_core.i18n import gettext as _
from resnet_core.models import PadShortcut
from resnet_core.serving import workloads

STRATEGY_SHORT = {
    "feature_extraction": N_("feature extraction (head only)"),
    "partial_finetune": N_("partial fine-tuning (last stage + head)"),
    "full_finetune": N_("full fine-tuning (everything)"),
}


@st.cache_resource(show_spinner=_("Counting parameters and MACs of 13 networks (once per server)…"))
def zoo_stats() -> tuple[list, float]:
    from resnet_core.architectures.zoo import ZOO_SECONDS

    stats = arch.zoo()  # counted at server start-up (resnet_core.architectures.zoo.warm_up), else now
    return stats, ZOO_SECONDS.get("all", 0.0)


@st.cache_data(show_spinner=False)
def strategy_rows(source: str, k: int) -> list[dict]:
    return arch.strategy_counts(source, k)


presenter.gate("architectures", _("Architectures"))
st.title(_("Architectures"))
st.markdown(
    _(
        "What is inside VGG and the ResNets: how many parameters, how much compute per image, how deep, and where the "
        "cost sits. Every figure below is counted by the app from the real PyTorch modules (torchvision's "
        "constructors with `weights=None` and the lab's own nets), by forward hooks on every convolution and linear "
        "layer during one forward pass; the ImageNet accuracies are torchvision's published figures for its "
        "`IMAGENET1K_V1` weights (metadata: nothing is downloaded)."
    )
)
stats, seconds = zoo_stats()
by_name = {s.name: s for s in stats}

tab_zoo, tab_layers, tab_blocks, tab_head = tabs(
    {
        "zoo": _("The model zoo"),
        "layers": _("Layer by layer"),
        "blocks": _("Blocks and shortcuts"),
        "head": _("Replace the last layer"),
    },
    key="arch-section",
)
with tab_zoo:
    # ================================================================================================ zoo
    st.header(_("The model zoo"))
    rows = [
        {
            N_("model"): s.title,
            N_("input"): "×".join(map(str, s.input_shape)),
            N_("parameters"): s.params,
            N_("GMACs"): s.macs / 1e9,
            N_("GFLOPs (2×MACs)"): s.flops / 1e9,
            N_("activations (MB)"): s.activation_mb,
            N_("depth"): s.depth,
            N_("shortcut params"): s.shortcut_params,
            N_("ImageNet top-1 (%)"): s.imagenet_top1,
            N_("published GFLOPS"): s.published_gflops,
            N_("weights (MB)"): s.weights_mb,
        }
        for s in stats
    ]
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        height=38 + 35 * len(rows),
        placeholder="—",  # the lab's nets have no ImageNet figures
        column_config=column_labels(
            rows[0],
            {
                N_("parameters"): st.column_config.NumberColumn(format="localized"),
                N_("GMACs"): st.column_config.NumberColumn(format="%.3f"),
                N_("GFLOPs (2×MACs)"): st.column_config.NumberColumn(format="%.3f"),
                N_("activations (MB)"): st.column_config.NumberColumn(format="%.1f"),
                N_("shortcut params"): st.column_config.NumberColumn(
                    format="localized", help=_("parameters of projection shortcuts (1x1 conv + BN)")
                ),
                N_("ImageNet top-1 (%)"): st.column_config.NumberColumn(format="%.1f"),
                N_("published GFLOPS"): st.column_config.NumberColumn(
                    help=_("torchvision's `_ops` metadata: these are MACs, compare with the GMACs column")
                ),
            },
        ),
    )
    st.caption(
        _(
            "MACs: multiply-accumulates of the conv and linear layers for one image (224×224 RGB for the ImageNet nets; "
            "the lab's nets at their native 28×28 grey Fashion-MNIST input, 10 classes). FLOPs = 2 × MACs; the often "
            "quoted “ResNet-50: 4.1 GFLOPs” is in fact MACs. Activations: float32 outputs of every layer for one image, "
            "which a training step keeps for the backward pass. Depth: conv + linear layers on the main path "
            "(projection shortcuts not counted). Counted once per server process in {seconds:.1f} s."
        ).format(seconds=seconds)
    )
    left, right = st.columns([3, 2])
    chart(zoo_bubble_figure(stats), key="arch-bubble", container=left)
    compare = right.multiselect(
        _("Compare where the parameters sit"),
        list(by_name),
        default=["vgg16", "resnet50"],
        format_func=lambda n: by_name[n].title,
        **remember("arch-compare", list(by_name), default=["vgg16", "resnet50"]),
    )
    if compare:
        chosen = [by_name[n] for n in compare]
        right.markdown(arch.describe_params(chosen))
        chart(params_where_figure(chosen), key="arch-where")

with tab_layers:
    # ========================================================================================== layer table
    st.header(_("Layer by layer"))
    net = st.selectbox(
        _("Network"),
        list(by_name),
        index=list(by_name).index("resnet50"),
        format_func=lambda n: by_name[n].title,
        **remember("arch-net", list(by_name), default=(list(by_name))[list(by_name).index("resnet50")]),
    )
    s = by_name[net]
    table = [
        {
            N_("stage"): r["stage"],
            N_("block / layer"): r["block"],
            N_("kind"): r["kind"],
            N_("downsamples"): "↓ ½" if r["downsample"] else "",
            N_("output shape"): "×".join(map(str, r["output_shape"])),
            N_("parameters"): r["params"],
            N_("MMACs"): r["macs"] / 1e6,
        }
        for r in s.layers
    ]
    stage_index = {name: i for i, name in enumerate(dict.fromkeys(r["stage"] for r in table))}

    def stage_shading(row):
        """Alternate shading per stage (boundaries show), downsampling rows in orange."""
        if row["downsamples"]:
            return ["background-color: #fde0c5"] * len(row)
        return ["background-color: #f0f4fa" if stage_index[row["stage"]] % 2 else ""] * len(row)

    # One table under the other: side by side, both were cut off at 1280 px.
    st.dataframe(
        pd.DataFrame(table).style.apply(stage_shading, axis=1),
        hide_index=True,
        width="stretch",
        height=min(420, 36 + 35 * len(table)),
        column_config=column_labels(
            table[0],
            {
                N_("parameters"): st.column_config.NumberColumn(format="localized"),
                N_("MMACs"): st.column_config.NumberColumn(format="%.1f"),
            },
        ),
    )
    st.dataframe(
        [
            {
                N_("stage"): st_["name"],
                N_("rows"): st_["units"],
                N_("output"): "×".join(map(str, st_["output_shape"])),
                N_("parameters"): st_["params"],
                N_("share of MACs"): st_["macs"] / max(1, s.macs),
            }
            for st_ in s.stages
        ],
        hide_index=True,
        width="stretch",
        column_config=column_labels(
            ("stage", "rows", "output", "parameters", "share of MACs"),
            {
                N_("parameters"): st.column_config.NumberColumn(format="localized"),
                N_("share of MACs"): st.column_config.NumberColumn(format="percent"),
            },
        ),
    )
    st.caption(
        _(
            "{title}: {params:,} parameters, {gmacs:.3f} GMACs, depth {depth}. A ↓ ½ row halves the feature map "
            "(stride 2 or pooling); each new stage starts there, usually doubling the channels."
        ).format(title=s.title, params=s.params, gmacs=s.macs / 1e9, depth=s.depth)
    )

with tab_blocks:
    # ===================================================================================== basic vs bottleneck
    st.header(_("Basic block vs bottleneck"))
    costs = arch.block_costs()
    chart(block_diagram_figure(costs), key="arch-blocks")
    st.markdown(arch.describe_blocks(costs))
    with st.expander(_("The real code (torchvision's blocks)")):
        st.code(inspect.getsource(Bottleneck.forward), language="python")
        st.code(inspect.getsource(BasicBlock.forward), language="python")

with tab_blocks:
    # ================================================================================== downsampling shortcuts
    st.header(_("Downsampling shortcuts: option A vs option B"))
    st.markdown(
        _(
            "Where a block halves the map and doubles the channels, x and F(x) no longer have the same shape. **Option A** "
            "keeps the shortcut parameter-free: take every second pixel and zero-pad the new channels. **Option B** "
            "learns a 1×1 convolution with stride 2 (plus BatchNorm). torchvision's ResNets use B; the lab's CIFAR nets "
            "use A, as He et al. did on CIFAR-10."
        )
    )
    depth = st.radio(
        _("Lab ResNet"),
        [20, 56, 110],
        horizontal=True,
        **remember("arch-sc-depth", [20, 56, 110]),
        format_func=lambda d: f"ResNet-{d}",
    )
    sc_rows = arch.shortcut_shapes(depth)
    st.dataframe(
        [
            {
                N_("block"): r["block"],
                N_("input"): "×".join(map(str, r["input_shape"])),
                N_("output"): "×".join(map(str, r["output_shape"])),
                N_("block params, A"): r["params_A"],
                N_("block params, B"): r["params_B"],
                N_("added by B"): r["added_by_B"],
            }
            for r in sc_rows
        ],
        hide_index=True,
        width="stretch",
        column_config=column_labels(
            ("block", "input", "output", "block params, A", "block params, B", "added by B"),
            {
                c: st.column_config.NumberColumn(format="localized")
                for c in ("block params, A", "block params, B", "added by B")
            },
        ),
    )
    r50 = by_name["resnet50"]
    st.caption(
        _("torchvision's ResNet-50 spends {n:,} parameters ({share:.1%}) on its four projection shortcuts.").format(
            n=r50.shortcut_params, share=r50.shortcut_params / r50.params
        )
    )
    sc_configs = arch.shortcut_configs((20, 56), seed=current_seed())
    sc_work = [workloads.gradients(config) for config in sc_configs.values()]
    sc_estimate = show_estimate(
        dataclasses.replace(
            sc_work[0],
            train_macs=sum(w.train_macs for w in sc_work),
            eval_macs=sum(w.eval_macs for w in sc_work),
            nets=sum(w.nets for w in sc_work),
        ),
        current_device(),
    )
    sc_title = {opt: _("Gradient flow with shortcut option {option}").format(option=opt) for opt in sc_configs}
    if st.button(
        _("Measure gradient flow with A and B"),
        key="arch-sc-measure",
        help=_(
            "Runs the Gradient flow experiment on residual nets of depth 20 and 56 at initialisation, same seed "
            "and batch, once with each option: two runs of that experiment, each with its Stop."
        ),
    ):
        for opt, config in sc_configs.items():
            request_run(f"arch-sc-{opt}", "gradients", config, title=sc_title[opt], estimate=sc_estimate)
    for opt, config in sc_configs.items():
        attach_existing(f"arch-sc-{opt}", "gradients", config, title=sc_title[opt], estimate=sc_estimate)
        job_panel(f"arch-sc-{opt}", lambda job: None)
    finished = {opt: st.session_state.get(f"arch-sc-{opt}") for opt in sc_configs}
    grads = (
        {opt: job.result.to_dict() for opt, job in finished.items()}
        if all(job is not None and job.result is not None and job.result.status == "done" for job in finished.values())
        else None
    )
    if grads:
        chart(shortcut_gradient_figure(grads), key="arch-sc-grads")
    st.markdown(arch.describe_shortcuts(sc_rows, grads))
    with st.expander(_("The lab's option A, in code")):
        st.code(inspect.getsource(PadShortcut), language="python")

with tab_head:
    # ================================================================================ replace the last layer
    st.header(_("Replace the last layer"))
    c1, c2 = st.columns(2)
    sources = {
        "resnet20": _("ResNet-20 (the Transfer page's shipped Fashion-MNIST source)"),
        "resnet18": "ResNet-18 (ImageNet)",
        "resnet34": "ResNet-34 (ImageNet)",
        "resnet50": "ResNet-50 (ImageNet)",
        "vgg16": "VGG-16 (ImageNet)",
    }
    src = c1.selectbox(
        _("Pretrained network"), list(sources), format_func=sources.get, **remember("arch-src", list(sources))
    )
    k = int(c2.number_input(_("Classes in the new task (k)"), 2, 1000, 4, **remember("arch-k")))
    c1.code(f"import torch.nn as nn\n\n{arch.head_code(src, k)}", language="python")
    if src == "vgg16":
        c2.info(
            _(
                "The Transfer page trains ResNets only; VGG-16's new head alone would have {n:,} trainable parameters."
            ).format(n=4096 * k + k)
        )
    else:
        rows = strategy_rows("fashion" if src == "resnet20" else src, k)
        c2.dataframe(
            [
                {
                    N_("strategy"): _(STRATEGY_SHORT[r["strategy"]]),
                    N_("trainable"): r["trainable"],
                    N_("frozen"): r["frozen"],
                    N_("trainable share"): 100 * r["trainable"] / r["total"],
                }
                for r in rows
            ],
            hide_index=True,
            width="stretch",
            column_config=column_labels(
                ("strategy", "trainable", "frozen", "trainable share"),
                {
                    N_("trainable"): st.column_config.NumberColumn(format="localized"),
                    N_("frozen"): st.column_config.NumberColumn(format="localized"),
                    N_("trainable share"): st.column_config.NumberColumn(format="%.1f %%"),
                },
            ),
        )
        c2.caption(
            _(
                "Counted by the Transfer page's own code, on the model it trains, for each strategy (the new head has "
                "k outputs); these are the numbers in its results table."
            )
        )
