"""The Transfer page's "where each strategy's model looks" section: one call, ``gradcam_section(config, ...)``.

Kept out of lab_pages/transfer_learning.py so that page only gains one import and one call. The work (retraining
feature extraction and full fine-tuning with the page's recipe, then Grad-CAM) runs as a job, like every other
training on the page.
"""

from __future__ import annotations

import streamlit as st

from lab_pages.charts import chart
from lab_pages.run_panel import job_panel
from lab_pages.runs import launch
from lab_pages.ui import current_device
from resnet_core.i18n import N_, ngettext
from resnet_core.i18n import gettext as _
from resnet_core.transfer.gradcam import COMPARED, GradcamComparison, describe_gradcam, run_gradcam_comparison

GRADCAM_KEY = "transfer-gradcam-job"
TITLES = {"feature_extraction": N_("feature extraction"), "full_finetune": N_("full fine-tune")}


def gradcam_section(config, *, shots: int | None, seed: int, upload=None, ready: bool = True, estimate_fn=None) -> None:
    """Header, a button that starts the job, and the job's panel (progress, then the Grad-CAM grid)."""
    st.header(_("Where each strategy's model looks (Grad-CAM)"))
    st.markdown(
        _(
            "The table above keeps each run's numbers, not its model. Here **feature extraction** and **full "
            "fine-tuning** are trained again with the settings above (same k-shot draw for the sidebar seed, same "
            "learning rates and epochs), and Grad-CAM shows, for test images at least one of them gets wrong, where in "
            "the image each model's last stage found the evidence for the class it predicted (red = most)."
        )
    )
    epochs = ngettext("{n} epoch", "{n} epochs", config.epochs).format(n=config.epochs)
    label = _("Show where the models look (trains 2 models, k={k}, {epochs})").format(
        k=shots or _("all"), epochs=epochs
    )
    estimate = estimate_fn(config) if estimate_fn else None  # config: the two compared strategies, one seed
    if st.button(label, key="gradcam-start", disabled=not ready):
        device = current_device()

        def work(job):
            return run_gradcam_comparison(
                config,
                shots=shots,
                seed=seed,
                device=device,
                strategies=COMPARED,
                upload=upload,
                on_progress=job.report,
                should_stop=job.should_stop,
            )

        launch(
            GRADCAM_KEY,
            work,
            title=_("Grad-CAM: feature extraction vs full fine-tuning, k={k}").format(k=shots or _("all")),
            estimate=estimate,
            training=True,
        )

    def render(job) -> None:
        if isinstance(job.result, GradcamComparison):
            from resnet_core.layers.plots import gradcam_figure

            st.markdown(describe_gradcam(job.result))
            if job.result.indices:
                chart(gradcam_figure(job.result, {s: _(t) for s, t in TITLES.items()}), key=f"gradcam-{job.id}")
                st.caption(
                    _(
                        "Grad-CAM (captum's LayerGradCam) at the last residual block, for each model's own "
                        "prediction, upsampled to the image; ✓/✗: right or wrong."
                    )
                )

    job_panel(GRADCAM_KEY, render)
