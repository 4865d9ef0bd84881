"""The app's runs on a Ray cluster (``RESNET_LAB_EXECUTOR=ray``, ``RAY_ADDRESS``): each run a Ray task; every
live run's state on one named, detached actor (the **run board**) that every app replica reads.

- A request claims its key on the board: the first claim submits the task (one GPU per run where the cluster has
  GPUs, else one CPU), a later one — from this replica or another — only adds a viewer. So identical requests
  through different replicas are computed once.
- The task reports its progress events and partial results to the board and asks it, at most every 0.2 s,
  whether to stop: the board says so when no viewer has touched the run within the viewer timeout, or the last
  one detached (Stop), or the run passed the time limit — so a stop takes effect within one step.
- A replica's :class:`RayRun` is a proxy of one board entry: it pulls the new events and results when a page
  polls it (at most twice a second), detaches its own viewers whose tabs closed, and when it sees the run finish it
  calls back, so the result goes into the shared store (every replica may write it: the writes are atomic and
  the content the same).
- An app replica that restarts finds its runs still on the board: its tabs reconnect and attach again.

Ray is imported only here, and this module only when the executor is chosen.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from typing import Any

from resnet_core.data.datasets import REPO_ROOT
from resnet_core.serving.jobs import JobState
from resnet_core.serving.run_board import RunBoardState
from resnet_core.training.engine import ProgressEvent

BOARD = "resnet_lab_run_board"
NAMESPACE = "resnet_lab"
POLL = 0.5  # seconds between a proxy's pulls from the board
RAY_MISSING = (
    "RESNET_LAB_EXECUTOR=ray needs Ray, which is not installed here: pip install 'ray==2.60.0' (it is in "
    "requirements-dev.txt); or leave RESNET_LAB_EXECUTOR unset to run in the app's own process."
)


def import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError(RAY_MISSING) from exc
    return ray


def board_actor(ray: Any, viewer_timeout: float | None, time_limit: float | None) -> Any:
    """The cluster's run board: created by the first replica, found by the others (and by a restarted one)."""
    actor = ray.remote(num_cpus=0)(RunBoardState)
    return actor.options(name=BOARD, namespace=NAMESPACE, lifetime="detached", get_if_exists=True).remote(
        viewer_timeout, time_limit
    )


def run_task(
    key: str, kind: str, config: dict, device: str, threads: int | None, lang: str, inputs: dict | None = None
) -> str:
    """One run on a Ray worker, reporting to the board (module-level: Ray ships it by reference). ``inputs``
    (an upload's images, a pair of nets) travel with the task: Ray serialises tensors and modules."""
    import ray
    import torch

    from resnet_core import registry
    from resnet_core.i18n import language
    from resnet_core.registry import jsonable

    board = ray.get_actor(BOARD, namespace=NAMESPACE)
    if not ray.get(board.started.remote(key)):
        return "cancelled"
    if threads:
        torch.set_num_threads(int(threads))
    experiment = registry.get(kind)
    asked = {"at": 0.0, "stop": False}

    def should_stop() -> bool:
        if time.monotonic() - asked["at"] >= 0.2:
            asked["stop"], asked["at"] = ray.get(board.should_stop.remote(key)), time.monotonic()
        return asked["stop"]

    try:
        with language(lang):
            result = experiment.run(
                experiment.config(config),
                device=torch.device(device),
                on_progress=lambda event: board.report.remote(key, [event.to_dict()]),
                should_stop=should_stop,
                on_partial=lambda partial: board.publish.remote(key, experiment.payload(partial)),
                **(inputs or {}),
            )
        payload = experiment.payload(result)
        status = str(payload.get("status", "done"))
        state = (
            "diverged" if status == "diverged" else "cancelled" if status == "cancelled" or should_stop() else "done"
        )
        ray.get(board.finish.remote(key, state, jsonable(payload), None, None))
        return state
    except Exception as exc:
        ray.get(board.finish.remote(key, "failed", None, f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        return "failed"


class RayRun:
    """A replica's view of one run on the board (what a page draws; shaped like a :class:`Job`)."""

    def __init__(self, executor: RayRunExecutor, key: str, kind: str, title: str, estimate: Any, training: bool):
        self.executor, self.key, self.kind, self.title = executor, key, kind, title
        self.id = key[:12]
        self.estimate, self.training = estimate, training
        self.state, self.events, self.partial, self.result = JobState.QUEUED, [], None, None
        self.error = self.error_detail = None
        self.started = self.finished_at = None
        self.queue_position, self.estimated_wait, self.viewer_count = None, None, 0
        self.on_finish: list[Any] = []
        self.on_report: list[Any] = []
        self._partial_version, self._pulled, self._local_viewers = 0, 0.0, set()
        self._lock = threading.Lock()

    def refresh(self, force: bool = False) -> None:
        with self._lock:
            if not force and (time.monotonic() - self._pulled < POLL or self.state.finished):
                return
            self._pulled = time.monotonic()
            self._drop_closed_tabs()
            snap = self.executor.ray.get(
                self.executor.board.snapshot.remote(self.key, len(self.events), self._partial_version)
            )
            if snap is None:
                return
            self._apply(snap)

    def _apply(self, snap: dict) -> None:
        experiment = self.executor.experiment(self.kind)
        self.events += [ProgressEvent(**e) for e in snap["events"]]
        if snap["partial"] is not None:
            self.partial, self._partial_version = experiment.result(snap["partial"]), snap["partial_version"]
        self.started, self.finished_at = snap["started"], snap["finished"]
        self.error, self.error_detail = snap["error"], snap["error_detail"]
        self.queue_position, self.viewer_count = snap["position"], snap["viewers"]
        if snap["result"] is not None and self.result is None:
            self.result = experiment.result(snap["result"])
        state = JobState(snap["state"])
        if state.finished and not self.state.finished:
            self.state = state
            for callback in self.on_finish:
                callback(self)
        else:
            self.state = state

    def _drop_closed_tabs(self) -> None:
        alive = self.executor.alive
        for viewer in list(self._local_viewers):
            if alive is not None and alive(viewer) is False:
                self._local_viewers.discard(viewer)
                self.executor.board.detach.remote(self.key, viewer)

    def keep_alive(self) -> None:
        """Touch the board for this replica's viewers that are still connected however seldom their tabs poll
        (a background tab), detach the closed ones, and pull the run's state (so a finished run is stored even
        when every tab watching it is asleep)."""
        alive = self.executor.alive
        if alive is not None:
            for viewer in list(self._local_viewers):
                if alive(viewer):
                    self.executor.board.touch.remote(self.key, viewer)
        self.refresh(force=True)

    # ------------------------------------------------------------------------------------ like a Job
    def snapshot(self) -> tuple[JobState, list, Any]:
        self.refresh()
        return self.state, list(self.events), self.partial

    @property
    def latest(self) -> ProgressEvent | None:
        self.refresh()
        return self.events[-1] if self.events else None

    @property
    def active(self) -> bool:
        self.refresh()
        return not self.state.finished

    @property
    def elapsed(self) -> float:
        return 0.0 if self.started is None else (self.finished_at or time.time()) - self.started

    def touch(self, viewer: str | None = None) -> None:
        if viewer is not None:
            self._local_viewers.add(viewer)
            self.executor.board.touch.remote(self.key, viewer)
        self.refresh()

    def stop(self, reason: str = "request") -> None:
        self.executor.ray.get(self.executor.board.stop.remote(self.key))
        self.refresh(force=True)

    def detach(self, viewer: str | None = None) -> int:
        self._local_viewers.discard(viewer)
        left = self.executor.ray.get(self.executor.board.detach.remote(self.key, viewer))
        self.refresh(force=True)
        return left

    def wait(self, timeout: float | None = None) -> bool:
        deadline = time.time() + (timeout if timeout is not None else 1e9)
        while time.time() < deadline:
            self.refresh(force=True)
            if self.state.finished:
                return True
            time.sleep(POLL)
        return False


class RayRunExecutor:
    """See the module docstring."""

    name = "ray"

    def __init__(
        self,
        *,
        limiter: Any = None,
        viewer_timeout: float | None = 30.0,
        alive: Any = None,
        time_limit: float | None = None,
        address: str | None = None,
        threads: int | None = 1,
    ) -> None:
        self.ray = import_ray()
        if not self.ray.is_initialized():
            self.ray.init(
                address=address or os.environ.get("RAY_ADDRESS") or None,
                namespace=NAMESPACE,
                runtime_env={"env_vars": {"PYTHONPATH": str(REPO_ROOT)}},
                include_dashboard=False,
                log_to_driver=False,
            )
        self.alive, self.threads = alive, threads
        self.board = board_actor(self.ray, viewer_timeout, time_limit)
        self.gpus = float(self.ray.cluster_resources().get("GPU", 0))
        self._runs: dict[str, RayRun] = {}
        self._lock = threading.Lock()
        every = max(1.0, (viewer_timeout or 30.0) / 3)
        threading.Thread(target=self._keep_alive, args=(every,), name="ray-runs-keep-alive", daemon=True).start()

    def _keep_alive(self, every: float) -> None:
        """While this replica lives, its connected viewers keep their runs on the board (see :meth:`RayRun.keep_alive`);
        when it dies, the board lets its viewers go after the viewer timeout."""
        while True:
            time.sleep(every)
            with self._lock:
                runs = list(self._runs.values())
            for run in runs:
                try:
                    run.keep_alive()
                except Exception:  # a cluster that went away: the pages say so when they poll
                    traceback.print_exc()

    @staticmethod
    def experiment(kind: str) -> Any:
        from resnet_core import registry

        return registry.get(kind)

    def device_for(self, requested: str) -> str:
        """Where a run goes on this cluster: a GPU when it has them, else a CPU (the page's pick is this
        replica's device, not the cluster's)."""
        return "cuda" if self.gpus else "cpu"

    def find(self, request: Any, viewer: str, on_finish: Any) -> RayRun | None:
        """The run of ``request.key`` live on the board (started by any replica, before or after a restart of this
        one), with ``viewer`` attached; None when there is none."""
        if not self.ray.get(self.board.live.remote(request.key)):
            return None
        return self.attach(request, viewer, on_finish)

    def _proxy(self, request: Any, on_finish: Any) -> RayRun:
        with self._lock:
            run = self._runs.get(request.key)
            if run is None or not run.active:
                run = RayRun(self, request.key, request.kind, request.title, request.estimate, request.training)
                run.on_finish.append(lambda finished: self._forget(finished))
                run.on_finish.append(on_finish)
                self._runs[request.key] = run
            return run

    def _forget(self, run: RayRun) -> None:
        with self._lock:
            if self._runs.get(run.key) is run:
                del self._runs[run.key]

    def attach(self, request: Any, viewer: str, on_finish: Any) -> RayRun:
        """A proxy of a run already live on the board (started by any replica), with ``viewer`` attached."""
        run = self._proxy(request, on_finish)
        run.touch(viewer)
        return run

    def submit(self, request: Any, viewer: str, on_finish: Any) -> RayRun:
        from resnet_core.i18n import current_language

        spec = {"kind": request.kind, "title": request.title}
        if self.ray.get(self.board.claim.remote(request.key, spec, viewer)):
            options = {"num_gpus": 1, "num_cpus": 1} if self.gpus else {"num_cpus": self.threads or 1}
            task = self.ray.remote(run_task).options(**options, max_retries=0)
            config, language = request.config_dict, current_language()
            task.remote(request.key, request.kind, config, request.device, self.threads, language, request.inputs)
        return self.attach(request, viewer, on_finish)

    @property
    def running(self) -> int:
        return self.ray.get(self.board.counts.remote())[0]

    @property
    def waiting(self) -> int:
        return self.ray.get(self.board.counts.remote())[1]

    def computations(self) -> int:
        """How many runs the cluster has been given in all (the test of "computed once")."""
        return self.ray.get(self.board.counts.remote())[2]
