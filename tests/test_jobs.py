import threading
import time

import pytest

from resnet_core.models import build_cifar_net
from resnet_core.serving.jobs import Job, JobState, Viewers
from resnet_core.serving.limiter import JobLimiter
from resnet_core.training.engine import ProgressEvent, TrainConfig, seeded, train


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
        return train(
            model,
            tiny_train,
            TrainConfig(epochs=1000, batch_size=50, log_every=1),
            device=cpu,
            on_progress=job.report,
            should_stop=job.should_stop,
        )

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


def gated(order: list, gate: threading.Event):
    """Work that notes its name when it starts, then holds its slot until ``gate`` opens."""

    def work(name):
        def fn(job):
            order.append(name)
            gate.wait(10)

        return fn

    return work


def test_limiter_runs_one_at_a_time_in_arrival_order():
    limiter = JobLimiter(1)
    gate = threading.Event()
    order = []
    work = gated(order, gate)

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


def test_the_line_is_round_robin_across_sessions():
    limiter = JobLimiter(1)
    gate = threading.Event()
    order = []
    work = gated(order, gate)

    def ask(owner, name):
        job = Job(work(name), limiter=limiter, owner=owner).start()
        assert wait_for(lambda: job.state == JobState.RUNNING or job.queue_position is not None)
        return job

    jobs = [ask("a", "a1"), ask("a", "a2"), ask("b", "b1"), ask("c", "c1"), ask("b", "b2")]
    # a's second run waits behind b's and c's first; b's second behind a's second (it asked earlier)
    assert [j.queue_position for j in jobs] == [None, 3, 1, 2, 4]
    gate.set()
    assert all(j.wait(10) for j in jobs)
    assert order == ["a1", "b1", "c1", "a2", "b2"]


def test_limiter_rejects_zero_slots():
    with pytest.raises(ValueError):
        JobLimiter(0)


def test_a_closed_sessions_jobs_are_cancelled_and_its_queued_job_never_starts():
    """A tab closes: its panel stops calling touch(). With a short heartbeat timeout (30 s in the app), the running
    job stops within one step, the queued one gives up its place without running, and the slot is free."""
    limiter = JobLimiter(1)
    started = []

    def work(name):
        def fn(job):
            started.append(name)
            while not job.should_stop():  # a training loop checks should_stop before every step
                time.sleep(0.01)
            return {"status": "cancelled"}

        return fn

    running = Job(work("running"), limiter=limiter, heartbeat_timeout=0.5, owner="closed-tab").start()
    assert wait_for(lambda: running.state == JobState.RUNNING)
    queued = Job(work("queued"), limiter=limiter, heartbeat_timeout=0.5, owner="closed-tab").start()
    assert wait_for(lambda: queued.queue_position == 1)
    # An open tab's job keeps polling: it must survive and get the slot afterwards.
    alive = Job(work("alive"), limiter=limiter, heartbeat_timeout=0.5, owner="open-tab").start()
    stop_touching = threading.Event()

    def heartbeat():
        while not stop_touching.is_set():
            alive.touch()
            time.sleep(0.05)

    threading.Thread(target=heartbeat, daemon=True).start()
    running.touch(), queued.touch()  # the closed tab's last poll touched both of its jobs; then nothing more
    assert running.wait(60) and queued.wait(60), "the slot must be free within ~60 s"
    assert running.state == JobState.CANCELLED and running.stop_reason == "session-ended"
    assert "no one is watching it any more" in running.error
    assert queued.state == JobState.CANCELLED and "queued" not in started
    assert wait_for(lambda: alive.state == JobState.RUNNING), "the live session's job gets the freed slot"
    alive.stop()
    stop_touching.set()
    assert alive.wait(10) and alive.state == JobState.CANCELLED
    assert limiter.running == 0 and limiter.waiting == 0


def test_time_limit_stops_a_runaway_job_with_its_own_state():
    def forever(job):
        while not job.should_stop():
            time.sleep(0.01)
        return {"status": "cancelled"}

    job = Job(forever, time_limit=0.3).start()
    assert job.wait(30)
    assert job.state == JobState.TIME_LIMIT and "time limit" in job.error


def test_estimated_wait_comes_from_recent_jobs():
    limiter = JobLimiter(1)
    assert limiter.estimated_wait(1) == 0.0  # a free slot: no wait
    gate0 = threading.Event()
    first = Job(lambda j: gate0.wait(10), limiter=limiter).start()
    assert wait_for(lambda: limiter.running == 1)
    assert limiter.estimated_wait(1) is None  # a run of unknown length ahead, and no history yet
    gate0.set()
    first.wait(10)
    Job(lambda j: time.sleep(0.2), limiter=limiter).start().wait(10)
    gate = threading.Event()
    blocker = Job(lambda j: gate.wait(10), limiter=limiter).start()
    assert wait_for(lambda: limiter.running == 1)
    wait = limiter.estimated_wait(2)
    assert wait is not None and wait > 0.1
    gate.set()
    blocker.wait(10)


class Planned:
    def __init__(self, total: float) -> None:
        self.total = total


def test_estimated_wait_adds_up_the_estimates_of_the_runs_ahead():
    """No history needed: the running run's estimate minus its time so far, then each queued run's estimate."""
    limiter = JobLimiter(1)
    gate = threading.Event()
    jobs = [
        Job(lambda j: gate.wait(20), limiter=limiter, estimate=Planned(t), heartbeat_timeout=None)
        for t in (100.0, 30.0, 20.0)
    ]
    jobs[0].start()
    assert wait_for(lambda: limiter.running == 1)
    for job in jobs[1:]:
        job.start()
        assert wait_for(lambda job=job: limiter.position(job.id) is not None)
    assert [limiter.position(j.id) for j in jobs[1:]] == [1, 2]
    assert 95 < limiter.estimated_wait(1) <= 100  # behind the running run's 100 s
    assert 125 < limiter.estimated_wait(2) <= 130  # and the first queued one's 30 s
    gate.set()
    assert all(j.wait(20) for j in jobs)


def test_a_run_without_an_estimate_is_expected_to_take_what_its_pace_says():
    """A run started while the server was still being timed has no estimate: once it reports steps, the queue
    behind it goes by its pace (time so far x total steps / steps done)."""
    limiter = JobLimiter(1)
    gate = threading.Event()

    def quarter_done(job):
        time.sleep(0.3)
        job.report(ProgressEvent("step", 1, 4, 0.25, 1.0, None, 0.0))
        gate.wait(20)

    running = Job(quarter_done, limiter=limiter, heartbeat_timeout=None).start()
    assert wait_for(lambda: running.latest is not None)
    so_far = time.time() - running.started
    wait = limiter.estimated_wait(1)
    assert wait is not None and 2.5 * so_far <= wait <= 3.1 * so_far  # a quarter done: three times as long to go
    gate.set()
    assert running.wait(20)


def test_a_connected_viewer_stays_however_seldom_it_polls_and_a_closed_one_goes_after_the_grace():
    """A background tab's timers are throttled or stopped: while its session is connected it still watches. When
    the session cannot be asked (None), the heartbeats decide."""
    clock = [0.0]
    connected = {"background": True, "closed": False, "unknown": None}
    viewers = Viewers(timeout=5.0, alive=connected.get, grace=2.0)
    original = time.monotonic
    try:
        time.monotonic = lambda: clock[0]
        for viewer in connected:
            viewers.touch(viewer)
        clock[0] = 1.0
        assert sorted(viewers.current()) == ["background", "closed", "unknown"]  # closed: within its grace still
        clock[0] = 3.5
        assert sorted(viewers.current()) == ["background", "unknown"]
        clock[0] = 60.0  # a minute without a heartbeat
        assert viewers.current() == ["background"]
    finally:
        time.monotonic = original
