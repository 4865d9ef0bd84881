"""Plant small, realistic bugs in the mechanisms behind the lab's claims, one at a time, and check that the tests
covering each mechanism fail: python scripts/mutation_check.py [--only NAME ...] [--list]

Each mutation names a mechanism (a shortcut, a verdict rule, the images a run scores, the statistics it uses, ...)
and the claim it would falsify, the file, an exact ``old`` snippet (which must occur exactly once, so the list
cannot rot silently when the code moves) and its ``new`` replacement, and the test node ids that cover that
mechanism. For each one the script writes the mutated file, runs ``python -m pytest -x -q`` on those tests in a
subprocess (``-p no:cacheprovider``, ``OMP_NUM_THREADS=1``, no bytecode written, so a mutated ``.pyc`` can never
outlive the mutation), and restores the file byte for byte, with its modification time, in a ``finally`` (also
on Ctrl-C or SIGTERM). Results:

- caught: the tests failed (the first failing test is named);
- survived: the tests passed - the mechanism can break without any test noticing: add or sharpen a test (never
  weaken the mutation);
- broken: the mutated module does not import - the mutation is not meaningful: fix the mutation;
- error: pytest could not run the tests (a renamed test, a collection error).

The exit status is 0 only when every mutation run was caught. It takes minutes (each mutation starts a fresh
interpreter that imports torch), so it is run on demand, not in CI; see README.md, "For maintainers".

Why not mutmut or cosmic-ray: they generate thousands of anonymous operator mutations (``<`` -> ``<=``, ``+`` ->
``-``) across whole modules and run the whole suite (or guess tests from coverage) for each; most of those
mutants are either trivially caught or equivalent, and the interesting failures this project had were of another
kind - wiring: a part that works and an experiment that quietly stops using it (the engine ignoring the
augmentation flag, a run that never feeds its calibration images, a verdict weakened from every seed to any
seed). Those are edits across a call site that no operator mutator generates, and each needs its own few
targeted tests to run in seconds. A curated, named list checked in next to the tests says which claim each guard
protects, and runs in a few minutes with nothing to install.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


sys.path.insert(0, str(ROOT))  # the list lives beside the tests it names
from tests.mutations import MUTATIONS, Mutation

# -------------------------------------------------------------------------------------------------- running


def _module_of(file: str) -> str | None:
    path = Path(file)
    if path.suffix != ".py":
        return None
    parts = path.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def check_list(mutations: tuple[Mutation, ...]) -> list[str]:
    """Problems with the list itself: a name twice, an ``old`` that is not in its file exactly once, ..."""
    problems = []
    names = [m.name for m in mutations]
    problems += [f"{n}: listed twice" for n in sorted({n for n in names if names.count(n) > 1})]
    for m in mutations:
        path = ROOT / m.file
        if not path.is_file():
            problems.append(f"{m.name}: {m.file} does not exist")
            continue
        count = path.read_text(encoding="utf-8").count(m.old)
        if count != 1:
            problems.append(f"{m.name}: its old snippet occurs {count} times in {m.file} (must be exactly once)")
        if m.old == m.new:
            problems.append(f"{m.name}: new is the same as old")
        if not m.tests:
            problems.append(f"{m.name}: no tests listed")
        for test in m.tests:
            if not (ROOT / test.split("::")[0]).is_file():
                problems.append(f"{m.name}: {test} is not a test file")
    return problems


class _Terminated(Exception):
    pass


def _on_sigterm(signum, frame):
    raise _Terminated()


def run_one(m: Mutation, *, timeout: float) -> dict:
    """Apply ``m``, run its tests, restore the file; -> {"result", "test", "seconds"}."""
    path = ROOT / m.file
    original = path.read_bytes()
    stat = path.stat()
    text = original.decode("utf-8")
    if text.count(m.old) != 1:
        return {"result": "error", "test": f"old snippet occurs {text.count(m.old)} times", "seconds": 0.0}
    # One interpreter per mutation: import the mutated module first (an import error means the mutation is
    # broken, not caught), then pytest in the same process.
    runner = "\n".join(
        [
            "import importlib, sys",
            "try:",
            f"    importlib.import_module({_module_of(m.file)!r})" if _module_of(m.file) else "    pass",
            "except Exception as exc:",
            "    print(f'MUTATION-BROKEN {type(exc).__name__}: {exc}')",
            "    sys.exit(99)",
            "import pytest",
            "sys.exit(pytest.main(sys.argv[1:]))",
        ]
    )
    args = [sys.executable, "-c", runner, "-x", "-q", "-p", "no:cacheprovider", "-rf", *m.tests]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    start = time.perf_counter()
    try:
        path.write_bytes(text.replace(m.old, m.new, 1).encode("utf-8"))
        try:
            proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
            out, code = proc.stdout + proc.stderr, proc.returncode
        except subprocess.TimeoutExpired as exc:
            out, code = str(exc.stdout or ""), -1
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the .pyc of the original stays valid
    seconds = time.perf_counter() - start
    if code == 99:
        broken = next((line for line in out.splitlines() if line.startswith("MUTATION-BROKEN")), "")
        return {"result": "broken", "test": broken.removeprefix("MUTATION-BROKEN "), "seconds": seconds}
    if code == 1:
        failed = re.search(r"^FAILED (.+?)(?: - .*)?$", out, re.MULTILINE)
        return {"result": "caught", "test": failed.group(1) if failed else "?", "seconds": seconds}
    if code == 0:
        return {"result": "survived", "test": "", "seconds": seconds}
    if code == -1:
        return {"result": "caught", "test": f"(timed out after {timeout:.0f} s)", "seconds": seconds}
    tail = " | ".join(out.strip().splitlines()[-3:])
    return {"result": "error", "test": f"pytest exit {code}: {tail[:200]}", "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these mutations")
    parser.add_argument("--list", action="store_true", help="list the mutations and check the list; run nothing")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutation's tests (default 300)")
    args = parser.parse_args(argv)

    problems = check_list(MUTATIONS)
    if problems:
        print("The mutation list is out of date:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    chosen = list(MUTATIONS)
    if args.only:
        unknown = sorted(set(args.only) - {m.name for m in MUTATIONS})
        if unknown:
            print(f"unknown mutation(s): {', '.join(unknown)} (see --list)", file=sys.stderr)
            return 2
        chosen = [m for m in MUTATIONS if m.name in args.only]
    width = max(len(m.name) for m in chosen)
    if args.list:
        for m in chosen:
            print(f"{m.name:<{width}}  {m.file}\n{'':<{width}}  {m.mechanism}\n{'':<{width}}  {', '.join(m.tests)}")
        print(f"\n{len(chosen)} mutations; every old snippet occurs exactly once.")
        return 0

    signal.signal(signal.SIGTERM, _on_sigterm)  # restore the file on `kill` too (Ctrl-C is KeyboardInterrupt)
    rows = []
    start = time.perf_counter()
    try:
        for i, m in enumerate(chosen, 1):
            row = run_one(m, timeout=args.timeout)
            rows.append((m, row))
            print(f"[{i:>2}/{len(chosen)}] {row['result']:<8} {m.name:<{width}} {row['seconds']:5.1f} s  {row['test']}")
            sys.stdout.flush()
    except (KeyboardInterrupt, _Terminated):
        print("\ninterrupted: the file being mutated was restored", file=sys.stderr)
        return 130
    total = time.perf_counter() - start

    print(f"\n{'mutation':<{width}}  {'result':<8}  {'s':>5}  caught by / why")
    for m, row in rows:
        print(f"{m.name:<{width}}  {row['result']:<8}  {row['seconds']:5.1f}  {row['test']}")
    counts = {k: sum(r["result"] == k for _, r in rows) for k in ("caught", "survived", "broken", "error")}
    print(
        f"\n{counts['caught']} of {len(rows)} caught, {counts['survived']} survived, {counts['broken']} broken, "
        f"{counts['error']} errors in {total:.0f} s"
    )
    return 0 if counts["caught"] == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
