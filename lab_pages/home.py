"""Home: the idea of a residual block, measured live, a short training job, and the way to the experiments."""

import streamlit as st

from lab_pages import presenter
from lab_pages.charts import chart
from lab_pages.run_panel import job_panel, show_estimate
from lab_pages.runs import launch
from lab_pages.ui import current_device, current_seed, profile, remember, require_data
from resnet_core.data.datasets import load_dataset, stratified_kshot
from resnet_core.gradients.identity import describe_identity_demo, run_identity_demo
from resnet_core.gradients.plots import identity_demo_figure
from resnet_core.i18n import gettext as _
from resnet_core.i18n import ngettext
from resnet_core.models import build_cifar_net, count_parameters
from resnet_core.serving import workloads
from resnet_core.training.engine import TrainConfig, seeded, train
from resnet_core.training.plots import training_curve

presenter.gate("home", _("ResNet Lab"))
st.title(_("ResNet Lab"))
require_data("bundled")
st.markdown(
    _(
        "Why do residual networks train when equally deep plain networks do not, and how far do features learned "
        "on one task carry to another? Every number and curve here is computed by this app, on this server, while "
        "you watch."
    )
)

st.header(_("One idea: add the input back"))
left, right = st.columns([2, 3])
with left:
    st.markdown(_("A residual block learns a correction **F(x)** and adds its input back:"))
    st.latex(
        # Two lines: on one line the "+ I" (the point of the page) was cut off in this narrow column.
        r"\begin{aligned} y &= F(x) + x \\ \Longrightarrow\quad \frac{\partial y}{\partial x} &= "
        r"\frac{\partial F}{\partial x} + I \end{aligned}"
    )
    st.markdown(
        _(
            "Backpropagation multiplies one such Jacobian per block. Without the **+ I**, a product of many factors "
            "smaller (or larger) than one shrinks (or grows) geometrically; with it, every factor stays close to "
            "the identity and the gradient reaches the first layers."
        )
    )
    num_blocks = st.slider(_("Blocks in the stack"), 5, 50, 30, **remember("home-blocks"))
    init = st.selectbox(
        _("Weight initialisation"),
        ["pytorch", "he"],
        format_func={"pytorch": _("PyTorch default (kaiming-uniform, a=√5)"), "he": _("He (Kaiming) normal")}.get,
        **remember("home-init", ["pytorch", "he"]),
    )
    activation = st.selectbox(_("Activation"), ["relu", "tanh", "sigmoid"], **remember("home-act"))


@st.cache_data(show_spinner=_("Measuring gradients…"))
def identity_demo(num_blocks: int, init: str, activation: str, seed: int):
    return run_identity_demo(num_blocks, init=init, activation=activation, seed=seed)  # type: ignore[arg-type]


demo = identity_demo(num_blocks, init, activation, current_seed())
with right:
    chart(identity_demo_figure(demo))
    st.caption(
        _(
            "Measured just now: a stack of two-conv blocks without normalisation, applied to real Fashion-MNIST "
            "images; plain and residual stacks share the same weights."
        )
        + " "
        + describe_identity_demo(demo)
    )

st.header(_("Watch a network learn"))
st.markdown(
    _(
        "Train a small ResNet-20 on the bundled Fashion-MNIST subset. The run is a background job: change any "
        "other widget, or open another page and come back, and it keeps going."
    )
)
c1, c2, c3, c4 = st.columns(4)
train_images = c1.select_slider(
    _("Training images"),
    [n for n in (1000, 2000, 5000, 10000) if n <= profile().max_train_images],
    value=5000,
    **remember("home-images"),
)
epochs = c2.number_input(_("Epochs"), 1, min(20, profile().max_epochs), 1, **remember("home-epochs"))
lr = c3.select_slider(
    _("Learning rate"),
    [0.01, 0.05, 0.1, 0.2, 1.0, 1000.0],
    value=0.1,
    help=_("1000 is there on purpose: watch the run diverge and the lab say so."),
    **remember("home-lr"),
)
plain = c4.toggle(_("Plain (no shortcuts)"), value=False, **remember("home-plain"))

estimate = show_estimate(
    workloads.train_run(depth=20, images=int(train_images), epochs=int(epochs), eval_images=3000), current_device()
)
if st.button(_("Train"), type="primary"):
    device, seed = current_device(), current_seed()

    def work(job):
        splits = load_dataset("bundled")
        subset = splits.train.subset(stratified_kshot(splits.train.labels, train_images // 10, seed=seed))
        model = seeded(lambda: build_cifar_net(20, residual=not plain), seed)
        config = TrainConfig(epochs=int(epochs), lr=lr, seed=seed, log_every=5)
        return train(
            model,
            subset,
            config,
            device=device,
            test_set=splits.test,
            on_progress=job.report,
            should_stop=job.should_stop,
        )

    net = "plain-20" if plain else "ResNet-20"
    launch(
        "home-train",
        work,
        title=ngettext(
            "{net}, {images:,} images, {epochs} epoch, lr {lr:g}",
            "{net}, {images:,} images, {epochs} epochs, lr {lr:g}",
            int(epochs),
        ).format(net=net, images=train_images, epochs=epochs, lr=lr),
        estimate=estimate,
        training=True,
    )


def render_training(job) -> None:
    _state, events, _partial = job.snapshot()
    if events:
        chart(training_curve(events, title=_("Training loss (running) and test accuracy")))
    result = job.result
    if result is not None and result.history:
        last = result.history[-1]
        st.metric(
            _("Test accuracy (3,000 bundled test images)"),
            f"{last['test_acc']:.1%}",
            help=_("{steps} steps in {seconds:.1f}s").format(steps=result.steps, seconds=result.seconds),
        )


@st.cache_resource
def resnet20_parameters() -> int:
    return count_parameters(build_cifar_net(20))  # counted once per server, not on every rerun


job_panel("home-train", render_training)
st.caption(_("ResNet-20 has {n:,} parameters (He et al.: 0.27M).").format(n=resnet20_parameters()))

st.header(_("Experiments"))
for script, label, icon in (
    (
        "gradient_flow",
        _("Gradient flow — plain vs residual gradients by depth, and the degradation problem"),
        "waterfall_chart",
    ),
    (
        "block_ablation",
        _("Block ablation — delete blocks from trained networks: an ensemble of shallow paths"),
        "content_cut",
    ),
    (
        "architectures",
        _("Architectures — parameters, MACs and depth of VGG and ResNets; basic vs bottleneck blocks"),
        "account_tree",
    ),
    (
        "layers",
        _("What the layers see — an image through preprocessing and every stage of a trained network"),
        "visibility",
    ),
    ("transfer_learning", _("Transfer learning — feature extraction vs fine-tuning, side by side"), "swap_horiz"),
    ("room", _("Class room — students vote from their phones before each measurement is revealed"), "groups"),
):
    st.page_link(f"lab_pages/{script}.py", label=label, icon=f":material/{icon}:")
