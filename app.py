"""ResNet Lab — entry point: page navigation and the sidebar every page shares.

Run with `streamlit run app.py`. The pages are thin scripts in pages/; the work lives in resnet_core.
"""

import streamlit as st

from pages.ui import DEVICE_KEY, SEED_KEY, job_limiter, keep_session_jobs_alive, profile, show_unexpected
from resnet_core.checkpoints import TORCHVISION_WEIGHTS, imagenet_weights_available, shipped_checkpoints
from resnet_core.data import dataset_status
from resnet_core.devices import available_devices, describe_device, pick_device
from resnet_core.threads import configure as configure_threads

configure_threads()  # once per server process: CPU thread settings (resnet_core.threads; RESNET_LAB_THREADS)

st.set_page_config(page_title="ResNet Lab", page_icon=":material/hub:", layout="wide")
if profile().capped:
    # Hosted demo: no Deploy button, no developer menu (also settable as STREAMLIT_CLIENT_TOOLBAR_MODE=viewer).
    st.set_option("client.toolbarMode", "viewer")

# Availability as Material icons plus words: emoji render as blank boxes on machines without an emoji font.
HERE, MISSING = ":material/check_circle: here:", ":material/block: missing:"

pages = {
    "": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)],
    "Residual networks": [
        st.Page("pages/gradient_flow.py", title="Gradient flow", icon=":material/waterfall_chart:"),
        st.Page("pages/block_ablation.py", title="Block ablation", icon=":material/content_cut:"),
        st.Page("pages/architectures.py", title="Architectures", icon=":material/account_tree:"),
        st.Page("pages/layers.py", title="What the layers see", icon=":material/visibility:"),
    ],
    "Transfer learning": [
        st.Page("pages/transfer_learning.py", title="Transfer learning", icon=":material/swap_horiz:"),
    ],
}
page = st.navigation(pages)


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
    st.selectbox(
        "Device",
        devices,
        key=DEVICE_KEY,
        help="Only devices that exist on this server are listed.",
        format_func=lambda d: f"{d} — {describe_device(pick_device(d)).describe()}",
    )
    st.number_input(
        "Seed",
        min_value=0,
        max_value=2**31 - 1,
        value=0,
        step=1,
        key=SEED_KEY,
        help="Same seed, same data order, same initial weights. On a CPU a run repeats bit for bit; on a GPU "
        "some kernels (e.g. cuDNN's convolution backward) add in a nondeterministic order, so a repeat agrees "
        "to within rounding noise, not bit for bit.",
    )

    @st.fragment(run_every=5 if any(j.active for j in st.session_state.get("_resnet_lab_jobs", {}).values()) else None)
    def server_load() -> None:
        """Current while you wait (redrawn every 5 s while this session has a job), and the session's heartbeat:
        a job whose tab is gone stops being touched here and cancels itself."""
        keep_session_jobs_alive()
        limiter = job_limiter()
        if limiter.running or limiter.waiting:
            st.caption(f"Server load: {limiter.running} run(s) training, {limiter.waiting} waiting.")
        if profile().capped:
            st.caption("Hosted demo: epochs, seeds, image counts and run time are capped.")

    server_load()
    with st.expander("Data and weights here"):
        info = availability()
        for row in info["datasets"]:
            st.markdown(f"{HERE if row['available'] else MISSING} {row['title']}")
            if not row["available"]:
                st.caption(row["how_to_get"])
        st.markdown(
            f"{HERE} {len(info['checkpoints'])} shipped checkpoints"
            if info["checkpoints"]
            else f"{MISSING} no shipped checkpoints"
        )
        for arch, ok in info["imagenet"].items():
            st.markdown(f"{HERE if ok else MISSING} ImageNet {arch}")
        if not all(info["imagenet"].values()):
            st.caption(
                "ImageNet weights download on first use where the internet is reachable; offline, put the "
                "file in the torch cache (`python -m resnet_core info` says where)."
            )

try:
    page.run()
except Exception as exc:  # noqa: BLE001 - st.stop()/st.rerun() are BaseExceptions and pass through
    show_unexpected(exc)
