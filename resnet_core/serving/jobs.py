"""Background jobs: long work in a worker thread that pages poll, watched by one or more browser sessions.

A Streamlit rerun (any widget a user touches) ends the script run, and with it any training loop running
inline. A :class:`Job` runs the work in its own thread instead; pages keep a handle and redraw progress from it.
The worker never touches the UI: it only appends events and partial results under a lock.

A process-wide :class:`~resnet_core.serving.limiter.JobLimiter` bounds how many jobs compute at once, so a
classroom of browsers on one machine waits in a fair line instead of running out of memory; a queued job knows
its place in line and an estimated wait.

A job is watched by **viewers** (browser sessions; several when a class asks for the same result, see
:mod:`resnet_core.serving.runs`). Each viewer's page polls and calls :meth:`Job.touch` with its id (a heartbeat);
``alive(viewer)``, when given, says at once whether a viewer's session is still connected (True), has closed
(False) or cannot be told (None). A connected viewer stays however seldom it polls (a background tab's timers are
throttled, a frozen tab's stopped); a closed one is gone ``grace`` s after it closed; one no one can tell about is
gone after ``heartbeat_timeout`` s without a heartbeat. :meth:`Job.detach` (the Stop button) takes one viewer
away. With no viewer left the job is orphaned: ``should_stop`` turns True, so a running job stops within one step
and a queued job gives up its place without ever starting. The check is lazy, made by the job's own thread (at
every step, and every 0.1 s while queued), so no reaper thread is needed.
``time_limit`` stops a runaway run the same way, with the state TIME_LIMIT ("stopped: time limit").
"""

from __future__ import annotations

import enum
import itertools
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from resnet_core.i18n import current_language, language
from resnet_core.i18n import gettext as _
from resnet_core.serving.limiter import JobLimiter
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


class Viewers:
    """Who watches a job: viewer id -> last heartbeat (monotonic). See the module docstring."""

    def __init__(self, timeout: float | None, alive: Callable[[str], bool] | None = None, grace: float = 5.0) -> None:
        self.timeout, self.alive, self.grace = timeout, alive, grace
        self._seen: dict[str, float] = {}
        self._closed_since: dict[str, float] = {}
        self._lock = threading.Lock()

    def touch(self, viewer: str) -> None:
        with self._lock:
            self._seen[viewer] = time.monotonic()
            self._closed_since.pop(viewer, None)

    def detach(self, viewer: str) -> int:
        """Take ``viewer`` away; returns how many are left."""
        with self._lock:
            self._seen.pop(viewer, None)
            self._closed_since.pop(viewer, None)
            return len(self._seen)

    def _gone(self, viewer: str, seen: float, now: float) -> bool:
        connected = self.alive(viewer) if self.alive is not None else None
        if connected is None:  # no one can tell: the heartbeats decide
            return self.timeout is not None and now - seen > self.timeout
        if connected:  # a tab in the background polls seldom or not at all, and still watches
            self._closed_since.pop(viewer, None)
            return False
        closed = self._closed_since.setdefault(viewer, now)
        return now - closed > self.grace

    def current(self) -> list[str]:
        """The viewers still there (drops the ones that are gone)."""
        now = time.monotonic()
        with self._lock:
            for viewer, seen in list(self._seen.items()):
                if self._gone(viewer, seen, now):
                    del self._seen[viewer]
            return list(self._seen)

    def __len__(self) -> int:
        return len(self.current())


_ids = itertools.count(1)
JobFn = Callable[["Job"], Any]


class Job:
    """One run in a worker thread.

    ``fn(job)`` does the work; it reports through ``job.report(event)`` (also usable directly as an engine
    ``on_progress``), publishes partial results with ``job.publish(partial)``, and checks ``job.should_stop``.
    Its return value becomes ``job.result``. A result with ``status == "diverged"`` (or "cancelled") sets the
    job's state accordingly; an exception sets FAILED with the message kept for the page to show.

    ``heartbeat_timeout`` None: the job lives until done (CLI, tests); else it needs viewers (``owner`` is the
    first). ``estimate`` (anything with ``.total`` seconds) lets the queue say how long the jobs ahead take.
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
        alive: Callable[[str], bool] | None = None,
        estimate: Any = None,
        training: bool = False,
    ) -> None:
        self.id = next(_ids)
        self.title = title
        self.owner = owner or f"job-{self.id}"  # the starting session's id
        self.language = current_language()  # the starter's: fn and the job's own messages speak it
        self.heartbeat_timeout = heartbeat_timeout
        self.viewers = Viewers(heartbeat_timeout, alive)
        self.viewers.touch(self.owner)
        self.time_limit = time_limit  # None: no cap
        self.estimate, self.training = estimate, training
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
        self.on_report: list[Callable[[ProgressEvent], None]] = []  # called in the worker after each event
        self.on_finish: list[Callable[[Job], None]] = []  # called in the worker after the final state is set
        self._thread = threading.Thread(target=self._run, name=f"resnet-lab-job-{self.id}", daemon=True)

    # ------------------------------------------------------------------------------------------ control
    def start(self) -> Job:
        self._thread.start()
        return self

    def stop(self, reason: str = "request") -> None:
        """Stop the job for everyone; it ends within one training step and keeps what it has."""
        if not self._stop.is_set():
            self.stop_reason = reason
        self._stop.set()

    def touch(self, viewer: str | None = None) -> None:
        """Heartbeat from a viewer's panel (the owner's when no viewer is named): the job is still wanted."""
        self.viewers.touch(viewer or self.owner)

    def attach(self, viewer: str) -> None:
        self.touch(viewer)

    def detach(self, viewer: str | None = None) -> int:
        """``viewer`` stops watching (Stop); the job stops when no one is left. Returns how many still watch."""
        left = self.viewers.detach(viewer or self.owner)
        if left == 0 and self.active:
            self.stop("request")
        return left

    @property
    def orphaned(self) -> bool:
        return self.heartbeat_timeout is not None and len(self.viewers) == 0

    def should_stop(self) -> bool:
        """True when asked to stop, when no one watches any more, or past the time limit."""
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
        for callback in self.on_report:
            callback(event)

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
    def version(self) -> tuple[int, int]:
        """Changes whenever there is something new to draw (events, or the final state)."""
        with self._lock:
            return len(self.events), list(JobState).index(self.state)

    @property
    def queue_position(self) -> int | None:
        return self._limiter.position(self.id) if self._limiter and self.state == JobState.QUEUED else None

    @property
    def estimated_wait(self) -> float | None:
        pos = self.queue_position
        return self._limiter.estimated_wait(pos) if pos and self._limiter else None

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
        acquired = not self.should_stop() and (self._limiter is None or self._limiter.acquire(self))
        if not acquired or self.should_stop():  # a job no one watches never starts, even when first in line
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
            self.error = _("cancelled: no one is watching it any more (its browser tabs were closed)")
        with self._lock:
            self.state = state
        for callback in self.on_finish:
            try:
                callback(self)
            except Exception:  # a bookkeeping callback must not turn a finished run into a failure
                traceback.print_exc()


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

    return work
