"""What the teacher's and the students' views of a room share: the room store, the lesson's questions (the
presenter questions of every page, answered by measured results), the class's split, and the live run the room
watches. Rules (who may do what, one vote per voter) live in resnet_core.serving.rooms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from lab_pages import presenter
from lab_pages.charts import chart, shared_chart
from lab_pages.presenter import Step
from lab_pages.runs import result_so_far
from resnet_core.figures import votes_figure
from resnet_core.i18n import _
from resnet_core.serving.lesson import ITEMS, LESSON
from resnet_core.serving.rooms import Room, RoomError, RoomStore

ROOM_PARAM, VOTER_PARAM = "room", "voter"


@st.cache_resource
def room_store() -> RoomStore:
    """One store per server; its folder is beside the result store, shared by every replica using that folder."""
    return RoomStore()


def teacher_key(code: str) -> str | None:
    """The teacher key of ``code`` if this browser session opened (or took over) the room; never from the URL."""
    return st.session_state.get(f"room-key-{code}")


def lesson_steps() -> dict[str, Step]:
    """The lesson's questions by key, in this session's language, built from the measured results once per
    language and seed for the whole server (thirty phones polling every second must not rebuild them)."""
    from lab_pages.ui import current_seed
    from resnet_core.i18n import current_language

    return _lesson_steps(current_language(), current_seed())


@st.cache_resource(max_entries=8, show_spinner=False)
def _lesson_steps(language: str, seed: int) -> dict[str, Step]:
    steps: dict[str, Step] = {}
    for page in dict.fromkeys(item.page for item in LESSON):
        for step in presenter.STEPS[page]():
            steps[step.question.key] = step
    return steps


def room_error_text(exc: RoomError) -> str:
    return {
        "unknown": _("There is no room with the code **{code}**. Check the code with your teacher."),
        "expired": _("Room **{code}** has ended (a room closes after 4 hours without activity)."),
        "bad-code": _("**{code}** is not a room code: a code has 6 letters and digits, like K7PQ2M."),
        "not-teacher": _("Only the teacher's browser can do that in room **{code}**."),
        "voting-closed": _("Voting is closed for this question in room **{code}**."),
        "not-an-option": _("That is not one of the options in room **{code}**."),
    }.get(exc.reason, "{code}").format(code=exc.code)


def question_header(room: Room) -> None:
    st.caption(
        _("Room {code} · question {n} of {total}").format(code=room.code, n=room.position + 1, total=len(room.lesson))
    )


def split_figure(room: Room, step: Step) -> Any:
    """The class's votes on the current question, the first round and (if there was one) the second."""
    q = step.question
    rounds = [room.tally(q.key, 1)] + ([room.tally(q.key, 2)] if room.round == 2 or room.cast(q.key, 2) else [])
    answer = q.answer if room.phase == "revealed" else None
    return votes_figure(q.options, rounds, answer)


def reveal(room: Room, step: Step, *, key: str) -> None:
    """The measured answer, its explanation and figure, beside how the class voted."""
    q = step.question
    if q.answer is None:
        st.warning(_("The measurement does not settle this question: none of the options holds on every seed."))
    else:
        st.success(_("Measured: **{answer}**").format(answer=q.options[q.answer]))
    st.markdown(q.explanation)
    if q.evidence:
        st.caption(q.evidence)
    chart(split_figure(room, step), key=f"{key}-split")
    if step.figure is not None:
        chart(step.figure(), key=f"{key}-figure")


# ------------------------------------------------------------------------------------------ the live run
def run_request(room: Room) -> Any:
    """The room's live run as a request (None when the current question has none running)."""
    from resnet_core.serving.runs import RunRequest

    run = room.run
    if not run or run.get("question") != room.question:
        return None
    return RunRequest(run["kind"], run["config"], run["device"], title=run.get("title", ""))


def show_live_result(kind: str, view: Any, *, key: str) -> None:
    """A compact view of the room's live run (``view``: the run or its stored result): the experiment's headline and
    its main figure, built once for every phone and projector that shows it (they all poll every second)."""
    from resnet_core import registry

    experiment = registry.get(kind)
    result = result_so_far(view)
    if result is None or not getattr(result, "status", None):
        return
    if experiment.headline is not None and getattr(result, "status", "") in ("done", "diverged"):
        st.markdown(experiment.headline(result))
    live = _live_figure(kind, result)
    if live is not None:
        got_to, build = live
        content = ("room-run", kind, view.id, getattr(view, "started", None), result.status, got_to)
        shared_chart(content, build, key=key)


def _live_figure(kind: str, result: Any) -> tuple[int, Callable[[], Any]] | None:
    """How far ``result`` got (its runs so far) and how to build its main figure; None before it has any."""
    if kind == "gradients" and result.runs:
        from resnet_core.gradients.plots import ratio_figure

        return len(result.runs), lambda: ratio_figure(result)
    if kind == "ablation" and result.models:
        from resnet_core.ablation.plots import delete_one_figure

        return len(result.models), lambda: delete_one_figure(result)
    if kind == "transfer" and result.results:
        from resnet_core.transfer.plots import paired_figure
        from resnet_core.transfer.result import paired_differences

        return len(result.results), lambda: paired_figure(paired_differences(result.results))
    return None


def item_of(room: Room):
    return ITEMS.get(room.question)
