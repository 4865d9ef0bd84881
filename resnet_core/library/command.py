"""``library build|list|adopt``: rebuild every shipped result as independent runs (locally or on Ray), list it."""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from pathlib import Path
from typing import Any

from resnet_core.library.entries import CATALOGS, catalog, select
from resnet_core.library.store import DEFAULT_DIR, Library
from resnet_core.validation import OneLineParser, positive_int


def _entries(args: argparse.Namespace) -> list:
    return select(catalog(args.catalog), args.only)


def cmd_build(args: argparse.Namespace) -> int:
    from resnet_core.library.build import build
    from resnet_core.library.executors import make_executor

    entries = _entries(args)
    executor = make_executor(args.executor, address=args.address, device=args.device, threads=args.threads)
    library = Library(args.library_dir)
    report = build(entries, library, executor, resume=args.resume, progress=not args.no_progress)
    skipped = len(report.skipped_runs) + sum(len(e.runs()) for e in entries if e.name in report.skipped_entries)
    print(
        f"library {library.root}: {len(report.ran)} run(s) done, {skipped} skipped (already in the library), "
        f"{len(report.failed)} failed; wrote {', '.join(report.written) or 'nothing'}"
    )
    for label, why in report.failed.items():
        print(f"failed: {label}: {why}", file=sys.stderr)
    return 1 if report.failed else 0


def age(created: str | None, now: _dt.datetime | None = None) -> str:
    if not created:
        return "–"
    try:
        then = _dt.datetime.fromisoformat(created)
    except ValueError:
        return "?"
    seconds = max(0.0, ((now or _dt.datetime.now(_dt.timezone.utc)) - then).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


def cmd_list(args: argparse.Namespace) -> int:
    from resnet_core.library.build import status_rows

    library = Library(args.library_dir)
    rows = status_rows(_entries(args), library)
    print(f"library {library.root} ({args.catalog} catalogue, {len(rows)} entries)")
    print(f"{'name':<36} {'state':<14} {'age':>6}  {'runs':>4}  {'device':<18} budget")
    for r in rows:
        print(
            f"{r['name']:<36} {r['state']:<14} {age(r['created']):>6}  {r['runs']:>4}  {r['device']:<18} {r['budget']}"
        )
    return 0


def cmd_adopt(args: argparse.Namespace) -> int:
    from resnet_core.library.build import adopt

    library = Library(args.library_dir)
    adopted, refused = adopt(_entries(args), library)
    print(f"adopted {len(adopted)} existing result(s) into {library.index_path}: {', '.join(adopted) or 'none'}")
    for name, why in refused.items():
        print(f"not adopted: {name}: {why}", file=sys.stderr)
    return 0 if not refused else 1


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--library-dir", type=Path, default=DEFAULT_DIR, help="result files and library.json live here")
    p.add_argument(
        "--catalog",
        choices=sorted(CATALOGS),
        default="shipped",
        help="shipped: every result in assets/results; smoke: the same experiments at tiny budgets (seconds)",
    )
    p.add_argument("--only", nargs="+", default=None, metavar="NAME", help="just these entries")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("library", help="rebuild every shipped result as independent runs (local or Ray)")
    sub = p.add_subparsers(dest="library_command", required=True, parser_class=OneLineParser)

    b = sub.add_parser("build", help="run every entry (or --only NAME ...), write results and the index")
    _common(b)
    b.add_argument("--executor", choices=["local", "ray"], default="local")
    b.add_argument("--address", default=None, help="Ray cluster address (default: $RAY_ADDRESS, else a local Ray)")
    b.add_argument("--resume", action="store_true", help="skip runs whose config hash is already in the library")
    b.add_argument("--device", default=None, help="cpu, cuda, mps (default: the best available; cuda on Ray GPUs)")
    b.add_argument(
        "--threads",
        type=positive_int,
        default=1,
        help="torch threads per run (the shipped results used 1; Ray reserves as many CPUs per task)",
    )
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    b.set_defaults(func=cmd_build)

    ls = sub.add_parser("list", help="what the library holds: state, age, device, budget")
    _common(ls)
    ls.set_defaults(func=cmd_list)

    a = sub.add_parser("adopt", help="index result files already there (e.g. the shipped ones) without running")
    _common(a)
    a.set_defaults(func=cmd_adopt)
