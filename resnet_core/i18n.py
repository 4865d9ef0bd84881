"""Languages: English (the source strings) and 한국어, through standard gettext message catalogs.

Every user-facing string is written in English and wrapped: ``_("...")`` translates now, ``N_("...")`` only marks
a module-level constant for extraction (translate it with ``_()`` where it is shown), ``ngettext`` for plurals.
Placeholders are named (``_("{n} images").format(n=...)``) so a translation may reorder them.

The catalogs live in ``resnet_core/locale/<lang>/LC_MESSAGES/resnet_lab.po`` (compiled ``.mo`` beside them).
Babel (a development requirement; the app itself needs only the committed ``.mo``) keeps them current; one
command runs ``pybabel extract -F babel.cfg -k N_ -k ngettext:1,2``, ``pybabel update`` and ``pybabel compile``
through Babel's API (and drops the python-format flag Babel puts on "95% interval")::

    python scripts/i18n_catalogs.py            # then translate what it reports as untranslated, and run it again
    python scripts/i18n_catalogs.py --check    # exit 1 when the catalogs lag behind the code

Never put an f-string inside ``_()`` (it cannot be extracted, and the text would never match the catalog):
``_("Seed {seed}").format(seed=s)``. ``tests/test_i18n.py`` fails when a message has no Korean translation, a
translation drops or renames a placeholder, the ``.mo`` is stale, or the code has a message the catalog lacks.
Data keys (CSV/JSON columns, result dicts) stay English; only what a person reads is translated.

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
        except Exception:  # a provider outside its context (e.g. a worker thread) means "default"
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


def N_(message: str) -> str:  # the conventional gettext marker
    """Mark a string for extraction without translating it here."""
    return message


_ = gettext
