"""The app's runs on Ray (RESNET_LAB_EXECUTOR=ray): two app replicas (two run services with executors of their own)
against one local Ray with 2 CPUs, started and shut down here, and one result store.

Identical requests through the two replicas are one computation on the cluster; its progress and result reach
both; the result lands in the shared store once; a run stops when its last viewer, on either replica, lets go.
"""

from __future__ import annotations

import time

import pytest

from resnet_core.data.datasets import REPO_ROOT
from resnet_core.degradation.config import DegradationConfig
from resnet_core.gradients.config import GradientConfig
from resnet_core.serving.jobs import JobState
from resnet_core.serving.runs import RunRequest, RunService
from resnet_core.serving.store import ResultStore

pytestmark = pytest.mark.slow

TINY = GradientConfig(depths=[8, 14], batch_size=16, seeds=[0], jacobian_probes=0)


@pytest.fixture(scope="module")
def ray():
    ray = pytest.importorskip("ray")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        namespace="resnet_lab",
        runtime_env={"env_vars": {"PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1"}},
    )
    yield ray
    ray.shutdown()


@pytest.fixture
def replicas(ray, tmp_path):
    from resnet_core.serving.ray_runs import BOARD, NAMESPACE, RayRunExecutor

    store_dir = tmp_path / "shared-store"
    services = [RunService(ResultStore(store_dir, shipped=False), RayRunExecutor(viewer_timeout=30.0)) for _ in "ab"]
    yield services
    ray.kill(ray.get_actor(BOARD, namespace=NAMESPACE))  # a fresh board for the next test


def test_identical_requests_through_two_replicas_are_computed_once(replicas):
    a, b = replicas
    first = a.request(RunRequest("gradients", TINY, "cpu", title="teacher"), "tab-a")
    second = b.request(RunRequest("gradients", TINY, "cpu", title="student"), "tab-b")
    assert first.origin == "new" and second.origin == "attached" and first.key == second.key
    assert first.view.wait(120) and second.view.wait(120)
    assert first.view.state == second.view.state == JobState.DONE
    assert a.executor.computations() == 1
    ratios = [r.first_last_ratio for r in second.view.result.runs]
    assert ratios == [r.first_last_ratio for r in first.view.result.runs] and len(ratios) == 4
    assert any(e.tag for e in second.view.events)  # the progress reached the other replica too
    stored = b.store.get(first.key)
    assert stored is not None and len(b.store) == 1
    third = b.request(RunRequest("gradients", TINY, "cpu"), "tab-c")
    assert third.origin == "stored" and a.executor.computations() == 1


def test_the_run_stops_when_its_last_viewer_on_either_replica_lets_go(replicas):
    a, b = replicas
    long_run = DegradationConfig(depths=[8], variants=["plain"], epochs=200, train_size=2000)
    run_a = a.request(RunRequest("degradation", long_run, "cpu"), "tab-a").view
    run_b = b.request(RunRequest("degradation", long_run, "cpu"), "tab-b").view
    deadline = time.time() + 120
    while not run_a.events and time.time() < deadline:
        run_a.refresh(force=True)
        time.sleep(0.2)
    assert run_a.events, "the run reports progress"
    assert run_a.detach("tab-a") == 1  # one viewer left, on the other replica: it goes on
    time.sleep(1.0)
    run_b.refresh(force=True)
    assert run_b.state == JobState.RUNNING
    assert run_b.detach("tab-b") == 0
    assert run_b.wait(60) and run_b.state == JobState.CANCELLED
    assert len(a.store) == 0  # a stopped run is no answer
