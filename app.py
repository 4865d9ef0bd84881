"""ResNet Lab — entry point: page navigation and the sidebar every page shares.

Run with `streamlit run app.py`. The pages are thin scripts in lab_pages/; the work lives in resnet_core.
"""

import streamlit as st

from lab_pages import presenter
from lab_pages.run_panel import SESSION_JOBS, keep_session_jobs_alive, server_load_counts
from lab_pages.ui import DEVICE_KEY, SEED_KEY, profile, remember, show_unexpected
from resnet_core.checkpoints import TORCHVISION_WEIGHTS, imagenet_weights_available, shipped_checkpoints
from resnet_core.data.datasets import dataset_status
from resnet_core.i18n import DEFAULT_LANGUAGE, LANGUAGES, set_language_provider
from resnet_core.i18n import gettext as _
from resnet_core.training.devices import available_devices, describe_device, pick_device
from resnet_core.training.threads import configure as configure_threads

configure_threads()  # once per server process: CPU thread settings (resnet_core.training.threads; RESNET_LAB_THREADS)

LANG_KEY = "language_choice"  # plain session state (a widget's own key would be dropped on runs that lack it)


def session_language() -> str | None:
    """The language this browser session chose (sidebar or ``?lang=``); None outside a script run."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    return st.session_state.get(LANG_KEY) if get_script_run_ctx() is not None else None


def language_changed() -> None:
    """The selector's choice becomes the session's language and the URL's ``?lang=`` (a reload or a shared link
    keeps it)."""
    st.session_state[LANG_KEY] = st.session_state["language_selector"]
    st.query_params["lang"] = st.session_state[LANG_KEY]


set_language_provider(session_language)
if LANG_KEY not in st.session_state:
    asked = st.query_params.get("lang")
    st.session_state[LANG_KEY] = asked if asked in LANGUAGES else DEFAULT_LANGUAGE

presenting = presenter.mode_from_url()
st.set_page_config(
    page_title="ResNet Lab",
    page_icon=":material/hub:",
    layout="wide",
    initial_sidebar_state="collapsed" if presenting else "auto",
)
if profile().capped:
    # Hosted demo: no Deploy button, no developer menu (also settable as STREAMLIT_CLIENT_TOOLBAR_MODE=viewer).
    st.set_option("client.toolbarMode", "viewer")

# Availability as Material icons plus words: emoji render as blank boxes on machines without an emoji font.
HERE, MISSING = ":material/check_circle: " + _("here:"), ":material/block: " + _("missing:")

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
}
page = st.navigation(pages)


@st.cache_resource
def warm_up() -> bool:
    """Once per server, in the background, before a class arrives: time this server for the "≈ N s" estimates
    (unless a kept timing of this machine fits) and count the Architectures page's zoo (~1.5 s of CPU)."""
    from resnet_core.architectures.zoo import warm_up as count_zoo
    from resnet_core.serving.estimates import calibrate_soon

    calibrate_soon(pick_device(None))
    count_zoo()
    return True


@st.cache_data(ttl=60)
def availability() -> dict:
    """What data and weights this server has (re-checked every minute, not on every rerun)."""
    return {
        "datasets": dataset_status(),
        "checkpoints": sorted(shipped_checkpoints()),
        "imagenet": {arch: imagenet_weights_available(arch) for arch in TORCHVISION_WEIGHTS},
    }


with st.sidebar:
    devices = available_devices()
    device = st.selectbox(
        _("Device"),
        devices,
        **remember(DEVICE_KEY),
        help=_("Only devices that exist on this server are listed."),
    )
    # The description (with the thread count, which the thread plan sets) goes under the box, not into the
    # option labels: labels are the widget's identity in the URL and must not change while the server runs.
    st.caption(describe_device(pick_device(device)).describe())
    st.number_input(
        _("Seed"),
        min_value=0,
        max_value=2**31 - 1,
        value=0,
        step=1,
        **remember(SEED_KEY),
        help=_(
            "Same seed, same data order, same initial weights. On a CPU a run repeats bit for bit; on a GPU "
            "some kernels (e.g. cuDNN's convolution backward) add in a nondeterministic order, so a repeat agrees "
            "to within rounding noise, not bit for bit."
        ),
    )
    st.selectbox(
        "Language / 언어",
        list(LANGUAGES),
        index=list(LANGUAGES).index(st.session_state[LANG_KEY]),
        key="language_selector",
        format_func=LANGUAGES.get,
        on_change=language_changed,
    )

    @st.fragment(run_every=5 if any(j.active for j in st.session_state.get(SESSION_JOBS, {}).values()) else None)
    def server_load() -> None:
        """Current while you wait (redrawn every 5 s while this session has a job), and the session's heartbeat:
        a job whose tab is gone stops being touched here and cancels itself."""
        keep_session_jobs_alive()
        running, waiting = server_load_counts()
        if running or waiting:
            st.caption(
                _("Server load: {running} run(s) training, {waiting} waiting.").format(running=running, waiting=waiting)
            )
        if profile().capped:
            st.caption(_("Hosted demo: epochs, seeds, image counts and run time are capped."))

    server_load()
    st.toggle(
        _("Presenter mode"),
        key=presenter.PRESENT_KEY,
        persist_state="session",
        help=_(
            "Larger type and each page as a question, the class's prediction, then the measured answer "
            "(from shipped results: no waiting). Also `?present=1` in the URL."
        ),
    )
    presenter.sync_url()
    if st.session_state[LANG_KEY] != DEFAULT_LANGUAGE:  # the language travels with a copied link
        st.query_params["lang"] = st.session_state[LANG_KEY]
    with st.expander(_("Link to this experiment")):
        link = presenter.experiment_link()
        if link:
            st.code(link, language=None, wrap_lines=True)
            st.caption(
                _(
                    "Copy it with the button in the box: it reopens this page with these settings (and the seed, "
                    "device, language and presenter mode)."
                )
            )
    with st.expander(_("Data and weights here")):
        info = availability()
        for row in info["datasets"]:
            title, how_to_get = row["title"], row["how_to_get"]  # English msgids, shown translated
            st.markdown(f"{HERE if row['available'] else MISSING} {_(title)}")
            if not row["available"]:
                st.caption(_(how_to_get))
        st.markdown(
            f"{HERE} " + _("{n} shipped checkpoints").format(n=len(info["checkpoints"]))
            if info["checkpoints"]
            else f"{MISSING} " + _("no shipped checkpoints")
        )
        for arch, ok in info["imagenet"].items():
            st.markdown(f"{HERE if ok else MISSING} ImageNet {arch}")
        if not all(info["imagenet"].values()):
            st.caption(
                _(
                    "ImageNet weights download on first use where the internet is reachable; offline, put the "
                    "file in the torch cache (`python -m resnet_core info` says where)."
                )
            )

try:
    page.run()
    warm_up()  # after the first page is drawn, so it does not compete with it
except Exception as exc:  # noqa: BLE001 - st.stop()/st.rerun() are BaseExceptions and pass through
    show_unexpected(exc)
