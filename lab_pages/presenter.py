"""Presenter mode (``?present=1`` or the sidebar toggle): larger type, the sidebar collapsed, and each page as a
short sequence — the question, the class's prediction, then the measured answer with its one-sentence
explanation and figure. The answers come from shipped results (or, on Home, a measurement of a second), so a
class needs no waiting; the page's own controls and live runs stay one toggle away.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import plotly.graph_objects as go
import streamlit as st

from lab_pages.charts import chart
from lab_pages.ui import current_seed, read_result
from resnet_core.data.datasets import REPO_ROOT
from resnet_core.i18n import _
from resnet_core.serving import classroom
from resnet_core.serving.classroom import Question

PRESENT_KEY = "present"
SETTINGS_KEY = "present-settings"
RESULTS = REPO_ROOT / "assets" / "results"

CSS = """
<style>
.stMainBlockContainer { max-width: 1200px; }
.stMainBlockContainer p, .stMainBlockContainer li, .stMainBlockContainer label p { font-size: 1.35rem; }
.stMainBlockContainer h1 { font-size: 3rem; }
.stMainBlockContainer h2 { font-size: 2.2rem; }
.stMainBlockContainer h3 { font-size: 1.9rem; line-height: 1.35; }
.stMainBlockContainer button p { font-size: 1.3rem; }
</style>
"""


@dataclass(frozen=True)
class Step:
    question: Question
    figure: Callable[[], go.Figure] | None = None


def mode_from_url() -> bool:
    """Presenter mode on this run: the URL decides on a session's first run, the sidebar toggle after that."""
    if PRESENT_KEY not in st.session_state:
        st.session_state[PRESENT_KEY] = st.query_params.get(PRESENT_KEY, "").lower() in ("1", "true", "yes")
    return bool(st.session_state[PRESENT_KEY])


def sync_url() -> None:
    """Keep ``present=1`` in the URL while presenting, so a copied link opens in presenter mode."""
    if st.session_state.get(PRESENT_KEY):
        st.query_params[PRESENT_KEY] = "1"
    elif PRESENT_KEY in st.query_params:
        del st.query_params[PRESENT_KEY]


def experiment_link() -> str | None:
    """This page's address with every setting in the URL (the widgets bound to query parameters, the seed,
    the device, the language, presenter mode)."""
    base = st.context.url
    if not base:
        return None
    pairs = [(k, v) for k in st.query_params for v in st.query_params.get_all(k)]
    return base + ("?" + urlencode(pairs) if pairs else "")


# ------------------------------------------------------------------------------------------ page questions
@st.cache_data(show_spinner=False)
def _identity(seed: int):
    from resnet_core.gradients.identity import run_identity_demo

    return run_identity_demo(30, seed=seed)


def home_steps() -> list[Step]:
    from resnet_core.gradients.plots import identity_demo_figure

    seed = current_seed()
    demo = _identity(seed)
    return [Step(classroom.identity_question(demo, seed), lambda: identity_demo_figure(demo))]


def gradient_steps() -> list[Step]:
    from resnet_core.degradation.plots import degradation_figure
    from resnet_core.gradients.plots import ratio_figure

    steps = []
    grads = read_result(RESULTS / "gradients_none.json")
    if grads:
        steps.append(Step(classroom.gradient_question(grads), lambda: ratio_figure(grads)))
    deg = read_result(RESULTS / "degradation.json")
    if deg:
        steps.append(Step(classroom.degradation_question(deg), lambda: degradation_figure(deg)))
    return steps


def ablation_steps() -> list[Step]:
    from resnet_core.ablation.plots import delete_one_figure

    result = read_result(RESULTS / "ablation56.json")
    return [Step(classroom.ablation_question(result), lambda: delete_one_figure(result))] if result else []


def architecture_steps() -> list[Step]:
    from resnet_core.architectures.zoo import net_stats  # cached per process

    return [Step(classroom.parameters_question(net_stats("vgg16"), net_stats("resnet50")))]


def layers_steps() -> list[Step]:
    from resnet_core.architectures.zoo import net_stats

    return [Step(classroom.stage_size_question(net_stats("resnet20")))]


def transfer_steps() -> list[Step]:
    from resnet_core.transfer.plots import paired_figure
    from resnet_core.transfer.result import comparison_path, load_result, paired_differences

    result = load_result(comparison_path(None))
    if result is None:
        return []
    return [Step(classroom.transfer_question(result), lambda: paired_figure(paired_differences(result.results)))]


STEPS: dict[str, Callable[[], list[Step]]] = {
    "home": home_steps,
    "gradient_flow": gradient_steps,
    "block_ablation": ablation_steps,
    "architectures": architecture_steps,
    "layers": layers_steps,
    "transfer_learning": transfer_steps,
}


# ------------------------------------------------------------------------------------------ rendering
def show_step(number: int, step: Step) -> None:
    q = step.question
    st.subheader(_("Question {n}").format(n=number))
    st.markdown(f"### {q.prompt}")
    guess = st.radio(
        _("The class predicts"),
        list(q.options),
        index=None,
        format_func=q.options.get,
        key=f"present-{q.key}-guess",
    )
    shown_key = f"present-{q.key}-shown"
    if st.button(_("Reveal the measurement"), key=f"present-{q.key}-reveal", type="primary", disabled=guess is None):
        st.session_state[shown_key] = True
    if guess is None:
        st.caption(_("Pick the class's prediction first, then reveal what the lab measured."))
    if not st.session_state.get(shown_key):
        return
    if q.answer is None:
        st.warning(_("The measurement does not settle this question: none of the options holds on every seed."))
    elif guess == q.answer:
        st.success(_("Measured: **{answer}**, as the class predicted.").format(answer=q.options[q.answer]))
    else:
        st.info(
            _("Measured: **{answer}**. The class predicted: {guess}.").format(
                answer=q.options[q.answer], guess=q.options.get(guess, "")
            )
        )
    st.markdown(q.explanation)
    if q.evidence:
        st.caption(q.evidence)
    if step.figure is not None:
        chart(step.figure(), key=f"present-{q.key}-fig")


def gate(page: str, title: str) -> None:
    """Called at the top of each page: in presenter mode, draw the page's question sequence and stop there
    unless the presenter opens the page's own settings."""
    if mode_from_url() and not present(page, title):
        st.stop()


def present(page: str, title: str) -> bool:
    """Draw a page's question sequence; returns whether the page's own controls should be drawn too."""
    st.html(CSS)
    st.title(title)
    st.page_link(
        "lab_pages/room.py",
        label=_("Let the class vote from their phones: open a room"),
        icon=":material/groups:",
    )
    make = STEPS.get(page)
    steps = make() if make else []
    if not steps:
        st.info(_("No shipped result for this page here: open the settings to run it live."))
    for number, step in enumerate(steps, start=1):
        show_step(number, step)
        st.divider()
    return st.toggle(_("Settings and live runs"), key=SETTINGS_KEY)
