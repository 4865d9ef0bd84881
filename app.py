"""ResNet Lab — entry point: page navigation and the sidebar every page shares.

Run with `streamlit run app.py`. The pages are thin scripts in lab_pages/; the work lives in resnet_core. A student
who opens a room's join link (``/room?room=CODE``) sees only the room, made for a phone.
"""

import streamlit as st

from lab_pages import presenter
from lab_pages.room_common import ROOM_PARAM, teacher_key
from lab_pages.room_page import show_room
from lab_pages.sidebar import LANG_KEY, language_toggle, link_box, sidebar, warm_up
from lab_pages.ui import keep_choices_in_url, profile, show_unexpected
from resnet_core.i18n import DEFAULT_LANGUAGE, LANGUAGES, set_language_provider
from resnet_core.i18n import gettext as _
from resnet_core.training.threads import configure as configure_threads

configure_threads()  # once per server process: CPU thread settings (resnet_core.training.threads; RESNET_LAB_THREADS)


def session_language() -> str | None:
    """The language this browser session chose (sidebar or ``?lang=``); None outside a script run."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    return st.session_state.get(LANG_KEY) if get_script_run_ctx() is not None else None


set_language_provider(session_language)
if LANG_KEY not in st.session_state:
    asked = st.query_params.get("lang")
    st.session_state[LANG_KEY] = asked if asked in LANGUAGES else DEFAULT_LANGUAGE

room = st.query_params.get(ROOM_PARAM)
student = bool(room) and not teacher_key(str(room).strip().upper())
presenting = presenter.mode_from_url()
st.set_page_config(
    page_title="ResNet Lab",
    page_icon=":material/hub:",
    layout="centered" if student else "wide",
    initial_sidebar_state="collapsed" if presenting or student else "auto",
)
if profile().capped:
    # Hosted demo: no Deploy button, no developer menu (also settable as STREAMLIT_CLIENT_TOOLBAR_MODE=viewer).
    st.set_option("client.toolbarMode", "viewer")

room_page = st.Page("lab_pages/room.py", title=_("Class room"), icon=":material/groups:", url_path="room")
if student:  # the room is the only page, whatever the path ("/room" from the join link, or "/")
    only_room = [st.Page(show_room, title=_("Class room"), default=True), room_page]
    page = st.navigation(only_room, position="hidden")
    language_toggle()
    link_slot = None
else:
    pages = {
        "": [st.Page("lab_pages/home.py", title=_("Home"), icon=":material/home:", default=True)],
        _("Residual networks"): [
            st.Page("lab_pages/gradient_flow.py", title=_("Gradient flow"), icon=":material/waterfall_chart:"),
            st.Page("lab_pages/block_ablation.py", title=_("Block ablation"), icon=":material/content_cut:"),
            st.Page("lab_pages/architectures.py", title=_("Architectures"), icon=":material/account_tree:"),
            st.Page("lab_pages/layers.py", title=_("What the layers see"), icon=":material/visibility:"),
        ],
        _("Transfer learning"): [
            st.Page("lab_pages/transfer_learning.py", title=_("Transfer learning"), icon=":material/swap_horiz:"),
        ],
        _("Class"): [room_page],
    }
    page = st.navigation(pages)
    link_slot = sidebar()

try:
    page.run()
    keep_choices_in_url()
    if link_slot is not None:
        link_box(link_slot)  # after the page ran: the link carries every change of this run
    warm_up()  # after the first page is drawn, so it does not compete with it
except Exception as exc:  # st.stop()/st.rerun() are BaseExceptions and pass through
    show_unexpected(exc)
