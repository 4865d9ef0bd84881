"""CPU thread settings chosen once at start-up, and running independent runs side by side.

Measured on the lab's 2-core server (docs/PERFORMANCE.md, "Threads"): the page defaults are many small
computations (ResNet-20 at batch 32, one-batch gradient measurements, 300-image evaluations). Two torch threads
per op barely beat one on a quiet machine, and on a busy one (another training process, another user's job)
OpenMP's two threads spin against each other: the same step swung from 1x to 15x slower. One thread per op and
the independent runs of an experiment (transfer strategies, gradient depths, ablation lesions) computed side by
side, one per core, is as fast on a quiet machine and stays fast on a busy one, so that is the default on small
machines.

Overrides (environment, read by :func:`configure`):

- ``RESNET_LAB_THREADS``: torch intra-op threads per op (default 1 on machines with up to 4 cores).
- ``RESNET_LAB_WORKERS``: independent runs computed at once on a CPU (default: the usable cores, at most 4).

``configure()`` is called once by ``app.py`` and the CLI entry. Library code that never calls it keeps torch's
own defaults and runs everything in sequence (``workers() == 1``).
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

ENV_THREADS = "RESNET_LAB_THREADS"
ENV_WORKERS = "RESNET_LAB_WORKERS"
SMALL_MACHINE = 4  # cores; the measured rule below applies up to here

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class ThreadPlan:
    intra_op: int  # torch threads per op
    workers: int  # independent runs at once (CPU device only)
    cpus: int
    why: str

    def describe(self) -> str:
        return (
            f"{self.intra_op} torch thread(s) per op, {self.workers} run(s) at once on {self.cpus} CPU(s) ({self.why})"
        )


def usable_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _env_int(env: dict, name: str) -> int | None:
    text = env.get(name, "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError as exc:
        raise ValueError(f"{name} must be a positive whole number, got {text!r}") from exc
    if value < 1:
        raise ValueError(f"{name} must be a positive whole number, got {text!r}")
    return value


def plan_threads(env: dict | None = None, cpus: int | None = None) -> ThreadPlan:
    """The settings for this machine: small machines get 1 thread per op and one run per core; bigger ones (not
    measured here) split their cores between 2 runs. Either part can be overridden by the environment."""
    env = dict(os.environ) if env is None else env
    cpus = cpus or usable_cpus()
    if cpus <= SMALL_MACHINE:
        intra, workers, why = 1, cpus, f"default for <= {SMALL_MACHINE} cores"
    else:
        intra, workers, why = max(1, cpus // 2), 2, f"default for > {SMALL_MACHINE} cores"
    t, w = _env_int(env, ENV_THREADS), _env_int(env, ENV_WORKERS)
    if t is not None or w is not None:
        why = "set by " + ", ".join(n for n, v in ((ENV_THREADS, t), (ENV_WORKERS, w)) if v is not None)
    return ThreadPlan(t or intra, w or workers, cpus, why)


_PLAN: ThreadPlan | None = None
_LOCK = threading.Lock()


def configure(env: dict | None = None) -> ThreadPlan:
    """Apply the plan once per process (later calls return it unchanged); returns what is in force."""
    global _PLAN
    with _LOCK:
        if _PLAN is None:
            import torch

            plan = plan_threads(env)
            torch.set_num_threads(plan.intra_op)
            _PLAN = plan
        return _PLAN


def current_plan() -> ThreadPlan | None:
    return _PLAN


def reset_for_tests() -> None:
    global _PLAN
    _PLAN = None


def workers(device: object = "cpu") -> int:
    """How many independent runs to compute at once on ``device``: 1 unless :func:`configure` ran, and always 1
    on an accelerator (its kernels queue on one stream anyway)."""
    kind = getattr(device, "type", str(device).split(":")[0])
    if _PLAN is None or kind != "cpu":
        return 1
    return _PLAN.workers


def run_side_by_side(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    n_workers: int,
    should_stop: Callable[[], bool] | None = None,
    cost: list[float] | None = None,
) -> Iterator[R]:
    """``fn(item)`` for every item, ``n_workers`` at a time, yielded **in the items' order** as each becomes
    available. ``cost`` (one number per item): the costliest start first, so that the workers finish together.
    ``n_workers <= 1``: plain sequence. Items not started when ``should_stop()`` turns true are skipped (the
    iterator ends at the first of them)."""
    items = list(items)
    stop = should_stop or (lambda: False)
    if n_workers <= 1 or len(items) <= 1:
        for item in items:
            if stop():
                return
            yield fn(item)
        return
    skipped = object()

    def guarded(item: T):
        return skipped if stop() else fn(item)

    with ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="resnet-lab-run") as pool:
        # Each run gets a copy of the caller's context (e.g. the page's language, resnet_core.i18n).
        order = sorted(range(len(items)), key=lambda i: -cost[i]) if cost else range(len(items))
        futures: list = [None] * len(items)
        for i in order:
            futures[i] = pool.submit(contextvars.copy_context().run, guarded, items[i])
        try:
            for fut in futures:
                out = fut.result()
                if out is skipped:
                    return
                yield out
        finally:
            for fut in futures:
                fut.cancel()


def in_background(items: Iterator[T]) -> Iterator[T]:
    """Run the iterator ``items`` (e.g. a generator doing torch work) in its own thread and yield what it yields,
    in order: two such iterators consumed in turn compute side by side. Exceptions re-raise in the consumer;
    the caller's context (language, ...) is copied into the thread."""
    import queue

    box: queue.Queue = queue.Queue()
    done = object()

    def produce() -> None:
        try:
            for item in items:
                box.put((True, item))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            box.put((False, exc))
            return
        box.put((True, done))

    ctx = contextvars.copy_context()
    threading.Thread(target=ctx.run, args=(produce,), daemon=True, name="resnet-lab-sweep").start()
    while True:
        ok, item = box.get()
        if not ok:
            raise item
        if item is done:
            return
        yield item
