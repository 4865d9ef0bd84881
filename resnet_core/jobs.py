"""Background jobs: long work in a worker thread that a page polls.

A Streamlit rerun (any widget a user touches) ends the script run, and with it any training loop running
inline. A :class:`Job` runs the experiment in its own thread instead; the page keeps the handle in its session
and redraws progress from it. The worker never touches the UI: it only appends events and partial results
under a lock.

A process-wide :class:`JobLimiter` bounds how many jobs compute at once, so a classroom of browsers on one
GPU queues in arrival order instead of running out of memory; a queued job knows its place in line.
"""

from __future__ import annotations

import enum
import itertools
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from resnet_core.engine import ProgressEvent


class JobState(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    DIVERGED = "diverged"

    @property
    def finished(self) -> bool:
        return self not in (JobState.QUEUED, JobState.RUNNING)


class JobLimiter:
    """A first-come-first-served gate: at most ``max_running`` jobs hold a slot at once."""

    def __init__(self, max_running: int = 1) -> None:
        if max_running < 1:
            raise ValueError("max_running must be at least 1")
        self.max_running = max_running
        self._cond = threading.Condition()
        self._waiting: list[int] = []
        self._running: set[int] = set()

    def acquire(self, job_id: int, cancelled: threading.Event) -> bool:
        """Block until ``job_id`` is first in line and a slot is free; False if cancelled while waiting."""
        with self._cond:
            self._waiting.append(job_id)
            try:
                while not (self._waiting[0] == job_id and len(self._running) < self.max_running):
                    if cancelled.is_set():
                        return False
                    self._cond.wait(timeout=0.1)
                self._running.add(job_id)
                return True
            finally:
                self._waiting.remove(job_id)
                self._cond.notify_all()

    def release(self, job_id: int) -> None:
        with self._cond:
            self._running.discard(job_id)
            self._cond.notify_all()

    def position(self, job_id: int) -> int | None:
        """1 for the next job to run, 2 behind it, ...; None when not waiting."""
        with self._cond:
            return self._waiting.index(job_id) + 1 if job_id in self._waiting else None

    @property
    def running(self) -> int:
        with self._cond:
            return len(self._running)

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)


_ids = itertools.count(1)
JobFn = Callable[["Job"], Any]


class Job:
    """One experiment run in a worker thread.

    ``fn(job)`` does the work; it reports through ``job.report(event)`` (also usable directly as an engine
    ``on_progress``), publishes partial results with ``job.publish(partial)``, and checks ``job.should_stop``.
    Its return value becomes ``job.result``. A result with ``status == "diverged"`` (or "cancelled") sets the
    job's state accordingly; an exception sets FAILED with the message kept for the page to show.
    """

    def __init__(self, fn: JobFn, *, title: str = "", limiter: JobLimiter | None = None) -> None:
        self.id = next(_ids)
        self.title = title
        self._fn = fn
        self._limiter = limiter
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.state = JobState.QUEUED
        self.events: list[ProgressEvent] = []
        self.partial: Any = None
        self.result: Any = None
        self.error: str | None = None
        self.error_detail: str | None = None
        self.created = time.time()
        self.started: float | None = None
        self.finished_at: float | None = None
        self._thread = threading.Thread(target=self._run, name=f"resnet-lab-job-{self.id}", daemon=True)

    # ------------------------------------------------------------------------------------------ control
    def start(self) -> Job:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the job to stop; it ends within one training step and keeps what it has."""
        self._stop.set()

    def should_stop(self) -> bool:
        return self._stop.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # ------------------------------------------------------------------------------- worker-side calls
    def report(self, event: ProgressEvent) -> None:
        with self._lock:
            self.events.append(event)

    def publish(self, partial: Any) -> None:
        with self._lock:
            self.partial = partial

    # ------------------------------------------------------------------------------------ reader side
    def snapshot(self) -> tuple[JobState, list[ProgressEvent], Any]:
        with self._lock:
            return self.state, list(self.events), self.partial

    @property
    def latest(self) -> ProgressEvent | None:
        with self._lock:
            return self.events[-1] if self.events else None

    @property
    def queue_position(self) -> int | None:
        return self._limiter.position(self.id) if self._limiter and self.state == JobState.QUEUED else None

    @property
    def active(self) -> bool:
        return not self.state.finished

    @property
    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished_at or time.time()) - self.started

    # ------------------------------------------------------------------------------------------ worker
    def _run(self) -> None:
        if self._limiter is not None and not self._limiter.acquire(self.id, self._stop):
            self._finish(JobState.CANCELLED)
            return
        try:
            self.started = time.time()
            self.state = JobState.RUNNING
            result = self._fn(self)
            with self._lock:
                self.result = result
            status = getattr(result, "status", None) or (result.get("status") if isinstance(result, dict) else None)
            if status == "diverged":
                self.error = getattr(result, "message", None) or "the run diverged (loss became NaN or infinite)"
                self._finish(JobState.DIVERGED)
            elif status == "cancelled" or self._stop.is_set():
                self._finish(JobState.CANCELLED)
            else:
                self._finish(JobState.DONE)
        except Exception as exc:  # the page shows the message; the traceback stays available for bug reports
            self.error = f"{type(exc).__name__}: {exc}"
            self.error_detail = traceback.format_exc()
            self._finish(JobState.FAILED)
        finally:
            if self._limiter is not None:
                self._limiter.release(self.id)

    def _finish(self, state: JobState) -> None:
        self.finished_at = time.time()
        with self._lock:
            self.state = state


def start_job(fn: JobFn, *, title: str = "", limiter: JobLimiter | None = None) -> Job:
    return Job(fn, title=title, limiter=limiter).start()
