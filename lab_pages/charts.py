"""Every chart of the lab goes through :func:`chart`: the lab's tick policy and the layout for the reader's device
(``resnet_core.figures``), drawn full width without plotly's toolbar.

    from lab_pages.charts import chart

    chart(degradation_figure(result), key="deg-fig")  # instead of st.plotly_chart(fig, width="stretch", key=...)
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from resnet_core.figures import for_device, tick_policy

PRESENT_KEY = "present"  # lab_pages.presenter.PRESENT_KEY (not imported: the presenter imports the pages' helpers)
PHONE_AGENTS = ("Mobile", "Android", "iPhone")


def device() -> str:
    """ "projector" in presenter mode, "phone" when the browser says it is a phone, else "screen"."""
    if st.session_state.get(PRESENT_KEY):
        return "projector"
    agent = st.context.headers.get("User-Agent", "") or ""
    return "phone" if any(word in agent for word in PHONE_AGENTS) else "screen"


def chart(fig: go.Figure, *, key: str | None = None, container: Any = None, **kwargs: Any) -> Any:
    """``st.plotly_chart`` of ``fig`` with the tick policy, laid out for :func:`device`, in ``container`` (a column,
    default: where the page is); other keyword arguments (``on_select``, ``theme``, ...) go to ``plotly_chart``."""
    config = {"displayModeBar": False, **kwargs.pop("config", {})}
    return (container or st).plotly_chart(
        for_device(tick_policy(fig), device()), width=kwargs.pop("width", "stretch"), key=key, config=config, **kwargs
    )
