"""Where the app's runs execute: in this process (the embedded default, no service to start) or on a Ray cluster
(``RESNET_LAB_EXECUTOR=ray``; :mod:`resnet_core.serving.ray_runs`, which imports Ray only when chosen).

An executor takes a :class:`~resnet_core.serving.runs.RunRequest` (a kind and a config: data, not a page's
closure) and returns a live computation that pages draw: ``find(request, viewer, on_finish)`` attaches to the one
computing the same key, so that identical requests share it; ``submit(request, viewer, on_finish)`` starts one;
``device_for(requested)`` says where a run of a page's device goes (the cluster decides on Ray).
"""

from __future__ import annotations

import threading
from typing import Any

from resnet_core.serving.jobs import Job, experiment_job
from resnet_core.serving.limiter import JobLimiter


class LocalExecutor:
    """Runs in worker threads of this process, at most ``max_running`` at once (the embedded default)."""

    name = "local"

    def __init__(
        self,
        *,
        limiter: JobLimiter | None = None,
        viewer_timeout: float | None = 30.0,
        alive: Any = None,
        time_limit: float | None = None,
    ) -> None:
        self.limiter = limiter or JobLimiter(1)
        self.viewer_timeout, self.alive, self.time_limit = viewer_timeout, alive, time_limit
        self._active: dict[str, Job] = {}
        self._lock = threading.Lock()

    def find(self, request: Any, viewer: str, on_finish: Any) -> Job | None:
        """The run of ``request.key`` computing now, with ``viewer`` attached; None when there is none."""
        with self._lock:
            job = self._active.get(request.key)
        if job is None or not job.active:
            return None
        job.touch(viewer)
        return job

    def device_for(self, requested: str) -> str:
        return requested

    def submit(self, request: Any, viewer: str, on_finish: Any) -> Job:
        job = Job(
            experiment_job(request.kind, request.config, device=request.device, inputs=request.inputs),
            title=request.title,
            limiter=self.limiter,
            heartbeat_timeout=self.viewer_timeout,
            time_limit=self.time_limit,
            owner=viewer,
            alive=self.alive,
            estimate=request.estimate,
            training=request.training,
        )
        job.key, job.kind = request.key, request.kind

        def forget(finished: Job) -> None:
            with self._lock:
                if self._active.get(finished.key) is finished:
                    del self._active[finished.key]
            on_finish(finished)

        job.on_finish.append(forget)
        with self._lock:
            self._active[request.key] = job
        return job.start()

    @property
    def running(self) -> int:
        return self.limiter.running

    @property
    def waiting(self) -> int:
        return self.limiter.waiting


def make_executor(name: str, **kwargs: Any) -> Any:
    """``local`` (threads of this process) or ``ray`` (RAY_ADDRESS, or a local Ray)."""
    if name == "local":
        return LocalExecutor(**kwargs)
    if name == "ray":
        from resnet_core.serving.ray_runs import RayRunExecutor

        return RayRunExecutor(**kwargs)
    raise ValueError(f"unknown executor {name!r} (RESNET_LAB_EXECUTOR): choose local or ray")
