"""Build the library: plan the runs (skipping what ``--resume`` finds), execute them, merge seeds, record.

Also ``adopt``: record result files that already exist (the shipped ones) in the index with their config
hashes, after checking that the configuration inside each file is the entry's, without running anything.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any

from resnet_core import registry
from resnet_core.library.entries import Entry, Run
from resnet_core.library.store import Library, device_of
from resnet_core.provenance import provenance
from resnet_core.validation import one_line


@dataclass
class BuildReport:
    planned: list[str] = field(default_factory=list)  # run labels handed to the executor
    ran: list[str] = field(default_factory=list)  # run labels that finished
    skipped_entries: list[str] = field(default_factory=list)  # whole entries already in the library (--resume)
    skipped_runs: list[str] = field(default_factory=list)  # single seeds already in the library (--resume)
    written: list[str] = field(default_factory=list)  # entries whose result file was (re)written
    failed: dict[str, str] = field(default_factory=dict)  # run label -> error


def _command(entry: Entry, run: Run | None = None) -> str:
    what = f" (run {run.key})" if run is not None and run.key != "all" else ""
    return f"python -m resnet_core library build --only {entry.name}{what}"


def plan(entries: list[Entry], library: Library, *, resume: bool) -> tuple[list[Run], BuildReport]:
    report = BuildReport()
    todo: list[Run] = []
    for entry in entries:
        if resume and library.has_entry(entry.name, entry.config_hash):
            report.skipped_entries.append(entry.name)
            continue
        for run in entry.runs():
            if resume and entry.split_by_seed and library.has_part(run):
                report.skipped_runs.append(run.label)
            else:
                todo.append(run)
    report.planned = [r.label for r in todo]
    return todo, report


def finalize(entry: Entry, payloads: dict[str, dict], library: Library, *, executor: str) -> dict:
    """One result from the entry's runs (merging seeds), with provenance naming the library build; written."""
    runs = entry.runs()
    parts = [payloads[r.key] if r.key in payloads else library.read_part(r) for r in runs]
    if entry.split_by_seed:
        result = registry.get(entry.kind).merge_payloads(entry.config, parts)
        first = parts[0].get("provenance") or {}
        part_provs = [p.get("provenance") or {} for p in parts]
        prov = {
            **provenance(seed=None, device="cpu", data=str(first.get("data", "?")), seeds=entry.config.get("seeds")),
            "device": device_of({"provenance": {"parts": part_provs}}),  # the parts' device(s)
            "parts": part_provs,
        }
    else:
        result = parts[0]
        prov = dict(result.get("provenance") or {})
    prov["command"] = _command(entry)
    prov["equivalent_command"] = entry.command
    prov["library"] = {
        "entry": entry.name,
        "config_hash": entry.config_hash,
        "executor": executor,
        "runs": [r.label for r in runs],
    }
    result["provenance"] = prov
    library.record_entry(entry, result, executor=executor)
    return result


def build(
    entries: list[Entry],
    library: Library,
    executor: Any,
    *,
    resume: bool = False,
    progress: bool = True,
    log: Any = None,
) -> BuildReport:
    """Run what is missing (everything unless ``resume``), one progress bar over all runs; see the module doc."""
    from tqdm import tqdm

    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    todo, report = plan(entries, library, resume=resume)
    by_name = {e.name: e for e in entries}
    pending = {e.name: {r.key for r in e.runs()} for e in entries if e.name not in report.skipped_entries}
    for label in report.skipped_runs:
        name, key = label.split("/", 1)
        pending[name].discard(key)
    payloads: dict[str, dict[str, dict]] = {name: {} for name in pending}
    for name, keys in pending.items():  # every seed already there from an interrupted build: merge now
        if not keys:
            finalize(by_name[name], {}, library, executor=executor.name)
            report.written.append(name)
    if not todo:
        return report
    executor.start()
    try:
        log(f"library: {len(todo)} run(s) on {executor.describe()}")
        with tqdm(total=len(todo), unit="run", desc="library build", disable=not progress, file=sys.stderr) as bar:
            for run, payload, error in executor.run(todo):
                bar.update(1)
                if error is not None:
                    report.failed[run.label] = f"{type(error).__name__}: {one_line(error)}"
                    continue
                report.ran.append(run.label)
                entry = by_name[run.entry]
                payload.setdefault("provenance", {})["command"] = _command(entry, run)
                if entry.split_by_seed:
                    library.record_part(run, payload, executor=executor.name)
                payloads[run.entry][run.key] = payload
                pending[run.entry].discard(run.key)
                if not pending[run.entry]:
                    bar.set_postfix_str(run.entry)
                    finalize(entry, payloads[run.entry], library, executor=executor.name)
                    report.written.append(run.entry)
    finally:
        executor.stop()
    return report


def adopt(entries: list[Entry], library: Library) -> tuple[list[str], dict[str, str]]:
    """Index existing result files whose configuration is the entry's; returns (adopted, {name: why not})."""
    adopted, refused = [], {}
    for entry in entries:
        path = library.root / entry.file
        if not path.is_file():
            refused[entry.name] = "no file"
            continue
        payload = json.loads(path.read_text())
        found = registry.get(entry.kind).normalize(payload.get("config") or {})
        if found != entry.config:
            diff = sorted(k for k in set(found) | set(entry.config) if found.get(k) != entry.config.get(k))
            refused[entry.name] = f"its configuration differs in {', '.join(diff)}"
            continue
        if payload.get("status", "done") != "done":
            refused[entry.name] = f"status {payload.get('status')}"
            continue
        created = (payload.get("provenance") or {}).get("date")
        parts = (payload.get("provenance") or {}).get("parts") or []
        created = max([p.get("date", "") for p in parts if isinstance(p, dict)] + [created or ""]) or None
        library.record_entry(entry, payload, executor="adopted", created=created, write=False)
        adopted.append(entry.name)
    return adopted, refused


def status_rows(entries: list[Entry], library: Library) -> list[dict]:
    """One row per declared entry: built / adopted / stale (its config hash changed) / missing."""
    rows = []
    for entry in entries:
        rec = library.index["entries"].get(entry.name)
        path = library.root / entry.file
        if rec is None or not path.is_file():
            state = "missing" if not path.is_file() else "not indexed"
        elif rec.get("config_hash") != entry.config_hash:
            state = "stale"
        else:
            state = "adopted" if rec.get("executor") == "adopted" else f"built ({rec.get('executor')})"
        rows.append(
            {
                "name": entry.name,
                "state": state,
                "created": (rec or {}).get("created"),
                "device": (rec or {}).get("device") or (device_of(_peek(path)) if path.is_file() else "–"),
                "budget": entry.budget,
                "runs": len(entry.runs()),
                "file": entry.file,
            }
        )
    return rows


def _peek(path: Any) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
