"""The library on disk: result files in one folder (default ``assets/results``) and an index ``library.json``.

The index maps each entry name to its file, config hash, creation time, device, budget, kind, the executor that
built it (or "adopted" for a file that existed before the library recorded it) and the file's sha256; per-seed
runs of a multi-seed entry are kept under ``parts/<entry>/<key>.json`` with their own hashes, so an interrupted
build resumes run by run. Every file is written atomically (temp file + ``os.replace``), the index last, so a
reader never sees half a file and the index never names a file that is not there.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

from resnet_core.data.datasets import REPO_ROOT
from resnet_core.provenance import sha256_file, write_json

DEFAULT_DIR = REPO_ROOT / "assets" / "results"
INDEX_NAME = "library.json"
INDEX_VERSION = 1
# Fields that differ between two runs of the same configuration: where/when it ran, and timings (any key with
# "seconds" in its name; a transfer result's message says "N runs in 12.3s").
VOLATILE_KEYS = frozenset({"provenance", "date", "elapsed", "message"})


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def comparable(payload: Any) -> Any:
    """A result without its timing and provenance fields: two runs of one configuration compare equal."""
    if isinstance(payload, dict):
        return {k: comparable(v) for k, v in payload.items() if k not in VOLATILE_KEYS and "seconds" not in str(k)}
    if isinstance(payload, list):
        return [comparable(v) for v in payload]
    return payload


def device_of(payload: dict) -> str:
    """The device a result ran on, from its provenance (the parts' devices for a merged result)."""
    prov = payload.get("provenance") or {}
    parts = prov.get("parts") or []
    devices = sorted({str(p.get("device", "?")) for p in parts if isinstance(p, dict)})
    if devices:
        return devices[0] if len(devices) == 1 else " / ".join(devices)
    return str(prov.get("device", "?"))


class Library:
    def __init__(self, root: Path | str = DEFAULT_DIR) -> None:
        self.root = Path(root)
        self.index_path = self.root / INDEX_NAME
        self.index = self._load()

    def _load(self) -> dict:
        try:
            index = json.loads(self.index_path.read_text())
        except (OSError, json.JSONDecodeError):
            index = {}
        index.setdefault("version", INDEX_VERSION)
        index.setdefault("entries", {})
        index.setdefault("parts", {})
        return index

    def save(self) -> None:
        write_json(self.index_path, self.index)

    # entries -----------------------------------------------------------------------------------------------
    def path(self, name: str) -> Path | None:
        rec = self.index["entries"].get(name)
        return self.root / rec["file"] if rec else None

    def has_entry(self, name: str, config_hash: str) -> bool:
        rec = self.index["entries"].get(name)
        return bool(rec and rec.get("config_hash") == config_hash and (self.root / rec["file"]).is_file())

    def record_entry(
        self, entry: Any, payload: dict, *, executor: str, created: str | None = None, write: bool = True
    ) -> Path:
        """Write the entry's result file (unless adopting one already there) and index it."""
        path = self.root / entry.file
        if write:
            write_json(path, payload)
        self.index["entries"][entry.name] = {
            "file": entry.file,
            "kind": entry.kind,
            "config_hash": entry.config_hash,
            "created": created or now_iso(),
            "device": device_of(payload),
            "budget": entry.budget,
            "command": entry.command,
            "executor": executor,
            "status": payload.get("status", "done"),
            "sha256": sha256_file(path),
        }
        self.save()
        return path

    # per-seed runs -----------------------------------------------------------------------------------------
    def part_path(self, run: Any) -> Path:
        return self.root / "parts" / run.entry / f"{run.key}.json"

    def has_part(self, run: Any) -> bool:
        rec = self.index["parts"].get(run.label)
        return bool(rec and rec.get("config_hash") == run.config_hash and self.part_path(run).is_file())

    def read_part(self, run: Any) -> dict:
        return json.loads(self.part_path(run).read_text())

    def record_part(self, run: Any, payload: dict, *, executor: str) -> None:
        path = write_json(self.part_path(run), payload)
        self.index["parts"][run.label] = {
            "file": str(path.relative_to(self.root)),
            "config_hash": run.config_hash,
            "created": now_iso(),
            "device": device_of(payload),
            "executor": executor,
        }
        self.save()


def resolve(name: str, root: Path | str = DEFAULT_DIR) -> Path:
    """The file of a library entry by name (from the index; ``<name>.json`` in the folder when not indexed)."""
    root = Path(root)
    try:
        rec = json.loads((root / INDEX_NAME).read_text())["entries"].get(name)
    except (OSError, json.JSONDecodeError, KeyError):
        rec = None
    return root / (rec["file"] if rec else f"{name}.json")
