"""Gradient flow: gradient norms by depth in plain vs residual nets, and the degradation problem.

Thin page: widgets -> a config -> a background job running resnet_core.gradients.run -> pure plot builders.
Shipped results (made by `python -m resnet_core gradients|degradation`) are shown at once; everything else is
measured live.
"""

import streamlit as st

from lab_pages import presenter
from lab_pages.charts import shared_chart
from lab_pages.degradation_tab import degradation_tab
from lab_pages.run_panel import job_panel, show_estimate
from lab_pages.runs import attach_existing, request_run, result_so_far
from lab_pages.ui import (
    current_device,
    current_seed,
    download_buttons,
    made_by,
    profile,
    read_result,
    remember,
    require_data,
    tabs,
)
from resnet_core.data.datasets import REPO_ROOT
from resnet_core.gradients import report as gradients_report
from resnet_core.gradients.config import GradientConfig
from resnet_core.gradients.plots import (
    GRADIENT_METRICS,
    gradient_norms_figure,
    gradient_table,
    ratio_figure,
    setting_text,
)
from resnet_core.gradients.result import GradientResult
from resnet_core.i18n import gettext as _
from resnet_core.serving import workloads
from resnet_core.serving.jobs import JobState

RESULTS = REPO_ROOT / "assets" / "results"
DEPTH_CHOICES = [d for d in (8, 14, 20, 26, 32, 44, 56, 110) if d <= profile().max_depth]
GRAD_JOB = "gf-gradients-job"


def shipped(name: str) -> dict | None:
    return read_result(RESULTS / name)


device = current_device()

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

tab_grad, tab_deg = tabs(
    {"gradients": _("Gradient norms by depth"), "degradation": _("Degradation problem")}, key="gf-tab"
)

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
            **remember("gf-variants", ["plain", "residual"], default=["plain", "residual"]),
            format_func=_,
        )
        norm = c2.radio(
            _("Normalisation"),
            ["batch", "none"],
            horizontal=True,
            **remember("gf-norm", ["batch", "none"]),
            format_func={"batch": _("BatchNorm"), "none": _("none")}.get,
        )
        activation = c2.selectbox(_("Activation"), ["relu", "tanh", "sigmoid"], **remember("gf-activation"))
        shortcut = c2.selectbox(
            _("Shortcut on downsampling blocks"),
            ["A", "B"],
            **remember("gf-shortcut", ["A", "B"]),
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
    grad_title = _("Gradient norms, depths {depths}").format(depths=", ".join(map(str, sorted(depths))))
    if measure:
        if config is None:
            st.warning(_("Choose at least one depth and one variant."))
        else:
            request_run(GRAD_JOB, "gradients", config, title=grad_title, estimate=grad_estimate)
            st.session_state["gf-view"] = "live"  # show the new run; the shipped result stays one click away

    metric = st.radio(
        _("Plot"),
        list(GRADIENT_METRICS),
        horizontal=True,
        **remember("gf-metric", list(GRADIENT_METRICS)),
        format_func=lambda m: _(GRADIENT_METRICS[m][1]),
    )

    def show_gradients(payload: dict, *, name: str, downloads: bool = True) -> None:
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
        drawn = (name, len(result.runs), result.complete)  # a run's charts change only as its runs come in
        shared_chart((*drawn, metric), lambda: gradient_norms_figure(result, metric), key=f"{name}-norms")
        shared_chart(drawn, lambda: ratio_figure(result), key=f"{name}-ratio")
        with st.expander(_("Every run (net and seed)")):
            rows = gradient_table(result)
            st.dataframe(rows, hide_index=True, width="stretch")
            if downloads:
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
        result = result_so_far(job)
        if result is not None:
            # downloads once it has ended: a class polling a live run would each serialise it every second
            name = f"gradients-live-{job.id}-{getattr(job, 'started', None) or 0:.0f}"  # asked again: another run
            show_gradients(result.to_dict(), name=name, downloads=not job.active)

    attach_existing(GRAD_JOB, "gradients", config, title=grad_title, estimate=grad_estimate)
    has_live = st.session_state.get(GRAD_JOB) is not None
    view = st.radio(
        _("Show"),
        ["shipped", "live"],
        index=1 if has_live else 0,
        horizontal=True,
        **remember("gf-view", ["shipped", "live"], default=(["shipped", "live"])[1 if has_live else 0]),
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
            **remember("gf-shipped-norm", ["batch", "none"]),
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
            st.caption(made_by(ship.get("provenance")))
            show_gradients(ship, name=f"gradients-shipped-{shipped_norm}")
        else:
            st.info(_("Press **Measure** to compute the gradient norms live."))
    if view == "live" and has_live and not waiting:
        job_panel(GRAD_JOB, render_gradient_job)

# ========================================================================================== degradation
with tab_deg:
    degradation_tab(device, DEPTH_CHOICES)
