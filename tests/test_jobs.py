import threading
import time

import pytest

from resnet_core.engine import TrainConfig, seeded, train
from resnet_core.jobs import Job, JobLimiter, JobState
from resnet_core.models import build_cifar_net


def wait_for(predicate, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_job_runs_and_keeps_result():
    job = Job(lambda j: 42, title="answer").start()
    assert job.wait(10)
    assert job.state == JobState.DONE and job.result == 42


def test_failure_is_captured_not_raised():
    def boom(job):
        raise RuntimeError("corrupt input")

    job = Job(boom).start()
    job.wait(10)
    assert job.state == JobState.FAILED
    assert "corrupt input" in job.error and "RuntimeError" in job.error_detail


def test_stop_cancels_a_training_job_and_keeps_partial_history(tiny_train, cpu):
    def work(job):
        model = seeded(lambda: build_cifar_net(8), 0)
        return train(model, tiny_train, TrainConfig(epochs=1000, batch_size=50, log_every=1), device=cpu,
                     on_progress=job.report, should_stop=job.should_stop)

    job = Job(work).start()
    assert wait_for(lambda: len(job.events) >= 2)
    job.stop()
    assert job.wait(30)
    assert job.state == JobState.CANCELLED
    assert job.result.status == "cancelled" and job.result.steps >= 2


def test_divergence_sets_the_diverged_state(tiny_train, cpu):
    def work(job):
        model = seeded(lambda: build_cifar_net(8), 0)
        return train(model, tiny_train, TrainConfig(epochs=3, batch_size=50, lr=1e6, augment=False), device=cpu)

    job = Job(work).start()
    job.wait(60)
    assert job.state == JobState.DIVERGED and "diverged at step" in job.error


def test_limiter_runs_one_at_a_time_in_arrival_order():
    limiter = JobLimiter(1)
    gate = threading.Event()
    order = []

    def work(name):
        def fn(job):
            order.append(name)
            gate.wait(10)
        return fn

    jobs = [Job(work(i), limiter=limiter).start() for i in range(3)]
    assert wait_for(lambda: limiter.running == 1 and limiter.waiting == 2)
    assert [j.state for j in jobs] == [JobState.RUNNING, JobState.QUEUED, JobState.QUEUED]
    assert [j.queue_position for j in jobs] == [None, 1, 2]
    jobs[2].stop()  # a queued job can be cancelled without ever running
    assert wait_for(lambda: jobs[2].state == JobState.CANCELLED)
    gate.set()
    assert all(j.wait(10) for j in jobs)
    assert order == [0, 1]
    assert limiter.running == 0 and limiter.waiting == 0


def test_limiter_rejects_zero_slots():
    with pytest.raises(ValueError):
        JobLimiter(0)
