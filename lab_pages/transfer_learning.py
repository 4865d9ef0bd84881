"""Transfer learning: scratch, feature extraction, partial / full / staged fine-tuning trained side by side."""

from __future__ import annotations

import streamlit as st

from lab_pages import presenter
from lab_pages.charts import chart
from lab_pages.gradcam_panel import gradcam_section
from lab_pages.run_panel import job_panel, show_estimate
from lab_pages.runs import attach_existing, request_run
from lab_pages.transfer_setup import advanced_settings, source_picker
from lab_pages.transfer_sweep import sweep_section
from lab_pages.transfer_views import (
    bn_drift_section,
    parity_section,
    provenance_caption,
    results_dataframe,
    runs_from_events,
    show_details,
    show_summary,
    source_and_split_notes,
)
from lab_pages.ui import current_device, current_seed, profile, remember, require_data, tabs
from lab_pages.upload_ui import decode_upload
from resnet_core.architectures.zoo import net_stats
from resnet_core.data.datasets import DATASETS
from resnet_core.i18n import gettext as _
from resnet_core.serving import workloads
from resnet_core.transfer import (
    BN_TRAIN,
    IMAGENET_SOURCES,
    MAIN_STRATEGIES,
    STRATEGIES,
    STRATEGY_TITLES,
    TransferConfig,
    TransferResult,
    config_notes,
    describe_split,
    load_target,
    results_table,
    shipped_comparisons,
    split_label,
)
from resnet_core.transfer.plots import (
    curves_figure,
)

JOB_KEY = "transfer-job"
UPLOAD_KEY = "transfer-upload"

presenter.gate("transfer_learning", _("Transfer learning"))
st.title(_("Transfer learning"))
require_data("bundled")
caps = profile()
st.markdown(
    _(
        "A network trained on one task holds features another task can reuse: early layers respond to edges and "
        "textures that almost any image has, later layers to things specific to the classes they were trained on. "
        "Here five ways to use a pretrained network train **side by side, on the same labelled images and seed** "
        "(plus, as a diagnostic, the PyTorch tutorial's frozen backbone with BatchNorm left in train mode):"
    )
)
st.markdown("\n".join(f"- **{_(STRATEGY_TITLES[s])}**" for s in STRATEGIES))
with st.expander(_("The source network, the target task, and how the class split was chosen")):
    source_and_split_notes()

section_shipped, section_live, section_sweep, section_cam = tabs(
    {
        "shipped": _("Shipped comparison"),
        "live": _("Run it live"),
        "budget": _("Label budget"),
        "gradcam": _("Where the models look"),
    },
    key="tl-section",
)
with section_shipped:
    st.header(_("Shipped comparison: every strategy on the same seeds, 20 labelled images per class"))
    shipped_runs = shipped_comparisons()
    if not shipped_runs:
        st.info(
            _(
                "No shipped comparison yet: create it with `python -m resnet_core transfer --seeds 0,1,2,3,4 "
                "--json assets/results/transfer_k20_default.json` (add `--split-seed N` for a drawn split)."
            )
        )
    else:
        split_choice = st.radio(
            _("Class split"),
            list(shipped_runs),
            format_func=split_label,
            horizontal=True,
            help=_("The default split was picked by hand; the others were drawn by a seed."),
            **remember("tl-shipped-split", list(shipped_runs)),
        )
        shown = shipped_runs[split_choice]
        st.caption(describe_split(split_choice) + ". " + " ".join(config_notes(TransferConfig.from_dict(shown.config))))
        show_summary(shown, f"shipped-{split_choice}")
        st.caption(provenance_caption(shown))
        bn_drift_section(shown, f"shipped-{split_choice}")
        parity_section()

    # ------------------------------------------------------------------------------------------ setup widgets
with section_live:
    st.header(_("Set up the comparison"))
    c1, c2 = st.columns(2)
    source, split_seed, download_weights = source_picker(c1)

    target_options = ["fashion-heldout", "cifar10", "upload"]
    target = c2.selectbox(
        _("Target data"),
        target_options,
        format_func={
            "fashion-heldout": _("Held-out Fashion-MNIST classes (bundled)"),
            "cifar10": _("CIFAR-10") + ("" if DATASETS["cifar10"].available() else _(" — not on this server")),
            "upload": _("Your own images (zip of class folders)"),
        }.get,
        **remember("tl-target", target_options),
    )
    upload = None
    if target == "cifar10" and not DATASETS["cifar10"].available():
        cifar10 = DATASETS["cifar10"]
        c2.warning(_("CIFAR-10 is not on this server.") + " " + _(cifar10.how_to_get))
    if target == "upload":
        file = c2.file_uploader(
            _("Zip of class folders (cats/001.png, dogs/002.jpg, …)"),
            type=["zip"],
            help=_("At most {mb} MB here.").format(mb=caps.max_upload_mb),
        )
        if file is not None:
            decoded = decode_upload(c2, file, size=32, key=UPLOAD_KEY)
            upload = decoded[0] if decoded else None
        else:
            c2.info(
                _(
                    "Upload a zip: one folder per class, at least 2 classes and 4 images per class. Images are "
                    "converted to RGB and resized to 32x32; nothing is written to disk."
                )
            )

    def upload_split(images, val_per_class: int) -> dict:
        """How an upload divides into a pool to draw k from, validation and test images (as a run will divide it)."""
        target = load_target(TransferConfig(target="upload", val_per_class=val_per_class), images)
        per_class_val = len(target.val) // max(1, len(target.class_names))
        return {
            "pool_min": min(target.pool.class_counts()),
            "val_per_class": per_class_val,
            "test_images": len(target.test),
        }

    strategies = st.multiselect(
        _("Strategies"),
        STRATEGIES,
        default=MAIN_STRATEGIES,
        format_func=lambda s: _(STRATEGY_TITLES[s]),
        **remember("tl-strategies", STRATEGIES, default=MAIN_STRATEGIES),
    )
    d = TransferConfig()
    c1, c2, c3, c4 = st.columns(4)
    all_shots = c1.checkbox(_("All labelled images"), value=False, disabled=caps.capped, **remember("tl-all"))
    max_shots = caps.max_shots
    if (
        target == "upload" and upload is not None
    ):  # k within what the upload holds once validation and test are set aside
        held = upload_split(upload, int(st.session_state.get("tl-val", d.val_per_class)))
        max_shots = max(1, min(max_shots, held["pool_min"]))
        c1.caption(
            _(
                "This upload leaves {pool} training images in its smallest class once {val} validation images per "
                "class and {test} test images are set aside: k is at most {k}."
            ).format(pool=held["pool_min"], val=held["val_per_class"], test=held["test_images"], k=max_shots)
        )
    shots = (
        None
        if all_shots
        else int(
            c1.number_input(
                _("Labelled images per class (k)"),
                1,
                max_shots,
                min(20, max_shots),
                disabled=all_shots,
                **remember("tl-shots"),
            )
        )
    )
    epochs = int(
        c2.number_input(_("Epochs"), 1, caps.max_epochs, min(d.epochs, caps.max_epochs), **remember("tl-epochs"))
    )
    n_seeds = int(
        c3.number_input(
            _("Seeds"),
            1,
            caps.max_seeds,
            1,
            help=_(
                "Seeds sidebar-seed, +1, … : a winner needs at least 2 seeds (one seed gives no interval, so no verdict)."
            ),
            **remember("tl-seeds"),
        )
    )
    augment = c4.toggle(_("Augmentation (crop + flip)"), value=d.augment, **remember("tl-augment"))
    advanced = advanced_settings(d, caps)

    def make_config(
        shot_list: list[int | None], seeds: list[int], strategy_list: list[str], n_epochs: int
    ) -> TransferConfig:
        return TransferConfig(
            source=source,
            target=target,
            split_seed=split_seed,
            shots=shot_list,
            strategies=strategy_list,
            seeds=seeds,
            epochs=n_epochs,
            augment=augment,
            download_weights=download_weights,
            **advanced,
        )

    ready = bool(strategies) and (target != "upload" or upload is not None)

    def transfer_estimate(config: TransferConfig):
        """≈ time on this server for ``config`` (the target's class count and test size as the run will see them)."""
        classes = (
            len(upload.class_names)
            if (target == "upload" and upload is not None)
            else (10 if target == "cifar10" else 4)
        )
        test = (config.test_per_class or (1000 if target == "cifar10" else 300)) * classes
        macs = None if source == "fashion" else net_stats(IMAGENET_SOURCES[source], input_size=config.image_size).macs
        work = workloads.transfer(
            config, classes=classes, val_images=config.val_per_class * classes, test_images=test, macs=macs
        )
        return show_estimate(work, current_device())

    seed = current_seed()
    config = make_config([shots], list(range(seed, seed + n_seeds)), strategies, epochs) if ready else None
    estimate = transfer_estimate(config) if config is not None else None
    run_title = _("{n} strategies, k={k}, {epochs} epochs").format(
        n=len(strategies), k=shots or _("all"), epochs=epochs
    )
    # An upload is an input of the run, named by its content hash (its results are stored and shared under it).
    run_inputs = {"upload": upload} if upload is not None else {}
    input_keys = {"upload": upload.content_hash()} if upload is not None else {}
    run = dict(inputs=run_inputs, input_keys=input_keys, title=run_title, estimate=estimate, training=True)
    if st.button(_("Train all strategies"), type="primary", disabled=not ready):
        if request_run(JOB_KEY, "transfer", config, **run):
            st.session_state[JOB_KEY + "-config"] = (config, upload)
    if attach_existing(JOB_KEY, "transfer", config, **run):
        st.session_state[JOB_KEY + "-config"] = (config, upload)

    def render_job(job) -> None:
        _state, events, partial = job.snapshot()
        runs = runs_from_events(events)
        if runs:
            chart(curves_figure(runs), key=f"curves-{job.id}")
        result = job.result if isinstance(job.result, TransferResult) else partial
        if result is not None and not job.active:
            _config, data = st.session_state.get(JOB_KEY + "-config", (None, None))
            show_details(result, "live", data)
            if any(r.strategy == BN_TRAIN for r in result.results):
                bn_drift_section(result, "live")
        elif result is not None:
            total = (
                len(result.config.get("strategies", []))
                * len(result.config.get("seeds", []))
                * len(result.config.get("shots", []))
            )
            st.caption(
                _(
                    "So far: {done} of {total} runs. Means, intervals and the winner appear when every run is done."
                ).format(done=len(result.results), total=total)
            )
            results_dataframe(results_table(result))

    job_panel(JOB_KEY, render_job)

with section_cam:
    # ------------------------------------------------------------------------- where each model looks (Grad-CAM)
    gradcam_section(
        make_config([shots], [current_seed()], ["feature_extraction", "full_finetune"], epochs),
        shots=shots,
        seed=current_seed(),
        upload=upload,
        ready=target != "upload" or upload is not None,
        estimate_fn=transfer_estimate,
    )

with section_sweep:
    # ------------------------------------------------------------------------------------------ label budget
    sweep_section(
        strategies=strategies,
        epochs=epochs,
        target=target,
        upload=upload,
        make_config=make_config,
        estimate_fn=transfer_estimate,
    )
