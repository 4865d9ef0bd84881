"""Korean and English: the catalog is complete and current, translations keep their placeholders, and every page
renders in Korean with no English message from the catalog left on it (Streamlit's AppTest, no browser)."""

from __future__ import annotations

import gettext
import importlib.util
import json
import re
import threading
import unicodedata
from contextvars import copy_context
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from google.protobuf.json_format import MessageToDict
from streamlit.testing.v1 import AppTest

from resnet_core import i18n

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PO = ROOT / "resnet_core" / "locale" / "ko" / "LC_MESSAGES" / "resnet_lab.po"
PAGES = [
    "lab_pages/home.py",
    "lab_pages/gradient_flow.py",
    "lab_pages/block_ablation.py",
    "lab_pages/architectures.py",
    "lab_pages/layers.py",
    "lab_pages/transfer_learning.py",
    "lab_pages/room.py",
]
BRACE = re.compile(r"\{[^{}]*\}")  # {name}, {n:,}, {acc:.1%}: name and format spec must both survive
PERCENT = re.compile(r"%(\([^)]*\))?[#0+-]?\d*(\.\d+)?[sdifr]")  # %s, %(name)d; "95% interval" is not one


def catalog():
    with open(PO, "rb") as f:
        return read_po(f, locale="ko")


def messages():
    return [m for m in catalog() if m.id]


def ids_of(message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def strings_of(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def test_every_message_has_a_korean_translation():
    missing = [m.id for m in messages() if not all(s.strip() for s in strings_of(m)) or m.fuzzy]
    assert not missing, f"{len(missing)} message(s) without a (non-fuzzy) Korean translation: {missing[:10]}"
    assert len(messages()) > 500  # every page, narrative and plot label


@pytest.mark.parametrize("pattern", [BRACE, PERCENT], ids=["brace", "percent"])
def test_translations_keep_every_placeholder(pattern):
    wrong = []
    for m in messages():
        wanted = sorted(
            set().union(*(pattern.findall(i) if pattern is PERCENT else BRACE.findall(i) for i in ids_of(m)))
        )
        for s in strings_of(m):
            got = sorted(set(pattern.findall(s) if pattern is PERCENT else BRACE.findall(s)))
            if got != wanted:
                wrong.append((m.id, wanted, got))
    assert not wrong, wrong[:5]


def test_translations_format_like_their_source():
    """Formatting a translation with the source's placeholders never raises (no stray or unbalanced braces)."""
    for m in messages():
        names = {f.strip("{}").split(":")[0].split("!")[0] for i in ids_of(m) for f in BRACE.findall(i)}
        if not names:
            continue
        values = dict.fromkeys(names, 1.5)
        for s in strings_of(m):
            s.format(**values)


def emphasis_problems(text: str) -> list[str]:
    """``**bold**`` / ``*italic*`` delimiters that CommonMark will not open or close: a closing ``**`` after
    punctuation must be followed by a space or punctuation, so ``**F(x)**를`` shows its asterisks (Korean
    particles follow words directly: write ``(**F(x)**)을`` or ``**{file}** 파일을``)."""

    def punct(c: str) -> bool:
        return bool(c) and unicodedata.category(c)[0] in "PS"

    def space(c: str) -> bool:
        return not c or c.isspace()

    problems = []
    runs = list(re.finditer(r"\*\*|(?<!\*)\*(?!\*)", text))
    for i, run in enumerate(runs):
        before = text[run.start() - 1] if run.start() else ""
        after = text[run.end()] if run.end() < len(text) else ""
        opens = not space(after) and (not punct(after) or space(before) or punct(before))
        closes = not space(before) and (not punct(before) or space(after) or punct(after))
        if not (opens if i % 2 == 0 else closes):
            problems.append(text[max(0, run.start() - 12) : run.end() + 12])
    return problems


def test_translations_keep_markdown_emphasis_working():
    broken = [
        (m.id, emphasis_problems(s))
        for m in messages()
        if not emphasis_problems(ids_of(m)[0])
        for s in strings_of(m)
        if emphasis_problems(s)
    ]
    assert not broken, broken[:5]


def test_committed_mo_matches_the_po():
    with open(PO.with_suffix(".mo"), "rb") as f:
        compiled = gettext.GNUTranslations(f)
    stale = []
    for m in messages():
        if isinstance(m.id, tuple):
            got = compiled.ngettext(m.id[0], m.id[1], 2)
        else:
            got = compiled.gettext(m.id)
        if got != strings_of(m)[0]:
            stale.append(m.id)
    assert not stale, f".mo is stale for {stale[:5]}: run python scripts/i18n_catalogs.py"


def test_catalog_has_every_message_of_the_code():
    spec = importlib.util.spec_from_file_location("i18n_catalogs", ROOT / "scripts" / "i18n_catalogs.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    in_code = {m.id for m in tool.extract() if m.id}
    in_po = {m.id for m in messages()}
    missing = in_code - in_po
    assert not missing, f"not in the catalog (run python scripts/i18n_catalogs.py, then translate): {list(missing)[:5]}"
    assert not in_po - in_code, f"no longer in the code: {list(in_po - in_code)[:5]}"


def test_language_context_provider_and_threads():
    assert i18n.gettext("Gradient flow") == "Gradient flow"  # no provider, no context: English
    with i18n.language("ko"):
        assert i18n.gettext("Gradient flow") == "기울기 흐름"
        assert i18n.ngettext("{n} seed", "{n} seeds", 3).format(n=3) == "시드 3개"
        ctx = copy_context()  # what a job thread started here sees
    with i18n.language("xx"):
        assert i18n.current_language() == "en"
    out = []
    thread = threading.Thread(target=lambda: out.append(ctx.run(i18n.gettext, "Gradient flow")))
    thread.start()
    thread.join()
    assert out == ["기울기 흐름"]
    try:
        i18n.set_language_provider(lambda: "ko")
        assert i18n.gettext("Seed") == "시드"
        with i18n.language("en"):
            assert i18n.gettext("Seed") == "Seed"  # a job's own language wins over the session's
        i18n.set_language_provider(lambda: 1 / 0)
        assert i18n.gettext("Seed") == "Seed"  # a provider that fails means English
    finally:
        i18n.set_language_provider(None)


# ------------------------------------------------------------------------------------------------- pages
def rendered_text(at: AppTest) -> str:
    """Every string of every element on the page (bodies, labels, options, help, plotly titles), one blob."""
    out: list[str] = []

    def strings(value):
        if isinstance(value, str):
            try:  # plotly's figure spec, a dataframe's column config (keyed by the English data keys)
                parsed = json.loads(value) if value[:1] in "{[" else None
            except ValueError:
                parsed = None
            if isinstance(parsed, dict | list):
                strings(parsed)
            else:  # plotly hover templates included: they are translated too
                out.append(value)
        elif isinstance(value, dict):
            for k, v in value.items():
                if k == "codeText":  # an st.code block (Python source, a command): marked as code
                    out.append(f"`{v}`".replace("\n", " "))
                else:
                    strings(v)
        elif isinstance(value, list):
            for v in value:
                strings(v)

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            strings(MessageToDict(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(out)


def english_phrases() -> list[str]:
    """Catalog text long enough not to be a technical term: whole messages or literal runs between
    placeholders of at least three words."""
    phrases = set()
    for m in messages():
        if strings_of(m)[0] == ids_of(m)[0]:  # deliberately the same in Korean (a formula, a pipeline of names)
            continue
        for part in BRACE.split(ids_of(m)[0]):
            part = part.strip(" .,:;()*-—")
            if len(part.split()) >= 3:
                phrases.add(part)
    return sorted(phrases)


@pytest.fixture(scope="module")
def runs():
    """Each page rendered once in English and once in Korean (``?lang=ko``)."""
    out = {}
    for lang in ("en", "ko"):
        # AppTest calls a widget's format_func in this thread to match its options: same language as the script's.
        with i18n.language(lang):
            at = AppTest.from_file(APP, default_timeout=120)
            at.query_params["lang"] = lang
            at.run()
            out[lang, "start"] = (rendered_text(at), list(at.exception))
            for page in PAGES:
                at.switch_page(page).run()
                out[lang, page] = (rendered_text(at), list(at.exception))
    return out


@pytest.mark.parametrize("page", PAGES)
def test_page_in_korean_has_no_english_message_left(runs, page):
    english, en_exc = runs["en", page]
    korean, ko_exc = runs["ko", page]
    assert not en_exc and not ko_exc, (en_exc, ko_exc)
    shown = [p for p in english_phrases() if p in english]
    assert len(shown) >= 5, "the English run should show catalog text (is the check looking at the page?)"
    left = [p for p in shown if p in korean]
    assert not left, f"English left on {page} in Korean: {left[:10]}"
    assert re.search(r"[가-힣]", korean)


def test_sidebar_and_navigation_in_korean(runs):
    korean, _ = runs["ko", "start"]
    for word in ("장치", "시드", "기울기 흐름", "블록 제거 실험", "전이 학습", "이 서버의 데이터와 가중치"):
        assert word in korean


def test_language_selector_switches_and_sets_the_url():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = "ko"
    at.run()
    assert at.title[0].value == "ResNet Lab"
    assert at.header[0].value == "핵심 아이디어 하나: 입력을 다시 더하기"
    selector = next(s for s in at.sidebar.selectbox if s.label == "Language / 언어")
    assert selector.value == "ko"
    selector.set_value("en").run()
    assert not at.exception
    assert at.header[0].value == "One idea: add the input back"
    assert at.query_params["lang"] == ["en"] or at.query_params["lang"] == "en"


@pytest.mark.parametrize("page", PAGES)
def test_presenter_mode_in_korean_has_no_english_message_left(page):
    """Presenter mode builds its questions from the shipped results (resnet_core.serving.classroom): options and
    explanations come from other modules' message constants, so they get the same check as the pages."""
    with i18n.language("ko"):
        at = AppTest.from_file(APP, default_timeout=120)
        at.query_params["lang"] = "ko"
        at.query_params["present"] = "1"
        at.run()
        at.switch_page(page).run()
        korean = rendered_text(at)
    assert not at.exception
    left = [p for p in english_phrases() if p in korean]
    assert not left, f"English left on {page} in Korean presenter mode: {left[:10]}"
    assert re.search(r"[가-힣]", korean)


# What a reader must never see on a page, in either language: internal names, a machine's paths, lazy plurals and
# missing values printed as such.
INTERNAL = re.compile(
    r"\b(full_finetune|partial_finetune|feature_extraction|feature_extraction_bn_train|configure_strategy|"
    r"source_fashion_resnet20\w*)\b"
)
ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:home|root|Users|work|tmp|srv|opt|usr)/")
LAZY_PLURAL = re.compile(r"\w\((?:s|es)\)")
MISSING_VALUE = re.compile(r"(?<![\w$-])(None|nan|NaN)\b")  # not in an element id ("$$ID-…-None")
CODE = re.compile(r"`[^`\n]*`")  # a command or a formula in a code span is code, not prose


@pytest.mark.parametrize("page", ["start", *PAGES])
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_no_page_shows_internal_names_paths_lazy_plurals_or_missing_values(runs, page, lang):
    text, _exceptions = runs[lang, page]
    prose = CODE.sub("", text)
    for name, pattern, where in (
        ("internal name", INTERNAL, prose),
        ("absolute path", ABSOLUTE_PATH, text),  # commands too: they are recorded repository-relative
        ("'(s)' plural", LAZY_PLURAL, prose),
        ("missing value", MISSING_VALUE, prose),
    ):
        found = sorted({m.group(0) for m in pattern.finditer(where)})
        context = [where[max(0, m.start() - 60) : m.end() + 40] for m in list(pattern.finditer(where))[:3]]
        assert not found, f"{page} ({lang}) shows {name}s {found}: {context}"
