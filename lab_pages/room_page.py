"""The room page: the lobby (open a room, take one over, join one by its code), the teacher's view for the browser
that holds the room's teacher key, the student's view for everyone else."""

import streamlit as st

from lab_pages.room_common import ROOM_PARAM, room_error_text, teacher_key
from lab_pages.room_student import student_view
from lab_pages.room_teacher import open_room, teacher_view
from resnet_core.i18n import _
from resnet_core.serving.rooms import RoomError, normal_code


def show_room() -> None:
    asked = st.query_params.get(ROOM_PARAM)
    if not asked:
        st.title(_("Class room"))
        open_room()
        st.divider()
        code = st.text_input(_("Join a room: its code"), max_chars=12, key="join-code")
        if code:
            st.query_params[ROOM_PARAM] = code.strip().upper()
            st.rerun()
        return
    try:
        code = normal_code(asked)
    except RoomError as exc:
        st.error(room_error_text(exc))
        return
    if teacher_key(code):
        teacher_view(code)
    else:
        student_view(code)
