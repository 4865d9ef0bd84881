"""Keep the gettext catalogs in step with the code: extract, merge into each language, compile.

    python scripts/i18n_catalogs.py            # extract -> resnet_lab.pot, update every .po, compile every .mo
    python scripts/i18n_catalogs.py --check    # exit 1 when the .pot/.po/.mo lag behind the code (what the tests check)

The same steps as ``pybabel extract -F babel.cfg -k N_ -k ngettext:1,2`` / ``pybabel update`` / ``pybabel compile``
(see resnet_core/i18n.py), plus one fix: Babel flags any message containing "% x" as python-format ("95% interval"
reads as the conversion "% i"), and then refuses to compile a translation that does not keep that non-placeholder.
This project never %-formats a message (placeholders are named ``{...}``), so that flag is dropped. New or changed
messages appear in the .po with an empty translation; fill them in and run this again.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "resnet_core" / "locale"
DOMAIN = "resnet_lab"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
REAL_PERCENT = re.compile(r"%(\([^)]*\))?[#0+-]?\d*(\.\d+)?[sdifr]")  # %s, %d, %(name)s: not "95% interval"


def extract() -> Catalog:
    """Every message of the app, its pages and resnet_core, as a template catalog."""
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    template = Catalog(project="ResNet Lab", version="0.1.0", charset="utf-8")
    for _filename, _lineno, message, comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        template.add(message, None, [], auto_comments=comments, context=context)
    for message in template:
        _clean_flags(message)
    return template


def _clean_flags(message) -> None:
    ids = message.id if isinstance(message.id, tuple) else (message.id,)
    if "python-format" in message.flags and not any(REAL_PERCENT.search(i) for i in ids):
        message.flags.discard("python-format")


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def languages() -> list[str]:
    return sorted(p.name for p in LOCALE.iterdir() if (p / "LC_MESSAGES" / f"{DOMAIN}.po").is_file())


def updated(lang: str, template: Catalog) -> Catalog:
    with open(po_path(lang), "rb") as f:
        catalog = read_po(f, locale=lang)
    created = catalog.creation_date  # the header's dates move only when a person edits the file
    catalog.update(template, no_fuzzy_matching=True)
    catalog.creation_date = created
    catalog.obsolete.clear()
    for message in catalog:
        _clean_flags(message)
    return catalog


def po_bytes(catalog: Catalog, *, template: bool = False) -> bytes:
    buf = io.BytesIO()
    write_po(buf, catalog, width=120, no_location=True, sort_output=True, omit_header=template, ignore_obsolete=True)
    return buf.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_mo(buf, catalog)
    return buf.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only report whether the catalogs are up to date")
    args = parser.parse_args()
    template = extract()
    stale = []
    pot = LOCALE / f"{DOMAIN}.pot"
    outputs = {pot: po_bytes(template, template=True)}
    for lang in languages():
        catalog = updated(lang, template)
        outputs[po_path(lang)] = po_bytes(catalog)
        outputs[po_path(lang).with_suffix(".mo")] = mo_bytes(catalog)
        untranslated = [m.id for m in catalog if m.id and not (m.string and all(m.string))]
        if untranslated:
            print(f"{lang}: {len(untranslated)} message(s) without a translation", file=sys.stderr)
    for path, data in outputs.items():
        if not path.is_file() or path.read_bytes() != data:
            stale.append(path)
            if not args.check:
                path.write_bytes(data)
    for path in stale:
        print(("stale: " if args.check else "wrote ") + str(path.relative_to(ROOT)))
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
