"""Block ablation: delete and reorder blocks of trained residual and plain networks (Veit et al. 2016)."""

import streamlit as st

from lab_pages import presenter
from lab_pages.charts import chart
from lab_pages.run_panel import job_panel, show_estimate
from lab_pages.runs import attach_existing, launch, request_run, result_so_far
from lab_pages.ui import (
    current_device,
    current_seed,
    download_buttons,
    made_by,
    profile,
    read_result,
    remember,
    require_data,
)
from resnet_core.ablation import report as ablation_report
from resnet_core.ablation.config import AblationConfig
from resnet_core.ablation.lesions import BN_STATS, path_length_distribution
from resnet_core.ablation.pair import pair_hash, shipped_depths, train_pair
from resnet_core.ablation.plots import delete_k_figure, delete_one_figure, paths_figure, reorder_figure
from resnet_core.ablation.result import AblationResult, shipped_result_path
from resnet_core.checkpoints import shipped_checkpoints
from resnet_core.data.datasets import REPO_ROOT
from resnet_core.i18n import N_
from resnet_core.i18n import gettext as _
from resnet_core.models import blocks_per_stage
from resnet_core.serving import workloads
from resnet_core.training.plots import training_curve

SWEEP_KEY = "ablation-sweep"
TRAIN_KEY = "ablation-train"
TEST_SIZES = [100, 200, 300, 500, 1000, 2000, 3000]
BN_TITLES = {"raw": N_("raw BatchNorm statistics"), "recompute": N_("re-estimated BatchNorm statistics")}

presenter.gate("block_ablation", _("Block ablation"))
st.title(_("Block ablation"))
require_data("bundled")
st.markdown(
    _(
        "Veit, Wilber & Belongie (2016) deleted blocks from *trained* networks at test time. Removing one block from a "
        "ResNet barely changed its error, and the error grew smoothly as more blocks went; removing one layer of a plain "
        "network was catastrophic. Their reading: a ResNet of n blocks behaves like an ensemble of its 2ⁿ paths, most of "
        "them of moderate length, not like one deep chain. Here you repeat the lesion study on this lab's own networks. "
        "Deleting a residual block leaves its shortcut (`y = x`; a downsampling block keeps its subsample-and-pad); "
        "deleting a plain block leaves nothing, which is only possible where its input and output shapes match."
    )
)

source = st.radio(
    _("Networks"),
    [N_("Shipped checkpoints"), N_("Train your own small pair")],
    horizontal=True,
    **remember("ablation-source", [N_("Shipped checkpoints"), N_("Train your own small pair")]),
    format_func=_,
)
models = None
depth = None


def model_title(name: str) -> str:
    """A shipped checkpoint's name as a reader knows the net: resnet56 -> ResNet-56, plain56 -> plain-56."""
    for prefix, title in (("resnet", "ResNet-{d}"), ("plain", "plain-{d}")):
        if name.startswith(prefix) and name[len(prefix) :].isdigit():
            return title.format(d=name[len(prefix) :])
    return name


if source == "Shipped checkpoints":
    shipped = shipped_depths()
    depths = {d: v for d, v in shipped.items() if len(v) == 2}  # a residual and a plain net of that depth
    incomplete = sorted(set(shipped) - set(depths))
    if incomplete:
        st.caption(
            _("Depth {depths}: only one of the pair is shipped, so it is not offered.").format(
                depths=", ".join(map(str, incomplete))
            )
        )
    if not depths:
        st.info(
            _(
                "No shipped checkpoints here yet. Train them with `python -m resnet_core train --depth 56 "
                "[--plain] --dataset fashion --out assets/checkpoints/resnet56.pt --manifest`, or train your own "
                "small pair on this page."
            )
        )
    else:
        depth = st.selectbox(
            _("Depth"),
            list(depths),
            index=len(depths) - 1,
            **remember("ablation-depth", list(depths), default=(list(depths))[len(depths) - 1]),
            format_func=lambda d: _("{depth} layers ({blocks} blocks)").format(depth=d, blocks=3 * blocks_per_stage(d)),
        )
        entries = shipped_checkpoints()
        cols = st.columns(2)
        for col, kind in zip(cols, ("residual", "plain")):
            name = depths[depth].get(kind)
            if name is None:
                col.warning(_("No shipped {kind} net of depth {depth}.").format(kind=_(kind), depth=depth))
                continue
            e = entries[name]
            col.metric(
                _("{net}: test accuracy when trained").format(net=model_title(name)),
                f"{e.get('test_acc', 0):.2%}",
                help=_(
                    "Test accuracy on {data}, recorded when it was trained ({images} training images, {device}, "
                    "{date})."
                ).format(
                    data=e.get("test_data", "?"),
                    images=e.get("train_images", "?"),
                    device=e.get("device", "?"),
                    date=e.get("date", "?"),
                ),
            )
        scored = read_result(shipped_result_path(int(depth), "raw"))
        if scored and name is not None:
            st.caption(
                _(
                    "These are on {data}, measured when the nets were trained. The ablation below scores every "
                    'lesion on {n:,} bundled test images, so its "intact" accuracy differs from these by chance '
                    "(a different test set)."
                ).format(data=entries[name].get("test_data", "?"), n=int(scored.get("test_size", 0)))
            )
else:
    st.markdown(
        _(
            "Train a small residual and plain net (same seed, same images from the bundled subset) as a "
            "background job, then ablate them below."
        )
    )
    c1, c2, c3 = st.columns(3)
    own_depth = c1.selectbox(_("Depth"), [8, 14, 20], index=1, **remember("ablation-own-depth"))
    own_epochs = c2.number_input(_("Epochs"), 1, min(10, profile().max_epochs), 2, **remember("ablation-own-epochs"))
    own_images = c3.select_slider(
        _("Training images"),
        [n for n in (1000, 2000, 5000, 10000) if n <= profile().max_train_images],
        value=2000,
        **remember("ablation-own-images"),
    )
    if st.button(_("Train the pair"), key="ablation-train-button"):
        device, seed = current_device(), current_seed()

        def train_work(job):
            return train_pair(
                int(own_depth),
                device=device,
                epochs=int(own_epochs),
                train_size=int(own_images),
                seed=seed,
                on_progress=job.report,
                should_stop=job.should_stop,
            )

        launch(
            TRAIN_KEY, train_work, title=_("ResNet-{depth} and plain-{depth}").format(depth=own_depth), training=True
        )

    def render_train(job) -> None:
        _state, events, _partial = job.snapshot()
        if events:
            chart(training_curve(events, title=_("Training loss (residual, then plain)")))

    train_job = job_panel(TRAIN_KEY, render_train)
    if train_job is not None and not train_job.active and train_job.result:
        models = train_job.result
        depth = next(iter(models.values())).config.depth
        st.success(_("Ready to ablate: {nets}.").format(nets=", ".join(m.config.name for m in models.values())))
    else:
        st.caption(_("Train a pair first; its ablation runs below."))


def show_result(res: AblationResult, *, name: str, partial: bool = False) -> None:
    """Headline (none while partial), summary table and the three views of one ablation result."""
    st.markdown(ablation_report.headline(res))
    rows = ablation_report.summary_rows(res)
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        column_config={
            k: st.column_config.NumberColumn(_(k), format="%.1f") if "%" in k or "SE" in k else _(k) for k in rows[0]
        }
        if rows
        else None,
    )
    tabs = st.tabs([_("Delete one"), _("Delete k"), _("Reorder")])
    with tabs[0]:
        chart(delete_one_figure(res), key=f"fig-one-{name}")
        st.caption(
            _(
                "Dashed: intact accuracy; dotted: chance. Purple bars: downsampling blocks (a residual one keeps "
                "its subsample-and-pad shortcut). x: a plain block that changes the tensor shape cannot be "
                "deleted (no accuracy)."
            )
        )
    with tabs[1]:
        if any(m.delete_k for m in res.models.values()):
            chart(delete_k_figure(res), key=f"fig-k-{name}")
            st.caption(
                _(
                    "The same random subsets of shape-keeping blocks are deleted from both nets; band: ± one "
                    "standard deviation over the subsets."
                )
            )
        else:
            st.caption(_("No delete-k results yet.") if partial else _("Delete k was not run."))
    with tabs[2]:
        if any(m.reorder for m in res.models.values()):
            chart(reorder_figure(res), key=f"fig-r-{name}")
            st.caption(_("Each swap exchanges two blocks of the same stage (same width, neither downsampling)."))
        else:
            st.caption(_("No reorder results yet.") if partial else _("Reorder was not run for this result."))


# ------------------------------------------------------------------------------------------ shipped results
if source == "Shipped checkpoints" and depth is not None:
    shipped_results = {}
    for bn in BN_STATS:
        payload = read_result(shipped_result_path(int(depth), bn))
        shipped_results[bn] = AblationResult.from_dict(payload) if payload else None
    if any(shipped_results.values()):
        st.subheader(_("Shipped result"))
        st.markdown(_(ablation_report.BN_EXPLANATION))
        for bn in BN_STATS:  # one after the other at full width: each figure has a residual and a plain panel
            res = shipped_results[bn]
            st.markdown("#### " + (_("Raw statistics (as trained)") if bn == "raw" else _("Re-estimated statistics")))
            if res is None:
                st.caption(
                    _("Not shipped: {command}").format(
                        command=f"`python -m resnet_core ablation --depth {depth} --bn {bn} --test-size 3000 --trials "
                        f"10 --json {shipped_result_path(int(depth), bn).relative_to(REPO_ROOT)}`"
                    )
                )
                continue
            st.markdown(ablation_report.headline(res))
            chart(delete_one_figure(res), key=f"fig-ship-one-{bn}")
        view_bn = st.radio(
            _("Details for"),
            [bn for bn in BN_STATS if shipped_results[bn]],
            horizontal=True,
            **remember("ablation-ship-bn", [bn for bn in BN_STATS if shipped_results[bn]]),
            format_func=lambda bn: _(BN_TITLES[bn]),
        )
        res = shipped_results[view_bn]
        with st.expander(_("Summary, delete k and reorder"), expanded=False):
            show_result(res, name=f"ship-{view_bn}")
            details = _("{n} evaluations, {minutes:.0f} min.").format(n=res.evaluations, minutes=res.seconds / 60)
            st.caption(made_by(res.provenance, details))

# ---------------------------------------------------------------------------------------------- live runs
st.subheader(_("Run it live"))
c1, c2, c3, c4 = st.columns(4)
mode = c1.radio(
    _("Sweep"),
    ["quick", "full"],
    **remember("ablation-mode", ["quick", "full"]),
    format_func={"quick": _("Quick: delete one block"), "full": _("Full: delete one, delete k, reorder")}.get,
)
bn_stats = c2.radio(
    _("BatchNorm statistics"),
    list(BN_STATS),
    **remember("ablation-bn", list(BN_STATS)),
    format_func=lambda bn: _(BN_TITLES[bn]),
    help=_(
        "Raw: the statistics stored at training time (as Veit et al.). Re-estimated: recomputed on "
        "1,000 training images for each lesioned net (slower: one extra pass per lesion)."
    ),
)
test_size = c3.select_slider(
    _("Test images"),
    [n for n in TEST_SIZES if n <= 10 * profile().max_test_per_class],
    value=300,
    **remember("ablation-test-size"),
    help=_(
        "A stratified subset of the 3,000 bundled test images: at 300 images each accuracy "
        "is ±~1.8 points (one standard error at 90%)."
    ),
)
trials = c4.number_input(
    _("Trials per point"),
    1,
    20,
    10,
    **remember("ablation-trials"),
    disabled=mode == "quick",
    help=_("Random subsets per k (delete k) and random swap sets per count (reorder)."),
)

can_run = depth is not None
full = mode == "full"
config = (
    AblationConfig(
        depth=int(depth),
        test_size=int(test_size),
        trials=int(trials),
        delete_k=full,
        reorder=full,
        seed=current_seed(),
        bn_stats=bn_stats,
    )
    if can_run
    else None
)
sweep_estimate = (
    show_estimate(workloads.ablation(config, test_images=int(test_size)), current_device()) if config else None
)
# A pair trained here is an input of the run, named by its weights' hash; the shipped pair is in the config.
run_inputs = {"models": models} if models else {}
input_keys = {"models": pair_hash(models)} if models else {}
sweep_title = _("Ablation, depth {depth}, {n} test images, {bn}").format(
    depth=depth, n=test_size, bn=_(BN_TITLES[bn_stats])
)
sweep_run = dict(inputs=run_inputs, input_keys=input_keys, title=sweep_title, estimate=sweep_estimate)
if st.button(_("Run the ablation"), type="primary", disabled=not can_run, key="ablation-run"):
    request_run(SWEEP_KEY, "ablation", config, **sweep_run)
attach_existing(SWEEP_KEY, "ablation", config, **sweep_run)


def render_sweep(job) -> None:
    res: AblationResult | None = result_so_far(job)
    if res is None:
        return
    st.caption(
        _("{n:,} {data} images · {bn} · {evaluations} evaluations · {seconds:.1f}s · device: {device}").format(
            n=res.test_size,
            data=res.test_data,
            bn=_(BN_TITLES.get(res.bn_stats, "")),
            evaluations=res.evaluations,
            seconds=res.seconds,
            device=res.provenance.get("device", "?"),
        )
    )
    show_result(res, name=f"live-{job.id}", partial=job.result is None)
    if job.result is not None:
        rows = [
            {"net": m.name, "experiment": "delete_one", "x": r["block"], "acc": r["acc"]}
            for m in res.models.values()
            for r in m.delete_one
        ]
        rows += [
            {"net": m.name, "experiment": "delete_k", "x": r["k"], "acc": r["mean_acc"], "std": r["std_acc"]}
            for m in res.models.values()
            for r in m.delete_k
        ]
        rows += [
            {"net": m.name, "experiment": "reorder", "x": r["swaps"], "acc": r["mean_acc"], "std": r["std_acc"]}
            for m in res.models.values()
            for r in m.reorder
        ]
        download_buttons(res.to_dict(), name=f"ablation-depth{res.config.get('depth')}-{res.bn_stats}", csv_rows=rows)


sweep_job = job_panel(SWEEP_KEY, render_sweep)

st.subheader(_("Paths view"))
if depth is None:
    st.caption(_("Pick or train a pair to see its paths."))
else:
    n = 3 * blocks_per_stage(int(depth))
    d = path_length_distribution(n)
    lo, hi = d["central95"]
    left, right = st.columns([3, 2])
    chart(paths_figure(n, name=f"ResNet-{depth}"), container=left)
    text = _(
        "ResNet-{depth} has **{n} residual blocks**. At every block a path either goes through the two convs or "
        "takes the shortcut, so there are 2^{n} = **{paths:,} paths** from input to output. Their lengths follow a "
        "binomial distribution: the mean path goes through {mean:.1f} blocks, {mass:.0%} of them through between "
        "{lo} and {hi}, and exactly one path through all {n} — the only path a plain-{depth} net has. Deleting one "
        "block removes the half of the paths that go through it and leaves {half:,} intact; deleting k leaves "
        "2^({n}−k)."
    ).format(
        depth=depth,
        n=n,
        paths=d["n_paths"],
        mean=d["mean_length"],
        mass=d["central95_mass"],
        lo=lo,
        hi=hi,
        half=2 ** (n - 1),
    )
    right.markdown(text)
