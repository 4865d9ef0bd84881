"""Gradient flow page, degradation tab: the shipped training-error curves of plain and residual nets at two depths,
and a short live run with the same recipe (He et al. 2016, Fig. 1 and 6)."""

from __future__ import annotations

import streamlit as st
import torch

from lab_pages.charts import chart
from lab_pages.run_panel import job_panel, show_estimate
from lab_pages.runs import attach_existing, request_run, result_so_far
from lab_pages.ui import current_seed, download_buttons, made_by, profile, read_result, remember
from resnet_core.data.datasets import REPO_ROOT, dataset_status
from resnet_core.degradation import report as degradation_report
from resnet_core.degradation.config import DegradationConfig
from resnet_core.degradation.plots import budget_text, degradation_figure, degradation_live_figure, degradation_table
from resnet_core.degradation.result import DegradationResult
from resnet_core.i18n import gettext as _
from resnet_core.i18n import ngettext
from resnet_core.serving import workloads

RESULTS = REPO_ROOT / "assets" / "results"
DEG_JOB = "gf-degradation-job"


def degradation_tab(device: torch.device, depth_choices: list[int]) -> None:
    """The tab's content: the shipped result, then the live form and its job."""
    on_cpu = device.type == "cpu"
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
        chart(degradation_figure(result), key=f"{name}-fig")
        rows = degradation_table(result)
        shown = [k for k in (rows[0] if rows else {}) if k != "running train error range"]  # fits at 1280 px
        st.dataframe(rows, hide_index=True, width="stretch", column_order=shown)
        details = degradation_report.details(result) if result.complete else []
        st.caption(
            _(
                "Training error: measured in eval mode after each epoch on a fixed subset of the training images "
                "(the running error over augmented batches, what He et al. plot, is in the table). "
            )
            + " · ".join(details)
        )

    ship = read_result(RESULTS / "degradation.json")
    if ship:
        st.subheader(_("Shipped result"))
        st.caption(_("Budget: ") + budget_text(ship))
        show_degradation(ship, name="deg-shipped")
        with st.expander(_("Provenance")):
            prov = ship.get("provenance") or {}
            for part in prov.get("parts", [prov]):
                st.caption(made_by(part))
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
            _("Depths"), depth_choices, default=[8, 20] if on_cpu else [20, 56], **remember("gf-deg-depths")
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
    deg_config = (
        DegradationConfig(
            depths=sorted(deg_depths),
            dataset=deg_dataset,
            train_size=int(deg_size),
            epochs=int(deg_epochs),
            seeds=list(range(current_seed(), current_seed() + int(deg_seeds))),
            log_every=5,
        )
        if deg_depths
        else None
    )
    deg_title = ngettext(
        "Degradation, depths {depths}, {epochs} epoch", "Degradation, depths {depths}, {epochs} epochs", int(deg_epochs)
    ).format(depths=", ".join(map(str, sorted(deg_depths))), epochs=deg_epochs)
    if start:
        if deg_config is None:
            st.warning(_("Choose at least one depth."))
        else:
            request_run(DEG_JOB, "degradation", deg_config, title=deg_title, estimate=deg_estimate, training=True)
    attach_existing(DEG_JOB, "degradation", deg_config, title=deg_title, estimate=deg_estimate, training=True)

    def render_degradation_job(job) -> None:
        _state, events, _partial = job.snapshot()
        if events and job.active:
            chart(degradation_live_figure(events), key=f"deg-live-{job.id}")
        result = result_so_far(job)
        payload = result.to_dict() if result is not None else None
        if payload and any(r.get("history") for r in payload.get("runs", [])):
            show_degradation(payload, name=f"deg-live-{job.id}")
            if job.result is not None:
                st.caption(_("Budget: ") + budget_text(payload))
                download_buttons(payload, name=f"degradation-live-{job.id}")

    job_panel(DEG_JOB, render_degradation_job)
