"""The sidebar every page shares (device, seed, language, server load, presenter mode, the experiment's link, what
data and weights this server has) and the server's warm-up before a class arrives."""

from typing import Any

import streamlit as st

from lab_pages import presenter
from lab_pages.runs import SESSION_JOBS, keep_session_jobs_alive, server_load_counts
from lab_pages.ui import DEVICE_KEY, SEED_KEY, profile, remember
from resnet_core.checkpoints import TORCHVISION_WEIGHTS, imagenet_weights_available, shipped_checkpoints
from resnet_core.data.datasets import dataset_status
from resnet_core.i18n import DEFAULT_LANGUAGE, LANGUAGES, ngettext
from resnet_core.i18n import gettext as _
from resnet_core.training.devices import available_devices, describe_device, pick_device

LANG_KEY = "language_choice"  # plain session state (a widget's own key would be dropped on runs that lack it)


def language_changed() -> None:
    """The selector's choice becomes the session's language and the URL's ``?lang=`` (a reload or a shared link
    keeps it)."""
    st.session_state[LANG_KEY] = st.session_state["language_selector"]
    st.query_params["lang"] = st.session_state[LANG_KEY]


def language_selector() -> None:
    st.selectbox(
        "Language / 언어",
        list(LANGUAGES),
        index=list(LANGUAGES).index(st.session_state[LANG_KEY]),
        key="language_selector",
        format_func=LANGUAGES.get,
        on_change=language_changed,
    )


def language_toggle() -> None:
    """The language as two buttons to tap (a student's phone, where the sidebar is folded away)."""
    st.session_state.setdefault("language_selector", st.session_state[LANG_KEY])
    st.segmented_control(
        "Language / 언어",
        list(LANGUAGES),
        key="language_selector",
        format_func=LANGUAGES.get,
        on_change=language_changed,
        label_visibility="collapsed",
    )


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


def sidebar() -> Any:
    """The shared sidebar (not drawn for a student in a room, who sees only the room)."""
    # Availability as Material icons plus words: emoji render as blank boxes on machines without an emoji font.
    here, missing = ":material/check_circle: " + _("here:"), ":material/block: " + _("missing:")
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
        language_selector()

        @st.fragment(run_every=5 if any(j.active for j in st.session_state.get(SESSION_JOBS, {}).values()) else None)
        def server_load() -> None:
            """Current while you wait (redrawn every 5 s while this session has a job), and the session's heartbeat:
            a job whose tab is gone stops being touched here and cancels itself."""
            keep_session_jobs_alive()
            running, waiting = server_load_counts()
            if running or waiting:
                st.caption(
                    ngettext(
                        "Server load: {running} run training, {waiting} waiting.",
                        "Server load: {running} runs training, {waiting} waiting.",
                        running,
                    ).format(running=running, waiting=waiting)
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
        slot = st.empty()  # the link to this experiment: filled once the page has run (link_box)
        with st.expander(_("Data and weights here")):
            info = availability()
            for row in info["datasets"]:
                title, how_to_get = row["title"], row["how_to_get"]  # English msgids, shown translated
                st.markdown(f"{here if row['available'] else missing} {_(title)}")
                if not row["available"]:
                    st.caption(_(how_to_get))
            st.markdown(
                f"{here} " + _("{n} shipped checkpoints").format(n=len(info["checkpoints"]))
                if info["checkpoints"]
                else f"{missing} " + _("no shipped checkpoints")
            )
            for arch, ok in info["imagenet"].items():
                st.markdown(f"{here if ok else missing} ImageNet {arch}")
            if not all(info["imagenet"].values()):
                st.caption(
                    _(
                        "ImageNet weights download on first use where the internet is reachable; offline, put the "
                        "file in the torch cache (`python -m resnet_core info` says where)."
                    )
                )
    return slot


def link_box(slot: Any) -> None:
    """The sidebar's link to this experiment, made after the page has run: every setting this run changed (the
    page's widgets write the URL as they run) is in it."""
    with slot.container(), st.expander(_("Link to this experiment")):
        link = presenter.experiment_link()
        if link:
            st.code(link, language=None, wrap_lines=True)
            st.caption(
                _(
                    "Copy it with the button in the box: it reopens this page with these settings (and the seed, "
                    "device, language and presenter mode)."
                )
            )
