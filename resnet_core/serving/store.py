"""Results by content: every finished run of an experiment on this server, and the shipped ones, found by what
was asked, so that thirty people asking one question cost one computation.

The **key** of a run is the sha256 of its experiment's config hash (kind, full configuration with defaults
filled in, the experiment's code version, the sha256 of every checkpoint it reads; see
:meth:`resnet_core.experiment.Experiment.config_hash`), the device kind it runs on (``cpu``, ``cuda``, ``mps``:
numerics differ), and the content hashes of its in-memory inputs (an upload). Same key, same answer.

On disk (``RESNET_LAB_RESULTS_DIR``, default ``$XDG_CACHE_HOME/resnet_lab/results`` or
``~/.cache/resnet_lab/results``): ``<key[:2]>/<key>.json`` holds ``{"key", "kind", "config", "device", "inputs",
"created", "seconds", "payload"}``. Every write is atomic (a temp file, then ``os.replace``), so readers on other
app replicas (a shared volume) never see half a file. The folder is bounded by size
(``RESNET_LAB_RESULTS_MAX_MB``, default 500): the least recently used results go first (a read refreshes a
file's modification time). Only results that mean something are kept: a finished run, or a diverged one ("diverged
at step N" is an answer); a partial, stopped or failed run never is.

The shipped results (``assets/results``, indexed by the results library) are entries too, read-only: a request
whose key matches one is answered from the file the library made.

``running/<key>.json`` marks a run in progress (which server, since when, how far): when a server dies mid-run,
the next one finds the marker, says what was lost, and can start the run again when someone asks.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from resnet_core.provenance import write_json

STORED_STATUSES = ("done", "diverged")
STALE_TEMP_SECONDS = 3600  # a write takes well under a second; an older temp file is a killed writer's
DEFAULT_MAX_MB = 500.0


def default_root() -> Path:
    env = os.environ.get("RESNET_LAB_RESULTS_DIR")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "resnet_lab" / "results"


def default_max_bytes() -> int:
    try:
        mb = float(os.environ.get("RESNET_LAB_RESULTS_MAX_MB", DEFAULT_MAX_MB))
    except ValueError:
        mb = DEFAULT_MAX_MB
    return int(max(1.0, mb) * 1e6)


def device_kind(device: Any) -> str:
    return str(getattr(device, "type", None) or str(device).split(":")[0])


def request_key(kind: str, config: Any, *, device: Any, inputs: dict[str, str] | None = None) -> str:
    """The content address of a run: see the module docstring. ``inputs``: name -> content hash."""
    from resnet_core import registry
    from resnet_core.experiment import canonical_hash

    config_hash = registry.get(kind).config_hash(config, legacy=False)
    return canonical_hash({"config_hash": config_hash, "device": device_kind(device), "inputs": dict(inputs or {})})


@dataclass
class StoredResult:
    key: str
    kind: str
    config: dict
    device: str
    created: float  # unix time
    seconds: float  # how long the run took
    payload: dict
    source: str = "server"  # "server": computed by an app on this store; "shipped": the results library's file
    inputs: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        return str(self.payload.get("status", "done"))

    def to_dict(self) -> dict:
        return {
            "key": self.key,
            "kind": self.kind,
            "config": self.config,
            "device": self.device,
            "inputs": self.inputs,
            "created": self.created,
            "seconds": self.seconds,
            "payload": self.payload,
        }

    @classmethod
    def from_dict(cls, d: dict, *, source: str = "server") -> StoredResult:
        return cls(
            key=d["key"],
            kind=d["kind"],
            config=dict(d.get("config", {})),
            device=str(d.get("device", "?")),
            created=float(d.get("created", 0.0)),
            seconds=float(d.get("seconds", 0.0)),
            payload=dict(d["payload"]),
            source=source,
            inputs=dict(d.get("inputs", {})),
        )


class ResultStore:
    def __init__(self, root: Path | str | None = None, *, max_bytes: int | None = None, shipped: bool = True) -> None:
        self._root, self._max_bytes = root, max_bytes
        self.use_shipped = shipped

    @property
    def root(self) -> Path:
        """The folder given, else ``RESNET_LAB_RESULTS_DIR`` (read at each use) or the per-user default."""
        return Path(self._root) if self._root is not None else default_root()

    @property
    def max_bytes(self) -> int:
        return self._max_bytes if self._max_bytes is not None else default_max_bytes()

    # ------------------------------------------------------------------------------------------- results
    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> StoredResult | None:
        """The result stored under ``key`` (this server's, else a shipped one), or None. A read counts as a use."""
        path = self.path(key)
        try:
            stored = StoredResult.from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            return self._shipped(key)
        try:
            os.utime(path)  # least recently used goes first
        except OSError:
            pass
        return stored

    def put(
        self,
        key: str,
        kind: str,
        config: dict,
        *,
        device: Any,
        payload: dict,
        seconds: float,
        inputs: dict | None = None,
    ) -> StoredResult | None:
        """Keep a finished (or diverged) result; anything else is refused (None). Evicts old results past the
        size bound."""
        if str(payload.get("status", "done")) not in STORED_STATUSES:
            return None
        stored = StoredResult(key, kind, dict(config), device_kind(device), time.time(), float(seconds), payload)
        stored.inputs = dict(inputs or {})
        write_json(self.path(key), stored.to_dict())
        self.evict()
        return stored

    def evict(self) -> list[str]:
        """Remove the least recently used results until the folder is within its size bound (and the temp files
        of writers killed mid-write, once they are an hour old)."""
        for tmp in self.root.glob("??/*.tmp"):
            try:
                if time.time() - tmp.stat().st_mtime > STALE_TEMP_SECONDS:
                    tmp.unlink()
            except OSError:
                continue
        files = []
        for path in self.root.glob("??/*.json"):
            try:
                st = path.stat()
            except OSError:
                continue
            files.append((st.st_mtime, st.st_size, path))
        total = sum(size for _, size, _ in files)
        removed = []
        for _mtime, size, path in sorted(files):
            if total <= self.max_bytes:
                break
            try:
                path.unlink()
            except OSError:
                continue
            total -= size
            removed.append(path.stem)
        return removed

    def __len__(self) -> int:
        return sum(1 for _ in self.root.glob("??/*.json"))

    # ------------------------------------------------------------------------------------ shipped results
    @cached_property
    def _shipped_files(self) -> dict[str, tuple[str, Path]]:
        """key -> (kind, file) for every shipped library result (computed on a CPU, with no inputs)."""
        if not self.use_shipped:
            return {}
        from resnet_core import registry
        from resnet_core.experiment import canonical_hash
        from resnet_core.library.entries import catalog
        from resnet_core.library.store import Library

        library = Library()
        out = {}
        for name, entry in catalog().items():
            path = library.path(name)
            if path is None or not path.is_file():
                continue
            config_hash = registry.get(entry.kind).config_hash(entry.config)
            key = canonical_hash({"config_hash": config_hash, "device": "cpu", "inputs": {}})
            out[key] = (entry.kind, path)
        return out

    def _shipped(self, key: str) -> StoredResult | None:
        found = self._shipped_files.get(key)
        if found is None:
            return None
        kind, path = found
        try:
            payload = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        created = path.stat().st_mtime
        return StoredResult(key, kind, payload.get("config", {}), "cpu", created, 0.0, payload, source="shipped")

    # ------------------------------------------------------------------------------------ runs in progress
    def marker_path(self, key: str) -> Path:
        return self.root / "running" / f"{key}.json"

    def mark_running(self, key: str, info: dict) -> None:
        write_json(self.marker_path(key), {**info, "key": key, "updated": time.time()})

    def clear_running(self, key: str) -> None:
        try:
            self.marker_path(key).unlink()
        except OSError:
            pass

    def running_marker(self, key: str) -> dict | None:
        try:
            return json.loads(self.marker_path(key).read_text())
        except (OSError, ValueError):
            return None

    def markers(self) -> list[dict]:
        out = []
        for path in sorted((self.root / "running").glob("*.json")):
            try:
                out.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue
        return out
