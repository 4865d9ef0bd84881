"""Every chart of the lab goes through :func:`chart`: the lab's tick policy and the layout for the reader's device
(``resnet_core.figures``), drawn full width without plotly's toolbar.

    from lab_pages.charts import chart

    chart(degradation_figure(result), key="deg-fig")  # instead of st.plotly_chart(fig, width="stretch", key=...)

A live run is watched by a whole class, each tab redrawing it every second; :func:`shared_chart` builds a figure
once for everyone who draws the same thing (same content, device and language) instead of once per tab: building,
laying out and sending the gradient page's two charts costs about 120 ms of the server's CPU, sending built ones
about 3 ms (``PYTHONPATH=. python scripts/chart_cost.py``).
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Hashable
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from resnet_core.figures import for_device, tick_policy
from resnet_core.i18n import current_language

PRESENT_KEY = "present"  # lab_pages.presenter.PRESENT_KEY (not imported: the presenter imports the pages' helpers)
PHONE_AGENTS = ("Mobile", "Android", "iPhone")
SHARED_FIGURES = 64  # laid-out figures kept for shared_chart (a few live runs x devices x languages)
_shared: collections.OrderedDict[Hashable, go.Figure] = collections.OrderedDict()
_shared_lock = threading.Lock()


def device() -> str:
    """ "projector" in presenter mode, "phone" when the browser says it is a phone, else "screen"."""
    if st.session_state.get(PRESENT_KEY):
        return "projector"
    agent = st.context.headers.get("User-Agent", "") or ""
    return "phone" if any(word in agent for word in PHONE_AGENTS) else "screen"


def chart(fig: go.Figure, *, key: str | None = None, container: Any = None, **kwargs: Any) -> Any:
    """``st.plotly_chart`` of ``fig`` with the tick policy, laid out for :func:`device`, in ``container`` (a column,
    default: where the page is); other keyword arguments (``on_select``, ``theme``, ...) go to ``plotly_chart``."""
    return _draw(for_device(tick_policy(fig), device()), key=key, container=container, **kwargs)


def shared_chart(content: Hashable, build: Callable[[], go.Figure], *, key: str | None = None, **kwargs: Any) -> Any:
    """:func:`chart` of ``build()``, built and laid out once per ``content`` (what the figure shows: e.g. a run's
    id, how far it got and the metric), reader's device and language, and shared by every session that draws it.
    The figure is only read afterwards (``st.plotly_chart`` sends a copy), so sessions may share it."""
    where = (content, device(), current_language())
    with _shared_lock:
        fig = _shared.get(where)
        if fig is not None:
            _shared.move_to_end(where)
    if fig is None:
        fig = for_device(tick_policy(build()), where[1])
        with _shared_lock:
            _shared[where] = fig
            while len(_shared) > SHARED_FIGURES:
                _shared.popitem(last=False)
    return _draw(fig, key=key, **kwargs)


def _draw(fig: go.Figure, *, key: str | None, container: Any = None, **kwargs: Any) -> Any:
    """A laid-out figure, full width, without plotly's toolbar."""
    config = {"displayModeBar": False, **kwargs.pop("config", {})}
    return (container or st).plotly_chart(fig, width=kwargs.pop("width", "stretch"), key=key, config=config, **kwargs)
