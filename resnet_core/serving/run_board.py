"""The run board's logic: every live run of a Ray cluster, by result key — its viewers, events, partial and final
results, and whether it must stop. Plain Python: :func:`resnet_core.serving.ray_runs.board_actor` makes it a named,
detached Ray actor every app replica reads; tests can drive it without Ray.
"""

from __future__ import annotations

import time

FORGET_AFTER = 120.0  # seconds a finished run stays on the board (late viewers find it in the store after that)


class RunBoardState:
    """The board's logic (wrapped as a Ray actor by :func:`board_actor`): key -> the run's shared state."""

    def __init__(self, viewer_timeout: float | None, time_limit: float | None) -> None:
        self.viewer_timeout, self.time_limit = viewer_timeout, time_limit
        self.runs: dict[str, dict] = {}
        self.claims = 0  # tasks submitted in all: how many computations the cluster ran

    def _forget_old(self) -> None:
        now = time.time()
        for key, run in list(self.runs.items()):
            if run["finished"] and now - run["finished"] > FORGET_AFTER:
                del self.runs[key]

    def claim(self, key: str, spec: dict, viewer: str) -> bool:
        """True when the caller must submit the task (nothing live under ``key``); else ``viewer`` is attached."""
        self._forget_old()
        run = self.runs.get(key)
        if run is not None and run["state"] in ("queued", "running"):
            run["viewers"][viewer] = time.time()
            return False
        self.runs[key] = {
            "spec": spec,
            "state": "queued",
            "viewers": {viewer: time.time()},
            "events": [],
            "partial": None,
            "partial_version": 0,
            "result": None,
            "error": None,
            "error_detail": None,
            "created": time.time(),
            "started": None,
            "finished": None,
            "stop": None,
        }
        self.claims += 1
        return True

    def touch(self, key: str, viewer: str) -> None:
        run = self.runs.get(key)
        if run is not None and run["state"] in ("queued", "running"):
            run["viewers"][viewer] = time.time()

    def detach(self, key: str, viewer: str) -> int:
        run = self.runs.get(key)
        if run is None:
            return 0
        run["viewers"].pop(viewer, None)
        left = len(self._viewers(run))
        if left == 0 and run["state"] in ("queued", "running"):
            run["stop"] = run["stop"] or "request"
        return left

    def _viewers(self, run: dict) -> list[str]:
        if self.viewer_timeout is None:
            return list(run["viewers"])
        now = time.time()
        return [v for v, seen in run["viewers"].items() if now - seen <= self.viewer_timeout]

    def should_stop(self, key: str) -> bool:
        run = self.runs.get(key)
        if run is None:
            return True
        if run["stop"] is None and not self._viewers(run):
            run["stop"] = "session-ended"
        limit = self.time_limit
        if run["stop"] is None and limit and run["started"] and time.time() - run["started"] > limit:
            run["stop"] = "time-limit"
        return run["stop"] is not None

    def stop(self, key: str) -> None:
        """Stop the run for everyone (a teacher's "Stop the live run")."""
        run = self.runs.get(key)
        if run is not None and run["state"] in ("queued", "running"):
            run["stop"] = run["stop"] or "request"

    def started(self, key: str) -> bool:
        """The task begins; False when the run was stopped while it waited (it then never starts)."""
        run = self.runs.get(key)
        if run is None or self.should_stop(key):
            if run is not None:
                run.update(state="cancelled", finished=time.time())
            return False
        run.update(state="running", started=time.time())
        return True

    def report(self, key: str, events: list[dict]) -> None:
        if key in self.runs:
            self.runs[key]["events"] += events

    def publish(self, key: str, payload: dict) -> None:
        run = self.runs.get(key)
        if run is not None:
            run["partial"], run["partial_version"] = payload, run["partial_version"] + 1

    def finish(self, key: str, state: str, payload: dict | None, error: str | None, detail: str | None) -> None:
        run = self.runs.get(key)
        if run is None:
            return
        if state == "cancelled" and run["stop"] == "time-limit":
            state = "time-limit"
        run.update(state=state, result=payload, error=error, error_detail=detail, finished=time.time())

    def snapshot(self, key: str, since: int, partial_version: int) -> dict | None:
        run = self.runs.get(key)
        if run is None:
            return None
        out = {k: run[k] for k in ("state", "error", "error_detail", "created", "started", "finished", "stop")}
        out["events"] = run["events"][since:]
        out["viewers"] = len(self._viewers(run))
        out["partial_version"] = run["partial_version"]
        out["partial"] = run["partial"] if run["partial_version"] != partial_version else None
        out["result"] = run["result"]
        queued = sorted((r["created"], k) for k, r in self.runs.items() if r["state"] == "queued")
        out["position"] = next((i + 1 for i, (_, k) in enumerate(queued) if k == key), None)
        return out

    def live(self, key: str) -> bool:
        run = self.runs.get(key)
        return run is not None and run["state"] in ("queued", "running")

    def counts(self) -> tuple[int, int, int]:
        """(running, waiting, tasks claimed in all)."""
        states = [r["state"] for r in self.runs.values()]
        return states.count("running"), states.count("queued"), self.claims
