"""One computation per question: the result store and the run service, on tiny real runs.

Requests for the same (kind, config, device, inputs) share one run while it computes and are answered from the
store once it has finished; a partial, stopped or failed run is never stored, a diverged one is; Stop takes one
viewer away and the run stops with the last; a run a dead server left behind starts again when someone asks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from resnet_core.degradation.config import DegradationConfig
from resnet_core.gradients.config import GradientConfig
from resnet_core.serving.executors import LocalExecutor, make_executor
from resnet_core.serving.jobs import JobState
from resnet_core.serving.runs import RunRequest, RunService, StoredView
from resnet_core.serving.store import ResultStore, request_key

TINY = GradientConfig(depths=[8], batch_size=16, seeds=[0], jacobian_probes=0)


def wait_for(predicate, timeout: float = 60.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def store(tmp_path):
    return ResultStore(tmp_path / "store", shipped=False)


@pytest.fixture
def service(store):
    return RunService(store, LocalExecutor(viewer_timeout=30.0))


def gated(monkeypatch):
    """Runs of the gradients experiment wait at their first progress event until the gate opens."""
    from resnet_core.gradients import EXPERIMENT

    gate, real = threading.Event(), EXPERIMENT.run
    started = []

    def run(config, *, on_progress=None, **kw):
        started.append(config)

        def progress(event):
            gate.wait(30)
            if on_progress is not None:
                on_progress(event)

        return real(config, on_progress=progress, **kw)

    object.__setattr__(EXPERIMENT, "run", run)  # a frozen dataclass: restored by the returned function
    return gate, started, lambda: object.__setattr__(EXPERIMENT, "run", real)


def test_the_same_question_twice_is_one_computation_then_a_stored_answer(service, store, monkeypatch):
    gate, started, restore = gated(monkeypatch)
    try:
        first = service.request(RunRequest("gradients", TINY, "cpu", title="a"), "tab-1")
        second = service.request(RunRequest("gradients", TINY.to_dict(), "cpu", title="b"), "tab-2")
        assert first.origin == "new" and second.origin == "attached" and second.view is first.view
        assert sorted(first.view.viewers.current()) == ["tab-1", "tab-2"]
        gate.set()
        assert first.view.wait(60) and first.view.state == JobState.DONE
    finally:
        restore()
    assert len(started) == 1  # computed once
    third = service.request(RunRequest("gradients", TINY, "cpu"), "tab-3")
    assert third.origin == "stored" and isinstance(third.view, StoredView)
    assert third.view.result.runs[0].first_last_ratio == first.view.result.runs[0].first_last_ratio
    assert len(store) == 1
    again = service.request(RunRequest("gradients", TINY, "cpu"), "tab-3", again=True)
    assert again.origin == "new" and again.view.wait(60) and again.view.state == JobState.DONE


def test_other_settings_seed_or_device_are_other_questions():
    base = request_key("gradients", TINY, device="cpu")
    assert request_key("gradients", GradientConfig(**{**TINY.to_dict(), "seeds": [1]}), device="cpu") != base
    assert request_key("gradients", TINY, device="cuda:0") != base
    assert request_key("gradients", TINY, device="cpu", inputs={"upload": "abc"}) != base
    assert request_key("gradients", TINY.to_dict(), device="cpu") == base  # a dict and the config object agree


def test_stop_detaches_one_viewer_and_the_run_stops_with_the_last(service, store, monkeypatch):
    gate, _started, restore = gated(monkeypatch)
    try:
        run = service.request(RunRequest("gradients", TINY, "cpu"), "tab-1").view
        service.request(RunRequest("gradients", TINY, "cpu"), "tab-2")
        assert run.detach("tab-1") == 1 and not run.should_stop()
        assert run.detach("tab-2") == 0 and run.should_stop()
        gate.set()
        assert run.wait(60) and run.state == JobState.CANCELLED
    finally:
        restore()
    assert len(store) == 0  # a stopped run is not an answer
    assert store.running_marker(run.key) is None


def test_a_diverged_run_is_stored_as_an_answer_and_a_failed_one_is_not(service, store):
    diverging = DegradationConfig(depths=[8], variants=["plain"], train_size=100, test_size=100, epochs=1, lr=1e6)
    handle = service.request(RunRequest("degradation", diverging, "cpu"), "tab")
    assert handle.view.wait(120) and handle.view.state == JobState.DIVERGED
    assert store.get(handle.key).status == "diverged"
    broken = GradientConfig(depths=[8], variants=["plain"], dataset="no-such-data", seeds=[0])
    failed = service.request(RunRequest("gradients", broken, "cpu"), "tab")
    assert failed.view.wait(60) and failed.view.state == JobState.FAILED
    assert store.get(failed.key) is None


def test_a_closed_tab_is_gone_as_soon_as_its_session_is(store):
    sessions = {"tab-1": True}
    executor = LocalExecutor(viewer_timeout=600.0, alive=lambda viewer: sessions.get(viewer, False))
    service = RunService(store, executor)
    run = service.request(RunRequest("degradation", DegradationConfig(depths=[8], epochs=50), "cpu"), "tab-1").view
    assert wait_for(lambda: run.state == JobState.RUNNING)
    run.viewers.grace = 0.2
    sessions["tab-1"] = False  # the tab closed: no ten-minute heartbeat wait
    assert run.wait(60) and run.state == JobState.CANCELLED and "no one is watching" in run.error


def test_a_run_a_dead_server_left_behind_starts_again_when_asked(service, store):
    request = RunRequest("gradients", TINY, "cpu", title="left behind")
    dead = {"server": "elsewhere:1:1", "host": os.uname().nodename, "pid": 2**22 + 17, "started": time.time() - 60}
    store.mark_running(request.key, {**dead, "kind": "gradients", "inputs": {}})
    assert service.interrupted(request.key)["started"] == dead["started"]
    handle = service.lookup(request, "tab")
    assert handle.origin == "restarted" and handle.interrupted["server"] == "elsewhere:1:1"
    assert handle.view.wait(60) and handle.view.state == JobState.DONE
    assert store.running_marker(request.key) is None and store.get(request.key) is not None


def test_lookup_starts_nothing_new(service, store):
    assert service.lookup(RunRequest("gradients", TINY, "cpu"), "tab") is None
    assert len(store) == 0 and not store.markers()


def test_the_store_is_bounded_and_evicts_the_least_recently_used(tmp_path):
    store = ResultStore(tmp_path, max_bytes=3000, shipped=False)
    payload = {"status": "done", "blob": "x" * 600}
    for i in range(3):
        store.put(f"{i:064x}", "gradients", {}, device="cpu", payload=payload, seconds=1.0)
        os.utime(store.path(f"{i:064x}"), (1000 + i, 1000 + i))
    store.get(f"{0:064x}")  # used: now the most recent
    store.put(f"{3:064x}", "gradients", {}, device="cpu", payload=payload, seconds=1.0)
    kept = {p.stem for p in tmp_path.glob("??/*.json")}
    assert f"{0:064x}" in kept and f"{1:064x}" not in kept and f"{3:064x}" in kept
    assert store.put("f" * 64, "gradients", {}, device="cpu", payload={"status": "cancelled"}, seconds=1) is None
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_writer_killed_mid_write_leaves_the_last_whole_result(tmp_path):
    key = "ab" * 32
    store = ResultStore(tmp_path, shipped=False)
    store.put(key, "gradients", {}, device="cpu", payload={"status": "done", "version": 1}, seconds=1.0)
    # Another process rewrites the entry; it is SIGKILLed with half of the new file written.
    code = f"""
import pathlib, time
from resnet_core.serving.store import ResultStore

def half_then_hang(self, text, *args, **kwargs):
    with open(self, "w") as f:
        f.write(text[: len(text) // 2])
    print("half written", flush=True)
    time.sleep(60)

pathlib.Path.write_text = half_then_hang
payload = {{"status": "done", "version": 2, "filler": "x" * 100_000}}
ResultStore({str(tmp_path)!r}, shipped=False).put({key!r}, "gradients", {{}}, device="cpu", payload=payload, seconds=2.0)
"""
    repo = Path(__file__).resolve().parent.parent
    writer = subprocess.Popen([sys.executable, "-c", code], cwd=repo, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "half written"
    finally:
        writer.kill()
        writer.wait(30)
    torn = list(tmp_path.glob("??/*.tmp"))
    assert torn, "the torn write is a temp file"
    stored = store.get(key)
    assert stored is not None and stored.payload == {"status": "done", "version": 1}
    assert len(store) == 1
    store.evict()
    assert all(t.exists() for t in torn)  # it could still be a live writer's
    os.utime(torn[0], (time.time() - 7200, time.time() - 7200))
    store.evict()
    assert not torn[0].exists()  # an hour old: a killed writer's, removed


def test_a_shipped_result_answers_a_request_for_exactly_its_settings(tmp_path):
    from resnet_core.library.entries import catalog
    from resnet_core.library.store import Library

    entry = catalog()["ablation20_raw"]
    store = ResultStore(tmp_path)
    found = store.get(request_key("ablation", entry.config, device="cpu"))
    assert found is not None and found.source == "shipped"
    assert found.payload == json.loads(Library().path("ablation20_raw").read_text())
    other = {**entry.config, "test_size": 100}
    assert store.get(request_key("ablation", other, device="cpu")) is None


def test_an_unknown_executor_is_refused():
    assert make_executor("local").name == "local"
    with pytest.raises(ValueError, match="local or ray"):
        make_executor("threads")


# ------------------------------------------------------------------------------------------- progress in words
def event(step, total, *, tag="", epoch=0.0, kind="step", **metrics):
    from resnet_core.training.engine import ProgressEvent

    return ProgressEvent(kind, step, total, epoch, 0.5, 0.5, 1.0, metrics=metrics, tag=tag)


def test_every_experiment_says_where_a_run_is_in_words_in_both_languages():
    from resnet_core import registry
    from resnet_core.i18n import language

    cases = {
        "gradients": event(3, 24, depth=56, residual=True, seed=1),
        "degradation": event(150, 800, epoch=1.5, depth=20, residual=False, seed=0, run=2, runs=4, epochs=4),
        "ablation": event(12, 120, tag="residual", lesion="delete", n=3),
        "transfer": event(5, 60, tag="full_finetune/k=20/seed=0", kind="epoch", epoch=3, epochs=12),
    }
    english = {kind: registry.get(kind).progress(ev) for kind, ev in cases.items()}
    assert english == {
        "gradients": "residual-56, seed 1 measured: 3 of 24 networks",
        "degradation": "plain-20, seed 0: epoch 2 of 4 (network 2 of 4)",
        "ablation": "the residual net without block 3: evaluation 12 of 120",
        "transfer": "Full fine-tune, seed 0: epoch 3 of 12",
    }
    with language("ko"):
        korean = {kind: registry.get(kind).progress(ev) for kind, ev in cases.items()}
    for kind, text in korean.items():
        assert text != english[kind] and not any(w in text for w in ("seed", "epoch", "of", "network")), text


def test_the_bar_fills_by_work_done_and_the_time_left_comes_from_the_runs_pace(monkeypatch):
    from lab_pages import run_panel

    class Running:
        title, kind, training, estimate = "Run", "gradients", False, None
        elapsed = 10.0

    frac, text = run_panel.running_progress(Running(), event(5, 20, depth=8, residual=False, seed=0))
    assert frac == 0.25  # 5 of 20 steps, whatever the clock says
    assert "30 s left at this run's pace" in text  # 10 s for 5 steps: 15 more steps take 30 s
