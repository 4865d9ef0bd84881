"""Gradient flow: gradient norms by depth in plain vs residual nets, and the degradation problem.

Thin page: widgets -> a config -> a background job running resnet_core.gradients -> pure plot builders.
Shipped results (made by `python -m resnet_core gradients|degradation`) are shown at once; everything else is
measured live.
"""

import streamlit as st

from lab_pages import presenter
from lab_pages.ui import (
    current_device,
    current_seed,
    download_buttons,
    job_panel,
    launch,
    profile,
    read_result,
    remember,
    require_data,
    show_estimate,
)
from resnet_core import workloads
from resnet_core.data import REPO_ROOT, dataset_status
from resnet_core.degradation import DegradationConfig, DegradationResult, run_degradation
from resnet_core.gradients import GradientConfig, GradientResult, run_gradients
from resnet_core.i18n import gettext as _
from resnet_core.jobs import JobState
from resnet_core.plots.gradients import (
    GRADIENT_METRICS,
    budget_text,
    degradation_figure,
    degradation_live_figure,
    degradation_table,
    gradient_norms_figure,
    gradient_table,
    ratio_figure,
    setting_text,
)
from resnet_core.reports import degradation as degradation_report
from resnet_core.reports import gradients as gradients_report

RESULTS = REPO_ROOT / "assets" / "results"
DEPTH_CHOICES = [d for d in (8, 14, 20, 26, 32, 44, 56, 110) if d <= profile().max_depth]
GRAD_JOB, DEG_JOB = "gf-gradients-job", "gf-degradation-job"


def shipped(name: str) -> dict | None:
    return read_result(RESULTS / name)


def provenance_caption(payload: dict) -> str:
    prov = payload.get("provenance") or {}
    if not prov:
        return ""
    return _("Made by `{command}` on {device}, {date}, git {revision}.").format(
        command=prov.get("command", "?"),
        device=prov.get("device", "?"),
        date=prov.get("date", "?"),
        revision=str(prov.get("git_revision", "?"))[:12],
    )


device = current_device()
on_cpu = device.type == "cpu"

presenter.gate("gradient_flow", _("Gradient flow"))
st.title(_("Gradient flow"))
require_data("bundled")
st.markdown(
    _(
        "How big is the gradient that reaches each layer, and does it depend on the skip connections? Below, the same "
        "CIFAR-style nets (depth 6n+2; plain and residual share every weight shape and the same initial weights) are "
        "measured on a real batch of Fashion-MNIST images. Then the **degradation problem**: deeper plain nets can "
        "train *worse* than shallower ones, residual nets do not (He et al. 2016, Fig. 1 and 6)."
    )
)

tab_grad, tab_deg = st.tabs([_("Gradient norms by depth"), _("Degradation problem")], key="gf-tab", bind="query-params")

# ============================================================================================ gradients
with tab_grad:
    with st.form("gf-grad-form"):
        c1, c2, c3 = st.columns([3, 2, 2])
        depths = c1.multiselect(
            _("Depths (6n+2)"),
            DEPTH_CHOICES,
            default=[d for d in (8, 20, 56, 110) if d in DEPTH_CHOICES],
            **remember("gf-depths"),
        )
        variants = c1.multiselect(
            _("Variants"),
            ["plain", "residual"],
            default=["plain", "residual"],
            **remember("gf-variants"),
            format_func=_,
        )
        norm = c2.radio(
            _("Normalisation"),
            ["batch", "none"],
            horizontal=True,
            **remember("gf-norm"),
            format_func={"batch": _("BatchNorm"), "none": _("none")}.get,
        )
        activation = c2.selectbox(_("Activation"), ["relu", "tanh", "sigmoid"], **remember("gf-activation"))
        shortcut = c2.selectbox(
            _("Shortcut on downsampling blocks"),
            ["A", "B"],
            **remember("gf-shortcut"),
            format_func={"A": _("A: identity + zero padding"), "B": _("B: 1×1 projection")}.get,
        )
        batch_size = c3.select_slider(_("Batch size"), [16, 32, 64, 128, 256], value=64, **remember("gf-batch"))
        seed_options = [n for n in (1, 2, 3, 5) if n <= profile().max_seeds]
        n_seeds = c3.select_slider(
            _("Seeds"),
            seed_options,
            value=min(3, seed_options[-1]),
            **remember("gf-seeds"),
            help=_(
                "Each seed draws other initial weights and another batch; the plots show the "
                "range over seeds and a claim is made only when every seed agrees."
            ),
        )
        steps = c3.number_input(
            _("After N training steps (0 = at initialisation)"),
            0,
            500,
            0,
            **remember("gf-steps"),
            help=_(
                "Trains each net for N steps of the default recipe on the bundled data "
                "before measuring. On a CPU, deep nets take ~1 s per step."
            ),
        )
        measure = st.form_submit_button(_("Measure"), type="primary")
    st.caption(
        _(
            "Seeds from {seed} (sidebar) up: within a seed, plain and residual nets start from identical "
            "main-path conv weights (option B's projection convs are extra) and see the same batch of images."
        ).format(seed=current_seed())
    )

    config = (
        GradientConfig(
            depths=sorted(depths),
            variants=variants,
            norm=norm,
            activation=activation,
            shortcut=shortcut,
            batch_size=int(batch_size),
            train_steps=int(steps),
            seeds=list(range(current_seed(), current_seed() + int(n_seeds))),
        )
        if depths and variants
        else None
    )
    grad_estimate = show_estimate(workloads.gradients(config), device) if config is not None else None
    if measure:
        if config is None:
            st.warning(_("Choose at least one depth and one variant."))
        else:

            def gradient_work(job, config=config, device=device):
                return run_gradients(
                    config,
                    device=device,
                    on_progress=job.report,
                    should_stop=job.should_stop,
                    on_partial=lambda r: job.publish(r.to_dict()),
                )

            launch(
                GRAD_JOB,
                gradient_work,
                title=_("Gradient norms, depths {depths}").format(depths=", ".join(map(str, sorted(depths)))),
                estimate=grad_estimate,
            )
            st.session_state["gf-view"] = "live"  # show the new run; the shipped result stays one click away

    metric = st.radio(
        _("Plot"),
        list(GRADIENT_METRICS),
        horizontal=True,
        **remember("gf-metric"),
        format_func=lambda m: _(GRADIENT_METRICS[m][1]),
    )

    def show_gradients(payload: dict, *, name: str) -> None:
        result = GradientResult.from_dict(payload)
        if not result.runs:
            return
        st.markdown(
            _("*Measured {setting}.*").format(setting=setting_text(result.config))
            + " "
            + gradients_report.headline(result)
        )
        if result.complete:
            with st.expander(_("Every depth")):
                st.markdown("\n".join(f"- {line}" for line in gradients_report.depth_lines(result)))
        st.plotly_chart(gradient_norms_figure(result, metric), width="stretch", key=f"{name}-norms")
        st.plotly_chart(ratio_figure(result), width="stretch", key=f"{name}-ratio")
        with st.expander(_("Every run (net and seed)")):
            rows = gradient_table(result)
            st.dataframe(rows, hide_index=True, width="stretch")
            download_buttons(result.to_dict(), name=name, csv_rows=rows)
        st.caption(
            _(
                "Input-gradient ratio = ‖∂L/∂x‖ at block 0's input ÷ at the last block's input (1: the first block "
                "receives as strong a gradient as the last). Relative weight-gradient ratio = ‖∂L/∂W‖/‖W‖ of block "
                "0's first conv ÷ the same for the last block's, which compares layers of different sizes like "
                "with like. Block gain = RMS of ‖Jᵀv‖/‖v‖ over random v (J = ∂y/∂x of one block): 1 for an "
                "identity map."
            )
        )

    def render_gradient_job(job) -> None:
        _state, _events, partial = job.snapshot()
        payload = job.result.to_dict() if job.result is not None else partial
        if payload:
            show_gradients(payload, name=f"gradients-live-{job.id}")

    has_live = st.session_state.get(GRAD_JOB) is not None
    view = st.radio(
        _("Show"),
        ["shipped", "live"],
        index=1 if has_live else 0,
        horizontal=True,
        **remember("gf-view"),
        format_func={"shipped": _("Shipped measurement (5 seeds)"), "live": _("Your live run")}.get,
        disabled=not has_live,
    )
    live_job = st.session_state.get(GRAD_JOB)
    waiting = live_job is not None and live_job.state == JobState.QUEUED  # keep showing something while in line
    if view == "live" and waiting:
        job_panel(GRAD_JOB, render_gradient_job)
    if view == "shipped" or not has_live or waiting:
        shipped_norm = st.radio(
            _("Shipped measurement"),
            ["batch", "none"],
            horizontal=True,
            **remember("gf-shipped-norm"),
            format_func={"batch": _("with BatchNorm"), "none": _("without normalisation")}.get,
        )
        ship = shipped(f"gradients_{shipped_norm}.json")
        if ship:
            st.info(
                _(
                    "A shipped measurement (ReLU, the default depths and batch). Press **Measure** to compute it "
                    "live with your settings."
                )
            )
            st.caption(provenance_caption(ship))
            show_gradients(ship, name=f"gradients-shipped-{shipped_norm}")
        else:
            st.info(_("Press **Measure** to compute the gradient norms live."))
    if view == "live" and has_live and not waiting:
        job_panel(GRAD_JOB, render_gradient_job)

# ========================================================================================== degradation
with tab_deg:
    st.markdown(
        _(
            "Train plain and residual nets at two depths on the same data, with the same recipe and seed, and compare "
            "**training** error: if the deeper plain net ends *above* the shallower one, depth made optimisation "
            "harder (the deeper net could in principle copy the shallower one and make its extra layers identities)."
        )
    )

    def show_degradation(payload: dict, *, name: str) -> None:
        result = DegradationResult.from_dict(payload)
        st.markdown(degradation_report.headline(result))
        st.plotly_chart(degradation_figure(result), width="stretch", key=f"{name}-fig")
        rows = degradation_table(result)
        st.dataframe(rows, hide_index=True, width="stretch")
        details = degradation_report.details(result) if result.complete else []
        st.caption(
            _(
                "Training error: measured in eval mode after each epoch on a fixed subset of the training images "
                "(the running error over augmented batches, what He et al. plot, is in the table). "
            )
            + " · ".join(details)
        )

    ship = shipped("degradation.json")
    if ship:
        st.subheader(_("Shipped result"))
        st.caption(_("Budget: ") + budget_text(ship))
        show_degradation(ship, name="deg-shipped")
        with st.expander(_("Provenance")):
            prov = ship.get("provenance") or {}
            for part in prov.get("parts", [prov]):
                st.caption(provenance_caption({"provenance": part}))
            download_buttons(
                ship,
                name="degradation-shipped",
                csv_rows=[
                    {"net": f"{'residual' if r['residual'] else 'plain'}-{r['depth']}", "seed": r.get("seed"), **h}
                    for r in ship.get("runs", [])
                    for h in r.get("history", [])
                ],
            )
    else:
        st.info(
            _(
                "No shipped degradation result yet: `python -m resnet_core degradation --depths 20,56 --epochs 20 "
                "--train-size 4000 --seeds 0,1,2 --json assets/results/degradation.json` makes one."
            )
        )

    st.subheader(_("A short live run"))
    available = [row["key"] for row in dataset_status() if row["available"]]
    if on_cpu:
        st.caption(
            _(
                "This server computes on the **CPU**, so the live default is a *short* run (depths 8 and 20, "
                "2,000 bundled images, 2 epochs, one seed): it shows how training starts, not the shipped 20-epoch "
                "picture, and its verdict covers only its own seeds."
            )
        )
    else:
        st.caption(
            _("Computing on {device}: the default budget is the paper's depths 20 and 56 on more data.").format(
                device=device
            )
        )
    with st.form("gf-deg-form"):
        d1, d2, d3, d4, d5 = st.columns(5)
        deg_depths = d1.multiselect(
            _("Depths"), DEPTH_CHOICES, default=[8, 20] if on_cpu else [20, 56], **remember("gf-deg-depths")
        )
        deg_dataset = d2.selectbox(
            _("Data"),
            [k for k in ("bundled", "fashion") if k in available] or ["bundled"],
            **remember("gf-deg-data"),
            help=_("bundled: 10,000 train / 3,000 test images; fashion: the full 60,000 / 10,000"),
        )
        deg_size = d3.select_slider(
            _("Training images"),
            [n for n in (500, 1000, 2000, 4000, 10000, 20000, 60000) if n <= profile().max_train_images],
            value=2000 if on_cpu else 10000,
            **remember("gf-deg-size"),
        )
        deg_epochs = d4.number_input(
            _("Epochs"),
            1,
            profile().max_epochs,
            min(2 if on_cpu else 10, profile().max_epochs),
            **remember("gf-deg-epochs"),
        )
        deg_seeds = d5.select_slider(
            _("Seeds"), [n for n in (1, 2, 3) if n <= profile().max_seeds], value=1, **remember("gf-deg-seeds")
        )
        start = st.form_submit_button(_("Reproduce live"), type="primary")
    deg_estimate = (
        show_estimate(
            workloads.degradation(
                DegradationConfig(depths=sorted(deg_depths), epochs=int(deg_epochs), seeds=list(range(int(deg_seeds)))),
                train_images=int(deg_size),
                test_images=3000 if deg_dataset == "bundled" else 10000,
            ),
            device,
        )
        if deg_depths
        else None
    )
    if start:
        if not deg_depths:
            st.warning(_("Choose at least one depth."))
        else:
            seeds = list(range(current_seed(), current_seed() + int(deg_seeds)))
            deg_config = DegradationConfig(
                depths=sorted(deg_depths),
                dataset=deg_dataset,
                train_size=int(deg_size),
                epochs=int(deg_epochs),
                seeds=seeds,
                log_every=5,
            )

            def degradation_work(job, config=deg_config, device=device):
                return run_degradation(
                    config,
                    device=device,
                    on_progress=job.report,
                    should_stop=job.should_stop,
                    on_partial=lambda r: job.publish(r.to_dict()),
                )

            launch(
                DEG_JOB,
                degradation_work,
                title=_("Degradation, depths {depths}, {epochs} epoch(s)").format(
                    depths=", ".join(map(str, sorted(deg_depths))), epochs=deg_epochs
                ),
                estimate=deg_estimate,
                training=True,
            )

    def render_degradation_job(job) -> None:
        _state, events, partial = job.snapshot()
        if events and job.active:
            st.plotly_chart(degradation_live_figure(events), width="stretch", key=f"deg-live-{job.id}")
        payload = job.result.to_dict() if job.result is not None else partial
        if payload and any(r.get("history") for r in payload.get("runs", [])):
            show_degradation(payload, name=f"deg-live-{job.id}")
            if job.result is not None:
                st.caption(_("Budget: ") + budget_text(payload))
                download_buttons(payload, name=f"degradation-live-{job.id}")

    job_panel(DEG_JOB, render_degradation_job)
