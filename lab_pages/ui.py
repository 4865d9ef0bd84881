"""Streamlit helpers shared by the pages: the sidebar's choices, settings bound to the URL, safe text, shipped
results, provenance lines and downloads. Runs (asking for a result, watching it) are in ``lab_pages.run_panel``.
Everything here is UI; the work itself never runs in the script thread."""

from __future__ import annotations

import html
import json
import re
import traceback
from pathlib import Path

import streamlit as st
import torch

from resnet_core.i18n import N_
from resnet_core.i18n import gettext as _
from resnet_core.serving.profile import Profile, current_profile
from resnet_core.training.devices import pick_device

DEVICE_KEY = "device"
SEED_KEY = "seed"


def remember(key: str) -> dict[str, str]:
    """Keyword arguments for a setting's widget: it keeps its value across page switches and lives in the URL
    (``?key=value``), so a copied link reopens the experiment with the same settings. Values in a link that a
    widget does not accept (out of range, not an option) are ignored by Streamlit and dropped from the URL."""
    return {"key": key, "bind": "query-params", "persist_state": "session"}


@st.cache_resource
def profile() -> Profile:
    """local or hosted (RESNET_LAB_PROFILE): the caps every page's widgets use."""
    return current_profile()


_MD_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|:$<>~&])")


def escape_markdown(text: str) -> str:
    """Text from users (class names, file names in messages) shown literally by st.markdown/st.error/...:
    no links, no :color[...] directives, no $LaTeX$, no HTML."""
    return _MD_SPECIALS.sub(r"\\\1", str(text))


def escape_html(text: str) -> str:
    """For plotly labels, which interpret a few HTML tags."""
    return html.escape(str(text))


def show_unexpected(exc: BaseException, what: str = N_("This page")) -> None:
    """An unexpected error as a short message with the details folded away, never a traceback box."""
    st.error(
        escape_markdown(
            _("{what} ran into an unexpected problem: {error}").format(
                what=_(what), error=f"{type(exc).__name__}: {exc}"
            )
        )
    )
    with st.expander(_("Details for a bug report")):
        st.code("".join(traceback.format_exception(exc)))


def require_data(key: str = "bundled") -> None:
    """Stop the page with a clear message when a dataset it needs is missing (no exception box)."""
    from resnet_core.data.datasets import DATASETS

    source = DATASETS[key]
    if not source.available():
        st.error(
            _("{title} is missing on this server, and this page needs it.").format(title=_(source.title))
            + " "
            + _(source.how_to_get)
        )
        st.stop()


@st.cache_data(max_entries=32)
def _read_json(path: str, mtime: float) -> dict | None:  # mtime in the key: a rewritten file is read again
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return None


def read_result(path: Path | str) -> dict | None:
    """A shipped result, by file path or by library entry name (``"gradients_batch"``, resolved through
    ``assets/results/library.json``), parsed once per version of the file per server; None when absent or
    unreadable."""
    if isinstance(path, str) and not path.endswith(".json"):
        from resnet_core.library.store import resolve

        path = resolve(path)
    path = Path(path)
    return _read_json(str(path), path.stat().st_mtime) if path.exists() else None


def column_labels(keys, config: dict | None = None) -> dict:
    """``column_config`` showing each column under its translated name; the data keys (CSV/JSON) stay English."""
    out = {}
    for key in keys:
        column = dict((config or {}).get(key) or {})
        if not column.get("label"):
            column["label"] = _(key)
        out[key] = column
    return out


def current_device() -> torch.device:
    return pick_device(st.session_state.get(DEVICE_KEY))


def current_seed() -> int:
    return int(st.session_state.get(SEED_KEY, 0))


def made_by(provenance: dict | None, details: str = "") -> str:
    """The provenance line under a shipped result: the command that made it, where, when and at which git revision,
    then ``details`` (budget, time) if given; "" without provenance."""
    prov = provenance or {}
    if not prov:
        return ""
    line = _("Made by `{command}` on {device}, {date}, git {revision}.").format(
        command=prov.get("command", "?"),
        device=prov.get("device", "?"),
        date=prov.get("date", "?"),
        revision=str(prov.get("git_revision", "?"))[:12],
    )
    return f"{line} {details}" if details else line


def download_buttons(payload: dict, *, name: str, csv_rows: list[dict] | None = None) -> None:
    """JSON (and CSV, when rows are given) downloads of a result."""
    cols = st.columns(2)
    cols[0].download_button(
        _("Download JSON"),
        json.dumps(payload, indent=1, default=str),
        file_name=f"{name}.json",
        mime="application/json",
        key=f"dl-json-{name}",
    )
    if csv_rows:
        import pandas as pd

        cols[1].download_button(
            _("Download CSV"),
            pd.DataFrame(csv_rows).to_csv(index=False),
            file_name=f"{name}.csv",
            mime="text/csv",
            key=f"dl-csv-{name}",
        )
