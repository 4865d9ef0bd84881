"""Background jobs: long work in a worker thread that a page polls.

A Streamlit rerun (any widget a user touches) ends the script run, and with it any training loop running
inline. A :class:`Job` runs the experiment in its own thread instead; the page keeps the handle in its session
and redraws progress from it. The worker never touches the UI: it only appends events and partial results
under a lock.

A process-wide :class:`JobLimiter` bounds how many jobs compute at once, so a classroom of browsers on one
GPU queues in arrival order instead of running out of memory; a queued job knows its place in line and an
estimated wait (from how long recent jobs took).

A job belongs to its browser session: the page's polling panel calls :meth:`Job.touch` (a heartbeat) every
second or so. A job not touched for ``heartbeat_timeout`` seconds is orphaned (its tab was closed): its
``should_stop`` turns True, so a running job stops within one step and frees its slot, and a queued job gives up
its place without ever starting. The check is lazy, made by the job's own thread (at every step, and every
0.1 s while queued), so no reaper thread is needed and no lock is held across sessions. ``time_limit`` stops a
runaway run the same way, with the state TIME_LIMIT ("stopped: time limit").
"""

from __future__ import annotations

import collections
import enum
import itertools
import math
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from resnet_core.i18n import current_language, language
from resnet_core.i18n import gettext as _
from resnet_core.training.engine import ProgressEvent


class JobState(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    DIVERGED = "diverged"
    TIME_LIMIT = "time-limit"  # stopped by the per-job time cap (RESNET_LAB_MAX_JOB_SECONDS)

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
        self._running: dict[int, float] = {}  # job id -> when it got its slot (monotonic)
        self._durations: collections.deque[float] = collections.deque(maxlen=20)  # recent slot holding times

    def acquire(self, job_id: int, cancelled: threading.Event | Any) -> bool:
        """Block until ``job_id`` is first in line and a slot is free; False if cancelled while waiting.
        ``cancelled``: anything with ``is_set()`` (checked at least every 0.1 s, also when a slot frees up)."""
        with self._cond:
            self._waiting.append(job_id)
            try:
                while True:
                    if cancelled.is_set():
                        return False
                    if self._waiting[0] == job_id and len(self._running) < self.max_running:
                        break
                    self._cond.wait(timeout=0.1)
                self._running[job_id] = time.monotonic()
                return True
            finally:
                self._waiting.remove(job_id)
                self._cond.notify_all()

    def release(self, job_id: int) -> None:
        with self._cond:
            started = self._running.pop(job_id, None)
            if started is not None:
                self._durations.append(time.monotonic() - started)
            self._cond.notify_all()

    def estimated_wait(self, position: int) -> float | None:
        """Seconds until the job at ``position`` in line starts, from recent jobs' durations (None: no data yet)."""
        with self._cond:
            if not self._durations:
                return None
            typical = sum(self._durations) / len(self._durations)
            now = time.monotonic()
            left = sorted(max(0.0, typical - (now - t)) for t in self._running.values())
            rounds = math.ceil(position / self.max_running)
            first = left[(position - 1) % self.max_running] if len(left) >= self.max_running else 0.0
            return first + typical * (rounds - 1)

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

    def __init__(
        self,
        fn: JobFn,
        *,
        title: str = "",
        limiter: JobLimiter | None = None,
        heartbeat_timeout: float | None = None,
        time_limit: float | None = None,
        owner: str | None = None,
    ) -> None:
        self.id = next(_ids)
        self.title = title
        self.owner = owner  # the browser session's id, for display and bookkeeping
        self.language = current_language()  # the starter's: fn and the job's own messages speak it
        self.heartbeat_timeout = heartbeat_timeout  # None: lives until done (CLI, tests)
        self.time_limit = time_limit  # None: no cap
        self.last_seen = time.monotonic()
        self.stop_reason: str | None = None  # "request" | "session-ended" | "time-limit"
        self.exception: BaseException | None = None  # what fn raised, for a page that wants its type
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

    def stop(self, reason: str = "request") -> None:
        """Ask the job to stop; it ends within one training step and keeps what it has."""
        if not self._stop.is_set():
            self.stop_reason = reason
        self._stop.set()

    def touch(self) -> None:
        """Heartbeat from the owning session's panel: the job is still wanted."""
        self.last_seen = time.monotonic()

    @property
    def orphaned(self) -> bool:
        return self.heartbeat_timeout is not None and time.monotonic() - self.last_seen > self.heartbeat_timeout

    def should_stop(self) -> bool:
        """True when asked to stop, when the owning session is gone, or past the time limit."""
        if self._stop.is_set():
            return True
        if self.orphaned:
            self.stop("session-ended")
        elif self.time_limit is not None and self.started is not None and time.time() - self.started > self.time_limit:
            self.stop("time-limit")
        return self._stop.is_set()

    def is_set(self) -> bool:  # lets the limiter poll should_stop while the job waits in line
        return self.should_stop()

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
        with language(self.language):
            self._run_here()

    def _run_here(self) -> None:
        acquired = not self.should_stop() and (self._limiter is None or self._limiter.acquire(self.id, self))
        if not acquired or self.should_stop():  # a job of a vanished session never starts, even when first in line
            self._finish(JobState.CANCELLED)
            if self._limiter is not None:
                self._limiter.release(self.id)
            return
        try:
            self.started = time.time()
            self.state = JobState.RUNNING
            result = self._fn(self)
            with self._lock:
                self.result = result
            status = getattr(result, "status", None) or (result.get("status") if isinstance(result, dict) else None)
            if status == "diverged":
                self.error = getattr(result, "message", None) or _("the run diverged (loss became NaN or infinite)")
                self._finish(JobState.DIVERGED)
            elif self.stop_reason == "time-limit":
                self.error = _("stopped: time limit ({s:.0f} s per run on this server)").format(s=self.time_limit)
                self._finish(JobState.TIME_LIMIT)
            elif status == "cancelled" or self._stop.is_set():
                self._finish(JobState.CANCELLED)
            else:
                self._finish(JobState.DONE)
        except Exception as exc:  # the page shows the message; the traceback stays available for bug reports
            self.exception = exc
            self.error = f"{type(exc).__name__}: {exc}"
            self.error_detail = traceback.format_exc()
            self._finish(JobState.FAILED)
        finally:
            if self._limiter is not None:
                self._limiter.release(self.id)

    def _finish(self, state: JobState) -> None:
        self.finished_at = time.time()
        if state == JobState.CANCELLED and self.stop_reason == "session-ended" and not self.error:
            self.error = _("cancelled: its browser session went away")
        with self._lock:
            self.state = state


def start_job(fn: JobFn, *, title: str = "", limiter: JobLimiter | None = None, **kwargs: Any) -> Job:
    return Job(fn, title=title, limiter=limiter, **kwargs).start()


def experiment_job(kind: str, config: Any, *, device: Any, inputs: dict | None = None) -> JobFn:
    """The work of one run of the experiment ``kind`` with ``config``, as a job: the experiment's own ``run``
    (:mod:`resnet_core.registry`) reporting to the job, stopping when it says so, publishing a copy of every
    partial result (the run keeps changing its own). ``inputs``: in-memory objects the run takes besides its
    config (an uploaded image set, a pair of nets trained on the page)."""
    from resnet_core import registry

    experiment = registry.get(kind)
    config = experiment.config(config)

    def publish_copy(job: Job, partial: Any) -> None:
        job.publish(experiment.result(partial.to_dict()))

    def work(job: Job) -> Any:
        return experiment.run(
            config,
            device=device,
            on_progress=job.report,
            should_stop=job.should_stop,
            on_partial=lambda partial: publish_copy(job, partial),
            **(inputs or {}),
        )

    work.kind, work.config = kind, config  # what the job computes, as data
    return work
