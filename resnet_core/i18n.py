"""Languages: English (the source strings) and 한국어, through standard gettext message catalogs.

Every user-facing string is written in English and wrapped: ``_("...")`` translates now, ``N_("...")`` only marks
a module-level constant for extraction (translate it with ``_()`` where it is shown), ``ngettext`` for plurals.
Placeholders are named (``_("{n} images").format(n=...)``) so a translation may reorder them.

The catalogs live in ``resnet_core/locale/<lang>/LC_MESSAGES/resnet_lab.po`` (compiled ``.mo`` beside them).
Update them with Babel (configuration in ``babel.cfg``)::

    pybabel extract -F babel.cfg -k N_ -o resnet_core/locale/resnet_lab.pot .
    pybabel update -i resnet_core/locale/resnet_lab.pot -d resnet_core/locale -D resnet_lab
    pybabel compile -d resnet_core/locale -D resnet_lab

The language of a call is, in order: the one set by :func:`language` in this context (a job thread gets its
launcher's), else what the installed provider says (the app installs one that reads the browser session's
choice), else English. This module never imports streamlit.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

DOMAIN = "resnet_lab"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES: dict[str, str] = {"en": "English", "ko": "한국어"}
DEFAULT_LANGUAGE = "en"

_current: ContextVar[str | None] = ContextVar("resnet_lab_language", default=None)
_provider: Callable[[], str | None] | None = None


def set_language_provider(provider: Callable[[], str | None] | None) -> None:
    """Where the language comes from when no :func:`language` block is active (the app: the session's choice)."""
    global _provider
    _provider = provider


def current_language() -> str:
    lang = _current.get()
    if lang is None and _provider is not None:
        try:
            lang = _provider()
        except Exception:  # noqa: BLE001 - a provider outside its context (e.g. a worker thread) means "default"
            lang = None
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


@contextmanager
def language(lang: str | None) -> Iterator[None]:
    """Use ``lang`` for every translation in this block (and in threads started with a copy of this context)."""
    token = _current.set(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _current.reset(token)


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    if lang == DEFAULT_LANGUAGE:
        return _gettext.NullTranslations()
    return _gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[lang], fallback=True)


def gettext(message: str) -> str:
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_language()).ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker
    """Mark a string for extraction without translating it here."""
    return message


_ = gettext
