"""The teacher's view of a room, for the projector: the join code, its QR code and link; the current question; a
live count of votes cast (the split hidden until the teacher shows it); the reveal beside the class's split; a
second round after discussion; the live run everyone watches; the lesson's time plan and talking points; the
votes as CSV. Only this browser (it holds the teacher key in its session) can act."""

from __future__ import annotations

import io

import streamlit as st

from lab_pages.charts import chart
from lab_pages.room_common import (
    ROOM_PARAM,
    item_of,
    lesson_steps,
    question_header,
    reveal,
    room_error_text,
    room_store,
    run_request,
    show_live_result,
    split_figure,
    teacher_key,
)
from lab_pages.ui import current_device
from resnet_core.i18n import _
from resnet_core.serving.lesson import LESSON, talking_points, time_plan
from resnet_core.serving.rooms import Room, RoomError, join_path


def join_url(code: str) -> str:
    """The link students open: this server's address with the room's path (no teacher key in it)."""
    base = (st.context.url or "").split("?", 1)[0].rstrip("/")
    root = base.rsplit("/", 1)[0] if base.endswith(("/room", "/class")) else base
    return root + join_path(code)


def qr_png(text: str) -> bytes:
    import segno  # a well-kept pure-Python QR library

    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=10, border=2, dark="#000", light="#fff")
    return out.getvalue()


def act(code: str, action: str, **kw) -> None:
    try:
        room_store().act(code, teacher_key(code), action, **kw)
    except RoomError as exc:
        st.error(room_error_text(exc))


def teacher_view(code: str) -> None:
    from lab_pages import presenter

    if presenter.mode_from_url():
        st.html(presenter.CSS)  # projector-size type, as on the presenter pages
    try:
        room = room_store().get(code)
    except RoomError as exc:
        st.error(room_error_text(exc))
        return
    url = join_url(code)
    left, right = st.columns([3, 1])
    with left:
        st.markdown(_("## Room **{code}**").format(code=code))
        st.markdown(_("Students join at **{url}**, or scan the code.").format(url=url))
        st.caption(_("No names: each phone gets an anonymous id, and one vote per question and round."))
    right.image(qr_png(url), caption=code, width=180)
    steps = lesson_steps()
    controls(code, room, steps)
    lesson_panel(code, room, steps)


def controls(code: str, room: Room, steps: dict) -> None:
    step = steps.get(room.question)

    options = list(step.question.options) if step else []
    c = st.columns(4)
    phase = room.phase
    if c[0].button(_("Open voting"), disabled=phase not in ("question",) or step is None, type="primary"):
        act(code, "open_voting", options=options)
        st.rerun()
    if c[1].button(_("Close voting"), disabled=phase != "voting"):
        act(code, "close_voting")
        st.rerun()
    if c[2].button(_("Show the votes"), disabled=room.split_shown or phase == "question"):
        act(code, "show_split")
        st.rerun()
    if c[3].button(_("Reveal the measurement"), disabled=phase in ("question", "revealed"), type="primary"):
        act(code, "close_voting")
        act(code, "reveal")
        st.rerun()
    c = st.columns(4)
    if c[0].button(
        _("Discuss, then vote again"),
        disabled=room.round == 2 or phase not in ("closed",),
        help=_("Peer Instruction: after a first vote, students discuss with a neighbour and vote again."),
    ):
        act(code, "second_round", options=options)
        st.rerun()
    if c[1].button(_("Back"), disabled=room.position == 0):
        act(code, "go", position=room.position - 1)
        st.rerun()
    last = room.position >= len(room.lesson) - 1
    if c[2].button(_("Skip") if phase != "revealed" else _("Next question"), disabled=last):
        act(code, "go", position=room.position + 1)
        st.rerun()
    item = item_of(room)
    if item is not None and item.run is not None:
        kind, config = item.run()
        if c[3].button(_("Run it live for the class"), disabled=run_request(room) is not None):
            start_run(code, room, kind, config)
            st.rerun()

    question_header(room)
    if step is None:
        st.warning(_("This question needs a shipped result that is not on this server: skip it."))
        return
    q = step.question
    st.markdown(f"### {q.prompt}")
    st.markdown("\n".join(f"- {words}" for words in q.options.values()))

    @st.fragment(run_every=1.0)
    def live() -> None:  # every second: the count (and the split while votes still come in), the live run
        current = room_store().get(code)
        if (current.position, current.phase, current.round) != (room.position, room.phase, room.round):
            st.rerun()  # changed elsewhere (another tab of this teacher): draw the page again
        round_words = _("first vote") if current.round == 1 else _("after discussion")
        st.metric(_("Votes cast ({round})").format(round=round_words), current.cast())
        if current.split_shown and current.phase != "revealed":
            chart(split_figure(current, step), key=f"teacher-split-{current.question}")
        show_run(current)

    live()
    if room.phase == "revealed":
        reveal(room, step, key=f"teacher-{room.question}")


def start_run(code: str, room: Room, kind: str, config) -> None:
    from lab_pages.runs import request_run
    from resnet_core import registry

    title = _(registry.get(kind).title)
    handle = request_run(f"room-run-{code}-{room.question}", kind, config, title=title)
    if handle is not None:
        device = handle.request.device if handle.request else str(current_device())
        act(
            code,
            "start_run",
            run={"kind": kind, "config": handle.request.config_dict, "device": device, "title": title},
        )


def show_run(room: Room) -> None:
    """The room's live run on the projector: progress and Stop (for everyone), then its result."""
    from lab_pages.run_panel import job_status
    from lab_pages.runs import service, session_id

    key = f"room-run-{room.code}-{room.question}"
    view = st.session_state.get(key)
    request = run_request(room)
    if request is None:
        return
    if view is None:  # this browser took the room over, or reloaded: find the run again
        runs = service()
        handle = runs.lookup(request, session_id()) if runs is not None else None
        if handle is None:
            return
        view = handle.view
    st.divider()
    st.markdown("**" + _("Live run for the class: {title}").format(title=request.title) + "**")
    job_status(view, controls=False)
    if view.active and st.button(_("Stop the live run"), key=f"stop-room-run-{room.question}"):
        stop = getattr(view, "stop", None)
        if stop is not None:
            stop("request")
    show_live_result(request.kind, view, key=f"teacher-run-{room.question}")


def lesson_panel(code: str, room: Room, steps: dict) -> None:
    from lab_pages.runs import service
    from resnet_core.serving.estimates import ready_estimate
    from resnet_core.serving.workloads import for_request

    with st.expander(_("Lesson plan and talking points")):

        def seconds(kind, config):
            work = for_request(kind, config)
            est = ready_estimate(work, current_device()) if work is not None else None
            return est.total if est is not None else None

        rows = time_plan(seconds)
        for row, item in zip(rows, LESSON):
            step = steps.get(item.key)
            title = step.question.prompt if step else item.key
            run = (
                _(" · live run ≈ {s:.0f} s").format(s=row["run_seconds"])
                if row["run_seconds"]
                else (_(" · live run (timing this server…)") if item.run else "")
            )
            marker = "▶ " if row["position"] - 1 == room.position else ""
            st.markdown(
                f"{marker}**{row['position']}. {row['start_min']:.0f}–{row['end_min']:.0f} min**{run} — {title}"
            )
            if step is not None:
                for point in talking_points(item, step.question.explanation, step.question.evidence):
                    st.caption(point)
        st.caption(_("About {m:.0f} minutes in all.").format(m=rows[-1]["end_min"] if rows else 0))
    with st.expander(_("Votes (CSV, anonymous) and the teacher key")):
        st.download_button(
            _("Download the class's votes (CSV)"),
            room_store().csv(code, teacher_key(code)),
            file_name=f"room-{code}-votes.csv",
            mime="text/csv",
        )
        st.markdown(
            _(
                "Teacher key: `{key}`. Keep it private: with the room code it lets another browser (yours, after "
                "a reload) take over as teacher."
            ).format(key=teacher_key(code))
        )
    service()  # start the run service (and its executor) before the first live run is asked for


def open_room() -> None:
    """The lobby on a teacher's screen: open a room for this class, or take one over with its teacher key."""
    st.markdown(
        _(
            "Open a room and your students join from their phones with its code: they vote on each question before "
            "the reveal, see how the class split, and watch the live runs you start. The lesson follows the "
            "presenter questions of every page ({n} questions, about 45–60 minutes)."
        ).format(n=len(LESSON))
    )
    if st.button(_("Open a room for this class"), type="primary"):
        room, key = room_store().create([item.key for item in LESSON])
        st.session_state[f"room-key-{room.code}"] = key
        st.query_params[ROOM_PARAM] = room.code
        st.rerun()
    with st.expander(_("Take over a room as its teacher (after a reload)")):
        code = st.text_input(_("Room code"), max_chars=12, key="takeover-code")
        key = st.text_input(_("Teacher key"), max_chars=20, type="password", key="takeover-key")
        if st.button(_("Take over")) and code and key:
            from resnet_core.serving.rooms import normal_code

            try:
                code = normal_code(code)
            except RoomError as exc:
                st.error(room_error_text(exc))
                return
            if room_store().is_teacher(code, key.strip().upper()):
                st.session_state[f"room-key-{code}"] = key.strip().upper()
                st.query_params[ROOM_PARAM] = code
                st.rerun()
            st.error(_("That teacher key does not open room {code}.").format(code=code))
