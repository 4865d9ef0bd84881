"""Where library runs execute: here, one after another (``local``), or as Ray tasks (``ray``).

An executor takes runs and yields ``(run, payload, error)`` as each one finishes, in completion order; the build
writes files and the index on the machine that called it (a cluster's workers need no shared disk; they return
the result). Ray is optional: it is imported only by :class:`RayExecutor`, with a clear message when absent.

Ray: ``ray.init(address=...)`` from ``--address``, else ``RAY_ADDRESS``, else a local Ray on this machine; each
run is a task with ``num_gpus=1`` when the cluster has GPUs (one run per GPU), else ``num_cpus=threads``. Every
worker node needs this repository at the same path (the workers get it on ``PYTHONPATH``) and the same
Python packages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from resnet_core.data.datasets import REPO_ROOT
from resnet_core.library.entries import Run
from resnet_core.registry import execute_run

RAY_MISSING = (
    "the Ray executor needs Ray, which is not installed here: pip install 'ray==2.60.0' "
    "(it is in requirements-dev.txt); the app itself never needs it. Or use --executor local."
)

Outcome = tuple[Run, "dict | None", "BaseException | None"]


class LocalExecutor:
    """Runs in this process, one after another (``threads`` torch threads each)."""

    name = "local"

    def __init__(self, *, device: str | None = None, threads: int | None = 1) -> None:
        self.device, self.threads = device, threads

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def describe(self) -> str:
        return f"local, sequential, {self.threads or 'default'} thread(s) per run"

    def run(self, runs: list[Run]) -> Iterator[Outcome]:
        for run in runs:
            try:
                yield run, execute_run(run.kind, run.config, self.device, self.threads), None
            except Exception as exc:  # one failed run must not lose the others
                yield run, None, exc


def import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError(RAY_MISSING) from exc
    return ray


class RayExecutor:
    """Each run is a Ray task; results come back to this process as they finish."""

    name = "ray"

    def __init__(
        self,
        *,
        address: str | None = None,
        device: str | None = None,
        threads: int | None = 1,
        init_kwargs: dict | None = None,
    ) -> None:
        self.ray = import_ray()
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        self.device, self.threads = device, threads
        self.init_kwargs = init_kwargs or {}
        self._started = False
        self.gpus = 0.0

    def start(self) -> None:
        """Connect (or start a local Ray); note the cluster's GPUs. A caller's own ``ray.init`` is reused."""
        ray = self.ray
        if ray.is_initialized():  # a caller (a test, a notebook) already connected: use that cluster
            self.gpus = float(ray.cluster_resources().get("GPU", 0))
            return
        path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)
        kwargs = {
            "address": self.address,
            "runtime_env": {"env_vars": {"PYTHONPATH": path}},
            "include_dashboard": False,
            "log_to_driver": False,
            **self.init_kwargs,
        }
        ray.init(**kwargs)
        self._started = True
        self.gpus = float(ray.cluster_resources().get("GPU", 0))

    def stop(self) -> None:
        if self._started:
            self.ray.shutdown()
            self._started = False

    def describe(self) -> str:
        res = self.ray.cluster_resources()
        where = self.address or "a local Ray"
        unit = "1 GPU per run" if self.gpus else f"{self.threads or 1} CPU(s) per run"
        return f"ray at {where}: {res.get('CPU', 0):g} CPUs, {res.get('GPU', 0):g} GPUs; {unit}"

    def run(self, runs: list[Run]) -> Iterator[Outcome]:
        ray = self.ray
        self.start()
        try:
            options = {"num_gpus": 1, "num_cpus": 1} if self.gpus else {"num_cpus": self.threads or 1}
            device = self.device or ("cuda" if self.gpus else "cpu")
            task = ray.remote(execute_run).options(**options, max_retries=0)
            pending = {task.remote(run.kind, run.config, device, self.threads): run for run in runs}
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    run = pending.pop(ref)
                    try:
                        yield run, ray.get(ref), None
                    except Exception as exc:  # a failed task (RayTaskError), per run
                        yield run, None, exc
        finally:
            self.stop()


def make_executor(kind: str, **kwargs: Any) -> LocalExecutor | RayExecutor:
    if kind == "local":
        kwargs.pop("address", None)
        kwargs.pop("init_kwargs", None)
        return LocalExecutor(**kwargs)
    if kind == "ray":
        return RayExecutor(**kwargs)
    raise ValueError(f"unknown executor {kind!r}; choose local or ray")
