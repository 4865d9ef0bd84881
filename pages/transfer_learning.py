"""Transfer learning: scratch, feature extraction, partial / full / staged fine-tuning trained side by side."""

from __future__ import annotations

import streamlit as st

from pages.gradcam_panel import gradcam_section
from pages.ui import current_device, current_seed, download_buttons, job_panel, launch
from resnet_core.checkpoints import imagenet_weights_available, imagenet_weights_file, read_manifest
from resnet_core.data import DATASETS, FASHION_CLASSES
from resnet_core.plots.transfer import confusion_figure, curves_figure, gallery_figure, sweep_figure
from resnet_core.transfer import (
    IMAGENET_SOURCES,
    SOURCE_CLASSES,
    SOURCE_NAME,
    SOURCE_PATH,
    STRATEGIES,
    STRATEGY_SHORT,
    STRATEGY_TITLES,
    TARGET_CLASSES,
    TransferConfig,
    TransferResult,
    describe_comparison,
    describe_sweep,
    load_shipped_sweep,
    load_target,
    results_table,
    run_transfer,
    summarize,
)

JOB_KEY = "transfer-job"
SWEEP_KEY = "transfer-sweep-job"
UPLOAD_KEY = "transfer-upload"

st.title("Transfer learning")
st.markdown(
    "A network trained on one task holds features another task can reuse: early layers respond to edges and "
    "textures that almost any image has, later layers to things specific to the classes they were trained on. "
    "Here five ways to use a pretrained network train **side by side, on the same labelled images and seed**:"
)
st.markdown("\n".join(f"- **{STRATEGY_TITLES[s]}**" for s in STRATEGIES))
with st.expander("The source network and the target task (and why this split)"):
    st.markdown(
        f"The shipped source is a ResNet-20 the project's CLI pretrained (`python -m resnet_core pretrain-source`, "
        f"5 epochs) on all 36,000 of the full Fashion-MNIST's training images of **{', '.join(FASHION_CLASSES[c] for c in SOURCE_CLASSES)}**. The target "
        f"task is the four classes it never saw: **{', '.join(FASHION_CLASSES[c] for c in TARGET_CLASSES)}**, with "
        "k labelled images per class, a fixed validation split and the bundled test images.\n\n"
        "Every target class has relatives among the source classes, so the source features are useful but not "
        "sufficient: *Coat* and *Shirt* share sleeves, collars and torso silhouettes with *Pullover*, *T-shirt/top* "
        "and *Dress*; *Sneaker* and *Ankle boot* share soles and footwear outlines with *Sandal*. The hard pair "
        "(Coat vs Shirt) needs distinctions the source never had to make, which is where fine-tuning can earn its cost."
    )
    entry = read_manifest().get("checkpoints", {}).get(SOURCE_NAME)
    if entry:
        st.caption(f"Source checkpoint {entry.get('file')}: {entry.get('test_acc', float('nan')):.1%} on "
                   f"{entry.get('test_data')}; made by `{entry.get('command')}` on {entry.get('device')}, "
                   f"{entry.get('date')} ({entry.get('train_seconds', 0):.0f}s), sha256 {str(entry.get('sha256'))[:12]}…")  # fmt: skip

# ------------------------------------------------------------------------------------------ setup widgets
st.header("Set up the comparison")
c1, c2 = st.columns(2)
source_options = ["fashion", *IMAGENET_SOURCES]
source = c1.selectbox(
    "Source network",
    source_options,
    format_func=lambda s: "ResNet-20 pretrained on 6 Fashion-MNIST classes (shipped)" if s == "fashion"
    else f"torchvision {IMAGENET_SOURCES[s]} with ImageNet weights",
)  # fmt: skip
download_weights = False
if source == "fashion" and not SOURCE_PATH.is_file():
    c1.error(f"The shipped source checkpoint {SOURCE_PATH.name} is missing; recreate it with "
             "`python -m resnet_core pretrain-source`.")  # fmt: skip
if source in IMAGENET_SOURCES:
    arch = IMAGENET_SOURCES[source]
    if imagenet_weights_available(arch):
        c1.success(f"ImageNet weights found: {imagenet_weights_file(arch)}")
    else:
        c1.warning(f"The ImageNet weights for {arch} are not on this server. Put **{imagenet_weights_file(arch).name}** "
                   f"in `{imagenet_weights_file(arch).parent}` (set TORCH_HOME to move that folder), or allow the "
                   "download below where the internet is reachable.")  # fmt: skip
        download_weights = c1.checkbox("Download the weights when training starts (needs internet)", value=False)
    c1.caption("Images are converted to 3 channels, resized and normalised with the ImageNet mean and std. "
               "On a CPU this is slow: keep the image size small.")  # fmt: skip

target_options = ["fashion-heldout", "cifar10", "upload"]
target = c2.selectbox(
    "Target data",
    target_options,
    format_func={"fashion-heldout": "Held-out Fashion-MNIST classes (bundled)", "cifar10": "CIFAR-10",
                 "upload": "Your own images (zip of class folders)"}.get,
)  # fmt: skip
upload = None
if target == "cifar10" and not DATASETS["cifar10"].available():
    c2.warning(f"CIFAR-10 is not on this server. {DATASETS['cifar10'].how_to_get}")
if target == "upload":
    from resnet_core.uploads import UploadError, load_image_zip

    file = c2.file_uploader("Zip of class folders (cats/001.png, dogs/002.jpg, …)", type=["zip"])
    if file is not None:
        cached = st.session_state.get(UPLOAD_KEY)
        if cached is None or cached[0] != (file.name, file.size):
            try:
                images, report = load_image_zip(file.getvalue(), size=32)
                st.session_state[UPLOAD_KEY] = ((file.name, file.size), images, report, None)
            except UploadError as exc:
                st.session_state[UPLOAD_KEY] = ((file.name, file.size), None, None, str(exc))
        _, upload, report, error = st.session_state[UPLOAD_KEY]
        if error:
            c2.error(f"This upload cannot be used: {error}")
        else:
            c2.success(report.summary())
    else:
        c2.info("Upload a zip: one folder per class, at least 2 classes and 4 images per class. Images are "
                "converted to RGB and resized to 32x32; nothing is written to disk.")  # fmt: skip

strategies = st.multiselect("Strategies", STRATEGIES, default=STRATEGIES, format_func=STRATEGY_TITLES.get)
d = TransferConfig()
c1, c2, c3, c4 = st.columns(4)
all_shots = c1.checkbox("All labelled images", value=False)
shots = None if all_shots else int(c1.number_input("Labelled images per class (k)", 1, 900, 20,
                                                   disabled=all_shots))  # fmt: skip
epochs = int(c2.number_input("Epochs", 1, 100, d.epochs))
n_seeds = int(c3.number_input("Seeds", 1, 5, 1, help="Seeds sidebar-seed, +1, … : more seeds give error bars."))
augment = c4.toggle("Augmentation (crop + flip)", value=d.augment)
with st.expander("Learning rates, regularisation, BatchNorm, early stopping"):
    a1, a2, a3, a4 = st.columns(4)
    lr_head = a1.number_input("Head learning rate", 1e-4, 1.0, d.lr_head, format="%.4f")
    lr_backbone = a2.number_input("Backbone learning rate (fine-tuning)", 1e-5, 1.0, d.lr_backbone, format="%.4f",
                                  help="Pretrained layers learn 10x slower than the new head by default.")  # fmt: skip
    lr_scratch = a3.number_input("Scratch learning rate", 1e-4, 1.0, d.lr_scratch, format="%.4f")
    weight_decay = a4.number_input("Weight decay", 0.0, 0.1, d.weight_decay, format="%.5f")
    b1, b2, b3, b4 = st.columns(4)
    dropout = b1.slider("Dropout before the head", 0.0, 0.8, d.dropout, 0.1)
    bn_mode = b2.selectbox("Pretrained BatchNorm statistics", ["frozen", "train"],
                           format_func={"frozen": "keep the source's (recommended for small k)",
                                        "train": "re-estimate from target batches"}.get)  # fmt: skip
    staged_head_epochs = int(b3.number_input("Staged: head-only epochs", 1, 50, d.staged_head_epochs))
    early_stopping = b4.toggle("Early stopping on validation", value=d.early_stopping)
    e1, e2, e3, e4 = st.columns(4)
    patience = int(e1.number_input("Patience (epochs)", 1, 50, d.patience, disabled=not early_stopping))
    val_per_class = int(e2.number_input("Validation images per class", 5, 500, d.val_per_class))
    test_per_class = int(e3.number_input("Test images per class (0 = all)", 0, 1000, 0))
    image_size = int(e4.number_input("Image size for ImageNet sources", 32, 224, d.image_size, step=16))


def make_config(shot_list: list[int | None], seeds: list[int], strategy_list: list[str], n_epochs: int) -> TransferConfig:
    return TransferConfig(
        source=source, target=target, shots=shot_list, strategies=strategy_list, seeds=seeds, epochs=n_epochs,
        lr_head=float(lr_head), lr_backbone=float(lr_backbone), lr_scratch=float(lr_scratch),
        weight_decay=float(weight_decay), augment=augment, dropout=float(dropout), bn_mode=bn_mode,
        staged_head_epochs=staged_head_epochs, early_stopping=early_stopping, patience=patience,
        val_per_class=val_per_class, test_per_class=test_per_class or None, image_size=image_size,
        download_weights=download_weights,
    )  # fmt: skip


ready = bool(strategies) and (target != "upload" or upload is not None)
if st.button("Train all strategies", type="primary", disabled=not ready):
    device, seed = current_device(), current_seed()
    config = make_config([shots], list(range(seed, seed + n_seeds)), strategies, epochs)
    data = upload

    def work(job):
        return run_transfer(config, device=device, on_progress=job.report, should_stop=job.should_stop,
                            on_result=job.publish, upload=data)  # fmt: skip

    job = launch(JOB_KEY, work, title=f"{len(strategies)} strategies, k={shots or 'all'}, {epochs} epochs")
    if job is not None:
        st.session_state[JOB_KEY + "-config"] = (config, data)


# ------------------------------------------------------------------------------------------------ results
def runs_from_events(events) -> list[dict]:
    """Group epoch events by run tag into {strategy, seed, history} for the live curves."""
    runs: dict[str, dict] = {}
    for e in events:
        if e.kind != "epoch" or not e.tag:
            continue
        strategy, _, rest = e.tag.partition("/")
        seed = int(rest.rsplit("seed=", 1)[-1]) if "seed=" in rest else 0
        runs.setdefault(e.tag, {"strategy": strategy, "seed": seed, "history": []})["history"].append(e.metrics)
    return list(runs.values())


@st.cache_data(max_entries=4, show_spinner=False)
def _test_images(config_dict: dict):
    return load_target(TransferConfig.from_dict(config_dict)).test


def show_details(result: TransferResult, key: str, data=None) -> None:
    """Table, text, confusion matrix and misclassified gallery of a finished (or partial) comparison."""
    rows = results_table(result)
    if not rows:
        return
    st.subheader("Results")
    st.dataframe(
        [{**r, "strategy": STRATEGY_SHORT.get(r["strategy"], r["strategy"])} for r in rows], hide_index=True,
        width="stretch",
        column_config={
            "best_val_acc": st.column_config.NumberColumn("best val acc", format="percent"),
            "final_val_acc": st.column_config.NumberColumn("final val acc", format="percent"),
            "test_acc": st.column_config.NumberColumn("test acc", format="percent"),
            "train_val_gap": st.column_config.NumberColumn("train − val", format="percent",
                                                           help="final accuracy on the labelled training images minus "
                                                                "final validation accuracy: overfitting"),
            "trainable_params": st.column_config.NumberColumn("trainable params", format="localized"),
            "seconds": st.column_config.NumberColumn("seconds", format="%.1f"),
            "seconds_per_epoch": st.column_config.NumberColumn("s / epoch", format="%.2f"),
        },
    )  # fmt: skip
    st.markdown(describe_comparison(result))
    if result.data_info:
        st.caption(f"Target: {result.data_info.get('target')}; {result.data_info.get('val_images')} validation and "
                   f"{result.data_info.get('test_images')} test images. Source: {result.source_info.get('name')}.")  # fmt: skip
    labels = [f"{r.strategy} (k={r.shots or 'all'}, seed {r.seed})" for r in result.results]
    pick = st.selectbox("Inspect a run", range(len(labels)), format_func=lambda i: labels[i], key=f"{key}-pick")
    run = result.results[pick]
    left, right = st.columns([1, 1])
    with left:
        st.plotly_chart(confusion_figure(run.confusion, result.class_names,
                                         title=f"Confusion matrix: {STRATEGY_SHORT.get(run.strategy, run.strategy)}"),
                        width="stretch", key=f"{key}-cm")  # fmt: skip
    with right:
        if run.misclassified:
            try:
                cfg = TransferConfig.from_dict(result.config)
                test = load_target(cfg, data).test if cfg.target == "upload" else _test_images(result.config)
                idx = [m["index"] for m in run.misclassified[:18]]
                st.plotly_chart(gallery_figure(test.images[idx].numpy(), [m["true"] for m in run.misclassified[:18]],
                                               [m["pred"] for m in run.misclassified[:18]], result.class_names,
                                               title=f"Misclassified (true→predicted), first {len(idx)}"),
                                width="stretch", key=f"{key}-gallery")  # fmt: skip
            except (FileNotFoundError, ValueError) as exc:
                st.info(f"The test images are not available to show: {exc}")
        else:
            st.info("No misclassified test images.")
    download_buttons(result.to_dict(), name=f"transfer_{key}", csv_rows=rows)


def render_job(job) -> None:
    _, events, partial = job.snapshot()
    runs = runs_from_events(events)
    if runs:
        st.plotly_chart(curves_figure(runs), width="stretch", key=f"curves-{job.id}")
    result = job.result if isinstance(job.result, TransferResult) else partial
    if result is not None and not job.active:
        _, data = st.session_state.get(JOB_KEY + "-config", (None, None))
        show_details(result, "live", data)
    elif result is not None:
        st.dataframe(results_table(result), hide_index=True, width="stretch")


job_panel(JOB_KEY, render_job)

# ------------------------------------------------------------------------- where each model looks (Grad-CAM)
gradcam_section(make_config([shots], [current_seed()], ["feature_extraction", "full_finetune"], epochs), shots=shots,
                seed=current_seed(), upload=upload, ready=target != "upload" or upload is not None)  # fmt: skip

# ------------------------------------------------------------------------------------------ label budget
st.header("Label budget: how many labelled images does each strategy need?")
shipped = load_shipped_sweep()
if shipped is None:
    st.info("No shipped sweep yet: create it with `python -m resnet_core transfer --shots 5,20,100 --seeds 0,1,2 "
            "--json assets/results/transfer_sweep.json`.")  # fmt: skip
else:
    summary = summarize(shipped.results)
    st.plotly_chart(sweep_figure(summary, title="Shipped sweep: test accuracy vs labelled images per class"),
                    width="stretch", key="shipped-sweep")  # fmt: skip
    st.markdown(describe_sweep(shipped))
    prov = shipped.provenance
    cfg = shipped.config
    st.caption(f"Computed by `{prov.get('command', '?')}` on {prov.get('device', '?')}, {prov.get('date', '?')} "
               f"(git {str(prov.get('git_revision', '?'))[:12]}); {cfg.get('epochs')} epochs per run, batch "
               f"{cfg.get('batch_size')}, {shipped.data_info.get('val_images')} validation and "
               f"{shipped.data_info.get('test_images')} test images; {shipped.seconds:.0f}s in all.")  # fmt: skip
    with st.expander("Table (mean ± std over seeds)"):
        st.dataframe([{"shots per class": r["shots"], "strategy": STRATEGY_SHORT[r["strategy"]],
                       "test acc mean": r["test_acc_mean"], "± std": r["test_acc_std"], "seeds": r["n_seeds"],
                       "s per run": r["train_seconds_mean"], "trainable params": r["trainable_params"]}
                      for r in summary], hide_index=True, width="stretch")  # fmt: skip
    download_buttons(shipped.to_dict(), name="transfer_sweep_shipped", csv_rows=results_table(shipped))

with st.expander("Run a sweep live (uses the settings above)"):
    s1, s2, s3 = st.columns(3)
    sweep_shots = s1.multiselect("Shots per class", [1, 2, 5, 10, 20, 50, 100, 200], default=[5, 20])
    sweep_seeds = int(s2.number_input("Seeds per cell", 1, 5, 3, key="sweep-seeds"))
    sweep_epochs = int(s3.number_input("Epochs per run", 1, 100, min(epochs, 8), key="sweep-epochs"))
    runs_total = len(sweep_shots) * sweep_seeds * len(strategies)
    st.caption(f"{runs_total} runs. On a 2-core CPU a ResNet-20 run takes tens of seconds; on a GPU about a second.")
    if st.button("Run sweep", disabled=not (sweep_shots and strategies) or (target == "upload" and upload is None)):
        device, seed = current_device(), current_seed()
        sweep_config = make_config(sorted(sweep_shots), list(range(seed, seed + sweep_seeds)), strategies, sweep_epochs)
        data = upload

        def sweep_work(job):
            return run_transfer(sweep_config, device=device, on_progress=job.report, should_stop=job.should_stop,
                                on_result=job.publish, upload=data)  # fmt: skip

        launch(SWEEP_KEY, sweep_work, title=f"label-budget sweep, {runs_total} runs")

    def render_sweep(job) -> None:
        _, _, partial = job.snapshot()
        result = job.result if isinstance(job.result, TransferResult) else partial
        if result is None or not result.results:
            return
        st.plotly_chart(sweep_figure(summarize(result.results), title="Live sweep"), width="stretch",
                        key=f"sweep-{job.id}-{len(result.results)}")  # fmt: skip
        st.markdown(describe_sweep(result))
        if not job.active:
            download_buttons(result.to_dict(), name="transfer_sweep_live", csv_rows=results_table(result))

    job_panel(SWEEP_KEY, render_sweep)
