"""Transfer learning page, label-budget section: the shipped sweep (test accuracy against labelled images per class)
and a live sweep with the page's settings."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from lab_pages.charts import chart
from lab_pages.run_panel import job_panel
from lab_pages.runs import attach_existing, request_run
from lab_pages.transfer_views import provenance_caption, summary_columns
from lab_pages.ui import column_labels, current_seed, download_buttons, profile, remember
from resnet_core.data.datasets import ImageSet
from resnet_core.i18n import gettext as _
from resnet_core.transfer import (
    TransferConfig,
    TransferResult,
    describe_sweep,
    load_shipped_sweep,
    results_table,
    summarize,
    summary_table,
)
from resnet_core.transfer.plots import sweep_figure

SWEEP_KEY = "transfer-sweep-job"


def sweep_section(
    *,
    strategies: list[str],
    epochs: int,
    target: str,
    upload: ImageSet | None,
    make_config: Callable[..., TransferConfig],
    estimate_fn: Callable,
) -> None:
    """The shipped sweep, then "Run a sweep live" with ``make_config(shots, seeds, strategies, epochs)``."""
    caps = profile()
    st.header(_("Label budget: how many labelled images does each strategy need?"))
    shipped = load_shipped_sweep()
    if shipped is None:
        st.info(
            _(
                "No shipped sweep yet: create it with `python -m resnet_core transfer --shots 5,20,100 --seeds 0,1,2 "
                "--json assets/results/transfer_sweep.json`."
            )
        )
    else:
        summary = summarize(shipped.results)
        chart(
            sweep_figure(summary, title=_("Shipped sweep: test accuracy vs labelled images per class")),
            key="shipped-sweep",
        )
        st.markdown(describe_sweep(shipped))
        if "feature_views" not in shipped.config:
            st.caption(
                _(
                    "This sweep was made before augmentation parity: its feature extraction and staged head phase "
                    "trained on clean features only while the other strategies were augmented."
                )
            )
        st.caption(provenance_caption(shipped))
        with st.expander(_("Table (mean ± sd over seeds, test-set SE)")):
            table = summary_table(shipped)
            st.dataframe(
                table,
                hide_index=True,
                width="stretch",
                column_config=column_labels(table[:1] and table[0], summary_columns()),
            )
        download_buttons(shipped.to_dict(), name="transfer_sweep_shipped", csv_rows=results_table(shipped))

    with st.expander(_("Run a sweep live (uses the settings above)")):
        s1, s2, s3 = st.columns(3)
        sweep_shots = s1.multiselect(
            _("Shots per class"),
            [n for n in (1, 2, 5, 10, 20, 50, 100, 200) if n <= caps.max_shots],
            default=[5, 20],
            **remember("sweep-shots"),
        )
        sweep_seeds = int(
            s2.number_input(_("Seeds per cell"), 1, caps.max_seeds, min(3, caps.max_seeds), **remember("sweep-seeds"))
        )
        sweep_epochs = int(
            s3.number_input(_("Epochs per run"), 1, caps.max_epochs, min(epochs, 8), **remember("sweep-epochs"))
        )
        runs_total = len(sweep_shots) * sweep_seeds * len(strategies)
        st.caption(_("{n} runs.").format(n=runs_total))
        sweep_estimate = (
            estimate_fn(make_config(sorted(sweep_shots), list(range(sweep_seeds)), strategies, sweep_epochs))
            if sweep_shots and strategies
            else None
        )
        seed = current_seed()
        can_sweep = bool(sweep_shots and strategies) and (target != "upload" or upload is not None)
        sweep_config = (
            make_config(sorted(sweep_shots), list(range(seed, seed + sweep_seeds)), strategies, sweep_epochs)
            if can_sweep
            else None
        )
        sweep_run = {
            "inputs": {"upload": upload} if upload is not None else {},
            "input_keys": {"upload": upload.content_hash()} if upload is not None else {},
            "title": _("label-budget sweep, {n} runs").format(n=runs_total),
            "estimate": sweep_estimate,
            "training": True,
        }
        if st.button(_("Run sweep"), disabled=not can_sweep):
            request_run(SWEEP_KEY, "transfer", sweep_config, **sweep_run)
        attach_existing(SWEEP_KEY, "transfer", sweep_config, **sweep_run)

        def render_sweep(job) -> None:
            _state, _events, partial = job.snapshot()
            result = job.result if isinstance(job.result, TransferResult) else partial
            if result is None or not result.results:
                return
            chart(
                sweep_figure(summarize(result.results), title=_("Live sweep")),
                key=f"sweep-{job.id}-{len(result.results)}",
            )
            st.markdown(describe_sweep(result))
            if not job.active:
                download_buttons(result.to_dict(), name="transfer_sweep_live", csv_rows=results_table(result))

        job_panel(SWEEP_KEY, render_sweep)
