"""The Transfer page's setup widgets that need no more than themselves: the source network with its class split,
and the advanced settings (learning rates, regularisation, BatchNorm, early stopping, data sizes)."""

from __future__ import annotations

import streamlit as st

from lab_pages.ui import remember
from resnet_core.checkpoints import CHECKPOINT_DIR, imagenet_weights_available, imagenet_weights_file, read_manifest
from resnet_core.i18n import gettext as _
from resnet_core.transfer import IMAGENET_SOURCES, TransferConfig, lr_ratio_text, source_name, split_label


def source_picker(column) -> tuple[str, int | None, bool]:
    """The source network (and, for the shipped Fashion-MNIST source, its class split): (source, split seed,
    whether to download ImageNet weights at the start of training)."""
    c1 = column
    source_options = ["fashion", *IMAGENET_SOURCES]
    source = c1.selectbox(
        _("Source network"),
        source_options,
        format_func=lambda s: (
            _("ResNet-20 pretrained on 6 Fashion-MNIST classes (shipped)")
            if s == "fashion"
            else _("torchvision {arch} with ImageNet weights").format(arch=IMAGENET_SOURCES[s])
            + ("" if imagenet_weights_available(IMAGENET_SOURCES[s]) else _(" — weights not on this server"))
        ),
        **remember("tl-source", source_options),
    )
    download_weights = False
    split_seed = None
    if source == "fashion":
        sources = {
            e.get("split_seed"): name
            for name, e in read_manifest().get("checkpoints", {}).items()
            if e.get("role") == "transfer-source" and name == source_name(e.get("split_seed"))
        }
        split_seed = c1.selectbox(
            _("Class split (its own pretrained source)"),
            list(sources) or [None],
            format_func=split_label,
            **remember("tl-split-seed", list(sources) or [None]),
        )
        source_path = CHECKPOINT_DIR / f"{source_name(split_seed)}.pt"
        if not source_path.is_file():
            c1.error(
                _(
                    "The shipped source checkpoint {file} is missing; recreate it with "
                    "`python -m resnet_core pretrain-source`."
                ).format(file=source_path.name)
            )
    if source in IMAGENET_SOURCES:
        arch = IMAGENET_SOURCES[source]
        if imagenet_weights_available(arch):
            c1.success(_("ImageNet weights found: {file}").format(file=imagenet_weights_file(arch)))
        else:
            c1.warning(
                _(
                    "The ImageNet weights for {arch} are not on this server. Put **{file}** in `{folder}` (set TORCH_HOME "
                    "to move that folder), or allow the download below where the internet is reachable."
                ).format(arch=arch, file=imagenet_weights_file(arch).name, folder=imagenet_weights_file(arch).parent)
            )
            download_weights = c1.checkbox(_("Download the weights when training starts (needs internet)"), value=False)
        c1.caption(
            _(
                "Images are converted to 3 channels, resized and normalised with the ImageNet mean and std. "
                "On a CPU this is slow: keep the image size small."
            )
        )

    return source, split_seed, download_weights


def advanced_settings(d: TransferConfig, caps) -> dict:
    """Learning rates, regularisation, BatchNorm, early stopping, data sizes: TransferConfig fields."""
    with st.expander(_("Learning rates, regularisation, BatchNorm, early stopping")):
        a1, a2, a3, a4 = st.columns(4)
        lr_head = a1.number_input(
            _("Head learning rate"), 1e-4, 1.0, d.lr_head, format="%.4f", **remember("tl-lr-head")
        )
        lr_backbone = a2.number_input(
            _("Backbone learning rate (fine-tuning)"),
            1e-5,
            1.0,
            d.lr_backbone,
            format="%.4f",
            **remember("tl-lr-backbone"),
        )
        a2.caption(
            _("Pretrained layers learn {ratio} than the new head (default {default}).").format(
                ratio=lr_ratio_text(lr_head, lr_backbone), default=lr_ratio_text(d.lr_head, d.lr_backbone)
            )
        )
        lr_scratch = a3.number_input(
            _("Scratch learning rate"), 1e-4, 1.0, d.lr_scratch, format="%.4f", **remember("tl-lr-scratch")
        )
        weight_decay = a4.number_input(_("Weight decay"), 0.0, 0.1, d.weight_decay, format="%.5f", **remember("tl-wd"))
        b1, b2, b3, b4 = st.columns(4)
        dropout = b1.slider(_("Dropout before the head"), 0.0, 0.8, d.dropout, 0.1, **remember("tl-dropout"))
        bn_mode = b2.selectbox(
            _("Pretrained BatchNorm statistics"),
            ["frozen", "train"],
            format_func={
                "frozen": _("keep the source's (recommended for small k)"),
                "train": _("re-estimate from target batches"),
            }.get,
            **remember("tl-bn", ["frozen", "train"]),
        )
        staged_head_epochs = int(
            b3.number_input(_("Staged: head-only epochs"), 1, 50, d.staged_head_epochs, **remember("tl-staged-head"))
        )
        early_stopping = b4.toggle(_("Early stopping on validation"), value=d.early_stopping, **remember("tl-early"))
        e1, e2, e3, e4 = st.columns(4)
        patience = int(
            e1.number_input(
                _("Patience (epochs)"), 1, 50, d.patience, disabled=not early_stopping, **remember("tl-patience")
            )
        )
        val_per_class = int(
            e2.number_input(_("Validation images per class"), 5, 500, d.val_per_class, **remember("tl-val"))
        )
        test_per_class = int(
            e3.number_input(
                _("Test images per class (0 = all)"),
                0,
                caps.max_test_per_class,
                caps.max_test_per_class if caps.capped else 0,
                **remember("tl-test"),
            )
        )
        test_per_class = test_per_class or (caps.max_test_per_class if caps.capped else 0)
        image_size = int(
            e4.number_input(
                _("Image size for ImageNet sources"), 32, 224, d.image_size, step=16, **remember("tl-image-size")
            )
        )

    return {
        "lr_head": float(lr_head),
        "lr_backbone": float(lr_backbone),
        "lr_scratch": float(lr_scratch),
        "weight_decay": float(weight_decay),
        "dropout": float(dropout),
        "bn_mode": bn_mode,
        "staged_head_epochs": staged_head_epochs,
        "early_stopping": early_stopping,
        "patience": patience,
        "val_per_class": val_per_class,
        "test_per_class": test_per_class or None,
        "image_size": image_size,
    }
