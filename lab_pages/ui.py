"""Streamlit helpers shared by the pages: the sidebar's choices, settings bound to the URL, safe text, shipped
results, provenance lines and downloads. Runs are asked for in ``lab_pages.runs`` and shown by ``lab_pages.run_panel``.
Everything here is UI; the work itself never runs in the script thread."""

from __future__ import annotations

import html
import json
import re
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import streamlit as st
import torch

from resnet_core.i18n import N_
from resnet_core.i18n import gettext as _
from resnet_core.serving.profile import Profile, current_profile
from resnet_core.training.devices import pick_device

DEVICE_KEY = "device"
SEED_KEY = "seed"


_UNSET = object()
CHOICES = "_resnet_lab_choices"  # this run's choice widgets kept in the URL by value: key -> (options, default)


def remember(key: str, options: Sequence[Any] | None = None, *, default: Any = _UNSET) -> dict[str, Any]:
    """Keyword arguments for a setting's widget: it keeps its value across page switches and lives in the URL
    (``?key=value``), so a copied link reopens the experiment with the same settings. Values in a link that a
    widget does not accept (out of range, not an option) are ignored and dropped from the URL.

    A choice widget whose options are shown translated (``format_func``) passes its ``options`` (and ``default``
    when its first option is not the default): Streamlit would write the shown label into the URL (``gf-norm=없음``
    from a Korean page, which an English page would drop), so these are kept in the URL by the option itself
    instead, written once the page has run (:func:`keep_choices_in_url`): a link made in any language reopens
    every setting in any other."""
    if options is None:
        return {"key": key, "bind": "query-params", "persist_state": "session"}
    options = list(options)
    multi = isinstance(default, list)
    default = options[0] if default is _UNSET else default
    by_text = {str(o): o for o in options}
    if key not in st.session_state:  # this session's first sight of the widget: the URL decides
        asked = [by_text[v] for v in st.query_params.get_all(key) if v in by_text]
        if asked:
            st.session_state[key] = asked if multi else asked[0]
    st.session_state.setdefault(CHOICES, {})[key] = (options, default, multi, str)
    return {"key": key, "persist_state": "session"}


def tabs(labels: dict[str, str], *, key: str) -> list:
    """``st.tabs`` whose open tab lives in the URL by a stable name (``labels``: name -> shown label), so a link
    made in one language opens the same tab in another."""
    name_of = {label: name for name, label in labels.items()}
    if key not in st.session_state or st.session_state[key] not in name_of:
        asked = st.query_params.get(key)
        st.session_state[key] = labels.get(asked, next(iter(labels.values())))
    first = next(iter(labels.values()))
    st.session_state.setdefault(CHOICES, {})[key] = (list(labels.values()), first, False, name_of.get)
    return st.tabs(list(labels.values()), key=key)


def keep_choices_in_url() -> None:
    """Write this run's choice widgets into the URL by value (the app calls it after the page has run, so the
    link box shows every change of this run)."""
    for key, (options, default, multi, as_text) in st.session_state.get(CHOICES, {}).items():
        value = st.session_state.get(key, default)
        if multi:
            value = [v for v in (value or []) if v in options]
            same = sorted(map(str, value)) == sorted(map(str, default))
            text: Any = [as_text(v) for v in value]
        else:
            same, text = value == default or value not in options, as_text(value)
        if same:
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get_all(key) != (text if multi else [text]):
            st.query_params[key] = text
    st.session_state[CHOICES] = {}


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
    from resnet_core.provenance import display_command, display_device

    line = _("Made by `{command}` on {device}, {date}, git {revision}.").format(
        command=display_command(str(prov.get("command", "?"))),
        device=display_device(str(prov.get("device", "?"))),
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
