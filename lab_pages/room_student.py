"""A student's view of a room, made for a phone (390 px): the room's current question, one big button per
option (a vote, changeable until the teacher closes voting), then the reveal — the measured answer, its figure
and how the class voted — and the live run the teacher starts. Nothing else of the lab's controls is in the way.

A tiny fragment reads the room's state every second (a small file read) and redraws the screen when what it shows
has changed, so the reveal reaches every phone within about a second, and a vote shows on the teacher's count. The
voter id is anonymous (random, kept in the URL so a reload keeps the vote) and says nothing about the student.
"""

from __future__ import annotations

import streamlit as st

from lab_pages.room_common import (
    ROOM_PARAM,
    VOTER_PARAM,
    lesson_steps,
    question_header,
    reveal,
    room_error_text,
    room_store,
    run_request,
    show_live_result,
)
from resnet_core.i18n import _
from resnet_core.serving.rooms import RoomError, new_voter_id

PHONE_CSS = """
<style>
.stMainBlockContainer { padding: 1rem 0.8rem 3rem 0.8rem; max-width: 720px; }
.stMainBlockContainer p, .stMainBlockContainer li { font-size: 1.1rem; }
.stMainBlockContainer h3 { font-size: 1.35rem; line-height: 1.35; }
.stMainBlockContainer button { min-height: 3.2rem; }
.stMainBlockContainer button p { font-size: 1.1rem; white-space: normal; }
</style>
"""


def voter_id() -> str:
    """This browser's anonymous voter id: from the URL (a reload keeps it), else a new one put there."""
    voter = st.query_params.get(VOTER_PARAM)
    if not voter or len(voter) > 64 or not voter.isalnum():
        voter = new_voter_id()
        st.query_params[VOTER_PARAM] = voter
    return voter


def signature(room) -> str:
    """What a student's screen shows of a room: when it changes, the screen is drawn again."""
    return f"{room.position}|{room.phase}|{room.round}|{room.split_shown}|{room.run}"


def student_view(code: str) -> None:
    """The room as it is now, drawn once; a tiny fragment checks the room every second and redraws the screen
    only when what it shows has changed (a phone's browser is not asked to draw the same charts every second)."""
    st.html(PHONE_CSS)
    voter = voter_id()
    try:
        room = room_store().get(code)
    except RoomError as exc:
        st.error(room_error_text(exc))
        other = st.text_input(_("Another room code"), key="student-other-code", max_chars=12)
        if other:
            st.query_params[ROOM_PARAM] = other.strip().upper()
            st.rerun()
        return
    draw(room, voter)
    watch(code, signature(room))
    if run_request(room) is not None:
        watch_run(code)


def watch(code: str, shown: str) -> None:
    @st.fragment(run_every=1.0)
    def changed() -> None:
        try:
            now = signature(room_store().get(code))
        except RoomError:
            now = "gone"
        if now != shown:
            st.rerun()

    changed()


def draw(room, voter: str) -> None:
    step = lesson_steps().get(room.question)
    question_header(room)
    if step is None:
        st.info(_("The teacher's next question is not available on this server."))
        return
    q = step.question
    st.markdown(f"### {q.prompt}")
    mine = room.vote_of(voter)
    if room.phase == "voting":
        st.caption(
            _("Tap your answer. You can change it until the teacher closes voting.")
            if room.round == 1
            else _("Second vote, after the discussion: tap your answer again.")
        )
        for option, words in q.options.items():
            chosen = option == mine
            if st.button(
                ("✓ " if chosen else "") + words,
                key=f"vote-{room.question}-{room.round}-{option}",
                type="primary" if chosen else "secondary",
                width="stretch",
            ):
                try:
                    room_store().vote(room.code, voter, option)
                except RoomError as exc:
                    st.warning(room_error_text(exc))
                st.rerun()
        if mine is not None:
            st.success(_("Your vote: **{answer}**").format(answer=q.options.get(mine, mine)))
    elif room.phase == "question":
        st.info(_("Think about your answer: voting opens in a moment."))
    elif room.phase == "closed":
        st.info(
            (_("Your vote: **{answer}**. ").format(answer=q.options.get(mine, mine)) if mine else "")
            + _("Voting is closed: the measurement comes next.")
        )
    elif room.phase == "revealed":
        if mine is not None:
            st.caption(_("You voted: {answer}").format(answer=q.options.get(mine, mine)))
        reveal(room, step, key=f"student-{room.question}")


def watch_run(code: str) -> None:
    """The live run the teacher started for this question: progress every second, then its result (no controls)."""
    from lab_pages.run_panel import job_status
    from lab_pages.runs import service, session_id

    @st.fragment(run_every=1.0)
    def live() -> None:
        try:
            room = room_store().get(code)
        except RoomError:
            return
        request = run_request(room)
        runs = service()
        if request is None or runs is None:
            return
        handle = runs.lookup(request, session_id())
        st.divider()
        st.markdown("**" + _("Live run: {title}").format(title=request.title) + "**")
        if handle is None:
            st.caption(_("Starting…"))
            return
        job_status(handle.view, controls=False)
        show_live_result(request.kind, handle.view, key=f"student-run-{room.question}")

    live()
