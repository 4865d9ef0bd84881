"""The line a server's jobs wait in: at most ``max_running`` compute at once; the rest wait their turn round-robin
across sessions (a session's second run waits behind the first runs of the sessions in line, then arrival order), each
knowing its place and an estimated wait (from the estimates of the jobs ahead of it, the pace a running job has
shown, or how long recent jobs took).

Jobs are duck-typed: the limiter needs ``id``, ``is_set()`` (stopped while waiting), ``owner`` (the session that
asked; a job without one is a session of its own) and, for waits, ``estimate``, ``latest`` and ``started`` (see
:class:`resnet_core.serving.jobs.Job`).
"""

from __future__ import annotations

import collections
import heapq
import itertools
import threading
import time
from typing import Any


def _expected_seconds(job: Any, typical: float | None) -> float | None:
    """How long ``job`` takes in all: its estimate; else, once it is running, the pace it has shown (a run started
    while the server was still being timed has no estimate); else how long recent jobs took."""
    estimate = getattr(job, "estimate", None)
    if estimate is not None and estimate.total > 0:
        return estimate.total
    event = getattr(job, "latest", None)
    if event is not None and event.total_steps and event.step > 0 and getattr(job, "started", None):
        return (time.time() - job.started) * event.total_steps / event.step
    return typical


def _owner(job: Any) -> Any:
    return getattr(job, "owner", None) or ("job", job.id)


class JobLimiter:
    """A gate with a fair line: at most ``max_running`` jobs hold a slot at once (see the module docstring)."""

    def __init__(self, max_running: int = 1) -> None:
        if max_running < 1:
            raise ValueError("max_running must be at least 1")
        self.max_running = max_running
        self._cond = threading.Condition()
        self._arrivals = itertools.count()
        self._turn: dict[Any, tuple[int, int]] = {}  # waiting job id -> its place in the order (see acquire)
        self._waiting: list[Any] = []  # jobs in line, in arrival order (the order they start: _line)
        self._running: dict[int, tuple[Any, float]] = {}  # job id -> (job, when it got its slot)
        self._durations: collections.deque[float] = collections.deque(maxlen=20)  # recent slot holding times

    def acquire(self, job: Any) -> bool:
        """Block until ``job`` is first in line and a slot is free; False if it is stopped while waiting
        (``job.is_set()``, checked at least every 0.1 s, also when a slot frees up)."""
        with self._cond:
            owner = _owner(job)
            outstanding = sum(_owner(j) == owner for j in self._waiting) + sum(
                _owner(j) == owner for j, _ in self._running.values()
            )
            self._turn[job.id] = (outstanding, next(self._arrivals))  # its session's how-manieth run, then arrival
            self._waiting.append(job)
            try:
                while True:
                    if job.is_set():
                        return False
                    if self._line()[0] is job and len(self._running) < self.max_running:
                        break
                    self._cond.wait(timeout=0.1)
                self._running[job.id] = (job, time.monotonic())
                return True
            finally:
                self._waiting.remove(job)
                self._turn.pop(job.id, None)
                self._cond.notify_all()

    def _line(self) -> list[Any]:
        """The waiting jobs in the order they will start (called with the lock held)."""
        return sorted(self._waiting, key=lambda job: self._turn[job.id])

    def release(self, job_id: int) -> None:
        with self._cond:
            held = self._running.pop(job_id, None)
            if held is not None:
                self._durations.append(time.monotonic() - held[1])
            self._cond.notify_all()

    def estimated_wait(self, position: int) -> float | None:
        """Seconds until the job at ``position`` in line starts: the slots free up as the running jobs finish
        (each by its estimate, else the recent typical duration), then each job ahead takes one for its own
        expected time. None when something ahead has neither an estimate nor any history to go on."""
        with self._cond:
            typical = sum(self._durations) / len(self._durations) if self._durations else None
            now = time.monotonic()
            free_at = []
            for job, started in self._running.values():
                expected = _expected_seconds(job, typical)
                if expected is None:
                    return None
                free_at.append(max(0.0, expected - (now - started)))
            free_at += [0.0] * (self.max_running - len(free_at))
            heapq.heapify(free_at)
            for job in self._line()[: max(0, position - 1)]:
                expected = _expected_seconds(job, typical)
                if expected is None:
                    return None
                heapq.heappush(free_at, heapq.heappop(free_at) + expected)
            return free_at[0]

    def position(self, job_id: int) -> int | None:
        """1 for the next job to run, 2 behind it, ...; None when not waiting."""
        with self._cond:
            ids = [j.id for j in self._line()]
            return ids.index(job_id) + 1 if job_id in ids else None

    @property
    def running(self) -> int:
        with self._cond:
            return len(self._running)

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)
