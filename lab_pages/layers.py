"""What the layers see: an image through preprocessing (ImageNet's pipeline and the lab's 28x28 one), then through
a trained network, stage by stage, with the first layer's filters and Grad-CAM.

One page for both because they are one path: the image chosen at the top is what each pipeline transforms and
what the network then sees. Thin page: resnet_core.layers (preprocess, run, report) computes, its plots draw.
"""

import time

import numpy as np
import streamlit as st
from PIL import Image

from lab_pages import presenter
from lab_pages.charts import chart
from lab_pages.run_panel import show_estimate
from lab_pages.ui import current_device, remember
from resnet_core.checkpoints import TORCHVISION_WEIGHTS, imagenet_weights_file
from resnet_core.data.datasets import FASHION_CLASSES, class_label, load_dataset
from resnet_core.i18n import N_
from resnet_core.i18n import gettext as _
from resnet_core.layers import preprocess as pp
from resnet_core.layers import run as lv
from resnet_core.layers.plots import feature_grid_figure, filters_figure, overlay
from resnet_core.layers.report import describe_all
from resnet_core.serving.estimates import Work, forward_macs

NETS = {
    "resnet20": N_("ResNet-20 trained on Fashion-MNIST (shipped)"),
    **{a: N_("torchvision {arch} with ImageNet weights") for a in TORCHVISION_WEIGHTS},
}


@st.cache_resource(show_spinner=False)
def bundled_test():
    return load_dataset("bundled").test


def show_steps(steps: list[pp.Step], key: str) -> None:
    cols = st.columns(len(steps))
    for col, step in zip(cols, steps):
        col.image(pp.enlarge(step.display), caption=step.title, width="stretch")
        col.markdown(
            f"**{step.title}** · {'×'.join(map(str, step.shape))} · {step.dtype}  \n"
            + _("values {low:.3g} … {high:.3g}").format(low=step.vmin, high=step.vmax)
        )
        col.caption(step.detail)


def layers_work(net: str) -> Work:
    """What this page computes for ``net``: a forward pass with hooks, then Grad-CAM's forward and backward."""
    if net == "resnet20":
        macs = forward_macs(20)
    else:
        from resnet_core.architectures.zoo import net_stats

        macs = net_stats(net).macs
    return Work(kind="layers", eval_macs=4.0 * macs, nets=0)


presenter.gate("layers", _("What the layers see"))
st.title(_("What the layers see"))
st.markdown(
    _(
        "Pick an image. First it is **preprocessed** the way a network expects, step by step; then it goes through a "
        "trained network and you see the **activations after the stem and after each stage** (recorded by forward hooks "
        "during the network's own forward pass), the first layer's filters, and where the network looks for its answer."
    )
)

# ============================================================================================ the image
c1, c2 = st.columns([1, 2])
kind = c1.radio(
    _("Image"),
    ["photo", "fashion", "upload"],
    **remember("lv-kind", ["photo", "fashion", "upload"]),
    format_func={
        "photo": _("a bundled photo"),
        "fashion": _("a Fashion-MNIST test image"),
        "upload": _("your own image"),
    }.get,
)
img: Image.Image | None = None
if kind == "photo":
    name = c2.selectbox(_("Photo"), pp.list_photos(), **remember("lv-photo"))
    img = pp.load_photo(name)
    c2.caption(_("CC0 / public-domain photos from scikit-image's sample data (assets/photos/README.md)."))
elif kind == "fashion":
    test = bundled_test()
    cls = c2.selectbox(
        _("Class"),
        range(len(FASHION_CLASSES)),
        format_func=lambda c: class_label(FASHION_CLASSES[c]),
        **remember("lv-class", range(len(FASHION_CLASSES))),
    )
    nth = int(c2.number_input(_("Which one of that class"), 0, 299, 0, **remember("lv-nth")))
    index = int(np.flatnonzero(test.labels.numpy() == cls)[nth])
    img = Image.fromarray(test.images[index, 0].numpy()).convert("RGB")
    c2.caption(
        _("{name}: test image {n} of this class (number {index} of the bundled test split).").format(
            name=class_label(FASHION_CLASSES[cls]), n=nth + 1, index=index
        )
    )
else:
    file = c2.file_uploader(_("An image (JPEG or PNG)"), type=["jpg", "jpeg", "png"], key="lv-upload")
    if file is not None:
        try:
            img = pp.load_photo(file.getvalue())
        except (ValueError, OSError) as exc:
            c2.error(_("This image cannot be used: {error}").format(error=exc))
if img is None:
    st.info(_("Choose or upload an image."))
    st.stop()

# ====================================================================================== preprocessing
st.header(_("Preprocessing step by step"))
st.subheader(_("ImageNet: Resize 256 → CenterCrop 224 → ToTensor → Normalize"))
st.caption(
    _(
        "Parameters from `ResNet50_Weights.IMAGENET1K_V1.transforms()`, applied with torchvision's transforms v2; "
        "the last tensor equals what that preset gives."
    )
)
show_steps(pp.imagenet_steps(img), "imagenet")
st.subheader(_("The lab's pipeline: grey 28×28, Fashion-MNIST's mean and std"))
lab = pp.lab_steps(img)
show_steps(lab, "lab")

# ========================================================================================= the layers
st.header(_("Inside a trained network"))
net = st.selectbox(
    _("Network"),
    list(NETS),
    format_func=lambda n: (
        _(NETS[n]).format(arch=n)
        + ("" if n == "resnet20" or lv.imagenet_models_available()[n] else _(" — weights not on this server"))
    ),
    **remember("lv-net", list(NETS)),
)
if net == "resnet20":
    model, meta = lv.load_lab_model()
    x, classes = lab[-1].tensor[None], list(FASHION_CLASSES)
    st.caption(
        _("Shipped checkpoint resnet20: {acc:.1%} test accuracy on {data}.").format(
            acc=meta.get("test_acc", float("nan")), data=meta.get("test_data", "Fashion-MNIST")
        )
        + (
            " "
            + _(
                "It has only ever seen 28×28 grey clothes: a photo is far outside what it knows, so its answer "
                "for one is a guess, but its filters still respond to edges."
            )
            if kind != "fashion"
            else ""
        )
    )
elif not lv.imagenet_models_available()[net]:
    file = imagenet_weights_file(net)
    st.warning(
        _(
            "The ImageNet weights for {net} are not on this server. Put **{file}** in `{folder}` (set TORCH_HOME to "
            "move that folder), or run `python -m resnet_core download {net}` where the internet is reachable; then "
            "this view shows the ImageNet network."
        ).format(net=net, file=file.name, folder=file.parent)
    )
    st.stop()
else:
    model, classes = lv.load_imagenet_model(net)
    x = pp.imagenet_input(img)

show_estimate(layers_work(net), current_device())  # one forward pass with hooks, then Grad-CAM's forward and backward
start = time.perf_counter()
fm = lv.feature_maps(model, x)
took = time.perf_counter() - start
probs = fm.probabilities()[0]
top = probs.argsort(descending=True)[:3].tolist()
st.markdown(
    _("Prediction: ")
    + ", ".join(f"**{class_label(classes[i])}** {probs[i]:.0%}" for i in top)
    + ". "
    + _("One forward pass with the hooks took {ms:.0f} ms here.").format(ms=took * 1000)
)

c1, c2, c3 = st.columns(3)
weight = lv.first_conv(model).weight.detach().numpy()
chart(
    filters_figure(
        weight,
        title=_("First layer: {n} filters of {h}×{w} (red +, blue −)").format(
            n=weight.shape[0], h=weight.shape[2], w=weight.shape[3]
        ),
    ),
    key="lv-filters",
    container=c1,
)
seen = lab[-2].display if net == "resnet20" else pp.imagenet_steps(img)[2].display
c2.image(pp.enlarge(seen, 280), caption=_("What the network gets (before normalisation)"), width="stretch")
cam = lv.gradcam(model, list(lv.stage_modules(model).values())[-1], x, [top[0]])[0]
c3.image(
    pp.enlarge(overlay(seen.transpose(2, 0, 1), cam), 280),
    caption=_("Grad-CAM at the last stage for '{name}' (red: most evidence)").format(name=class_label(classes[top[0]])),
    width="stretch",
)

per_stage = st.select_slider(
    _("Channels shown per stage (the most active first)"), [8, 16, 32, 64], value=16, **remember("lv-k")
)
for sentence, name, act in zip(describe_all(fm, list(x.shape[1:])), fm.names, fm.maps):
    a = act.numpy()
    channels = lv.top_channels(act, min(per_stage, a.shape[0]))
    st.markdown(sentence)
    chart(
        feature_grid_figure(
            a,
            channels,
            title=_("{name}: {n} of {total} channels, {h}×{w}").format(
                name=name, n=len(channels), total=a.shape[0], h=a.shape[1], w=a.shape[2]
            ),
            columns=16,
            tile_px=70,
        ),
        key=f"lv-{name}",
    )
