"""One computation per question, shared by everyone who asks: a run is a request for a result.

A page turns its settings into the experiment's config and asks :class:`RunService` for ``(kind, config)`` on a
device (plus in-memory inputs such as an upload, named by their content hash). The service answers with a
:class:`Handle`:

- **stored**: the result is in the :class:`~resnet_core.serving.store.ResultStore` (computed earlier on this
  server or another replica with the same settings and seed, or shipped): it appears at once;
- **attached**: the same run is computing right now: the asker becomes one more viewer of that computation (the
  same progress, curves and result); Stop takes one viewer away, and the run stops when no one watches;
- **new**: nothing yet: an executor starts it (:mod:`resnet_core.serving.executors`: in this process by default,
  on a Ray cluster with ``RESNET_LAB_EXECUTOR=ray``);
- **restarted**: a run of the same key was in progress on a server that died (its marker is in the store): it
  starts again now, and the handle says what was lost.

When a run finishes (or diverges: a divergence is an answer), its payload goes into the store; partial, stopped
and failed runs never do. Nothing here imports streamlit: the app passes ``alive(viewer)``, which says whether a
browser session is still connected.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from resnet_core import registry
from resnet_core.serving.jobs import JobState
from resnet_core.serving.store import ResultStore, StoredResult, device_kind, request_key

SERVER_ID = f"{socket.gethostname()}:{os.getpid()}:{int(time.time())}"
MARKER_EVERY = 5.0  # seconds between updates of a running run's marker (how far it got)


@dataclass
class RunRequest:
    kind: str
    config: Any  # the experiment's config object (or its dict)
    device: str
    title: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)  # in-memory objects the run takes besides its config
    input_keys: dict[str, str] = field(default_factory=dict)  # their content hashes (part of the key)
    estimate: Any = None  # serving.estimates.Estimate, for the queue and the progress bar
    training: bool = False  # the panel shows a loss only for training runs

    def __post_init__(self) -> None:
        self.config = registry.get(self.kind).config(self.config)
        self._keys: dict[str, str] = {}

    @property
    def key(self) -> str:
        """The content address of this run on its device (computed once per device)."""
        if self.device not in self._keys:
            self._keys[self.device] = request_key(self.kind, self.config, device=self.device, inputs=self.input_keys)
        return self._keys[self.device]

    @property
    def config_dict(self) -> dict:
        return registry.get(self.kind).normalize(self.config)


class StoredView:
    """A stored result, shaped like a finished job, so one panel draws both."""

    active = False
    events: list = []
    partial = None
    error = None
    error_detail = None
    latest = None
    queue_position = None
    estimated_wait = None
    estimate = None
    training = False

    def __init__(self, stored: StoredResult, title: str = "") -> None:
        self.stored = stored
        self.id = stored.key[:12]
        self.title = title
        self.state = JobState.DIVERGED if stored.status == "diverged" else JobState.DONE
        self.result = registry.get(stored.kind).result(stored.payload)
        self.elapsed = stored.seconds
        if self.state == JobState.DIVERGED:
            self.error = getattr(self.result, "message", "") or "diverged"

    def snapshot(self) -> tuple[JobState, list, Any]:
        return self.state, [], None

    def touch(self, viewer: str | None = None) -> None:
        pass

    def detach(self, viewer: str | None = None) -> int:
        return 0


class Computation(Protocol):
    """What a page draws: a live run (an in-process :class:`~resnet_core.serving.jobs.Job`, or a Ray run's
    proxy) or a :class:`StoredView`."""

    id: Any
    title: str
    state: JobState
    result: Any
    error: str | None
    active: bool
    elapsed: float

    def snapshot(self) -> tuple[JobState, list, Any]: ...
    def touch(self, viewer: str | None = None) -> None: ...
    def detach(self, viewer: str | None = None) -> int: ...


@dataclass
class Handle:
    key: str
    kind: str
    view: Any  # a Computation
    origin: str  # "stored" | "shipped" | "attached" | "new" | "restarted"
    request: RunRequest | None = None  # what was asked (with its in-memory inputs): "run it again" reuses it
    interrupted: dict | None = None  # the marker of the run a dead server left behind (origin "restarted")

    @property
    def stored(self) -> StoredResult | None:
        return self.view.stored if isinstance(self.view, StoredView) else None


class RunService:
    """See the module docstring. One per app process; replicas share the store (and, with Ray, the cluster)."""

    def __init__(self, store: ResultStore, executor: Any) -> None:
        self.store, self.executor = store, executor
        self._lock = threading.Lock()

    # --------------------------------------------------------------------------------------------- asking
    def lookup(self, request: RunRequest, viewer: str) -> Handle | None:
        """What already exists for ``request`` without starting anything new: a stored result, a run to attach
        to, or (restarted now) a run a dead server left unfinished. None when there is nothing."""
        with self._lock:
            request.device = self.executor.device_for(request.device)
            return self._existing(request, viewer)

    def request(self, request: RunRequest, viewer: str, *, again: bool = False) -> Handle:
        """The answer to ``request``: stored, attached, or a new run. ``again``: compute anew even if stored
        (the new result replaces the stored one); a run of the same settings in progress is still shared."""
        with self._lock:
            request.device = self.executor.device_for(request.device)
            found = self._existing(request, viewer, stored=not again)
            if found is not None:
                return found
            return Handle(request.key, request.kind, self._start(request, viewer), "new", request)

    def _existing(self, request: RunRequest, viewer: str, *, stored: bool = True) -> Handle | None:
        live = self.executor.find(request, viewer, lambda run: self._finished(request, run))
        if live is not None:
            return Handle(request.key, request.kind, live, "attached", request)
        if not stored:
            return None
        found = self.store.get(request.key)
        if found is not None:
            origin = "shipped" if found.source == "shipped" else "stored"
            return Handle(request.key, request.kind, StoredView(found, request.title), origin, request)
        marker = self.interrupted(request.key)
        if marker is not None and set(marker.get("inputs") or {}) == set(request.input_keys):
            view = self._start(request, viewer)
            return Handle(request.key, request.kind, view, "restarted", request, interrupted=marker)
        return None

    def _start(self, request: RunRequest, viewer: str) -> Any:
        """Submit a new run; in this process, a marker in the store says it is running (and how far it got, every
        few seconds), so that a server that dies mid-run leaves a note for the next one."""
        local = getattr(self.executor, "name", "") == "local"
        if local:
            self._mark(request)
        run = self.executor.submit(request, viewer, lambda finished: self._finished(request, finished))
        if local:
            last = {"at": time.monotonic()}

            def progress(event: Any) -> None:
                if time.monotonic() - last["at"] >= MARKER_EVERY:
                    last["at"] = time.monotonic()
                    self._mark(request, step=event.step, total=event.total_steps)

            run.on_report.append(progress)
        return run

    # ----------------------------------------------------------------------------------- bookkeeping
    def _mark(self, request: RunRequest, *, step: int | None = None, total: int | None = None) -> None:
        old = self.store.running_marker(request.key) or {}
        info = {
            "kind": request.kind,
            "config": request.config_dict,
            "device": device_kind(request.device),
            "inputs": request.input_keys,
            "title": request.title,
            "server": SERVER_ID,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": old.get("started", time.time()) if old.get("server") == SERVER_ID else time.time(),
            "step": step,
            "total_steps": total,
        }
        self.store.mark_running(request.key, info)

    def _finished(self, request: RunRequest, run: Any) -> None:
        """A run ended: its result into the store if it is an answer; the marker goes either way."""
        try:
            if run.result is not None:  # the store keeps it only if it is an answer (done or diverged)
                experiment = registry.get(request.kind)
                payload = experiment.payload(run.result)
                self.store.put(
                    request.key,
                    request.kind,
                    request.config_dict,
                    device=request.device,
                    payload=payload,
                    seconds=run.elapsed,
                    inputs=request.input_keys,
                )
        finally:
            if getattr(self.executor, "name", "") == "local":
                self.store.clear_running(request.key)

    def interrupted(self, key: str) -> dict | None:
        """The marker of a run of ``key`` whose server is gone (it died or restarted mid-run), else None."""
        marker = self.store.running_marker(key)
        if marker is None or marker.get("server") == SERVER_ID:
            return None
        if marker.get("host") == socket.gethostname() and _pid_alive(int(marker.get("pid", -1))):
            return None  # another app process on this machine still runs it (it would be attached via Ray)
        if marker.get("host") != socket.gethostname() and time.time() - float(marker.get("updated", 0)) < 60:
            return None  # a replica elsewhere updated it within a minute: alive
        return marker


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
