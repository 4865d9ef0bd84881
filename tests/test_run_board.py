"""The Ray run board's rules, without Ray: identical claims make one computation, the last viewer leaving stops
it, a viewer who stops touching is gone after the timeout, and the time limit says so."""

from __future__ import annotations

from resnet_core.serving import run_board
from resnet_core.serving.run_board import RunBoardState


def test_a_second_claim_of_a_live_key_attaches_a_viewer_instead_of_a_second_task():
    board = RunBoardState(viewer_timeout=None, time_limit=None)
    assert board.claim("k", {}, "a") is True
    assert board.claim("k", {}, "b") is False
    assert board.counts() == (0, 1, 1)
    assert board.snapshot("k", 0, 0)["viewers"] == 2
    assert board.started("k") and board.counts() == (1, 0, 1)


def test_the_run_stops_when_its_last_viewer_detaches_and_not_before():
    board = RunBoardState(viewer_timeout=None, time_limit=None)
    board.claim("k", {}, "a")
    board.claim("k", {}, "b")
    board.started("k")
    assert board.detach("k", "a") == 1 and not board.should_stop("k")
    assert board.detach("k", "b") == 0 and board.should_stop("k")
    board.finish("k", "cancelled", None, None, None)
    assert board.claim("k", {}, "c") is True  # a stopped run is not attached to: it is asked for again


def test_a_viewer_who_stops_touching_is_gone_after_the_timeout(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(run_board.time, "time", lambda: now[0])
    board = RunBoardState(viewer_timeout=30.0, time_limit=None)
    board.claim("k", {}, "a")
    board.started("k")
    now[0] += 20
    board.touch("k", "a")
    now[0] += 20
    assert not board.should_stop("k")
    now[0] += 31
    assert board.should_stop("k") and board.snapshot("k", 0, 0)["stop"] == "session-ended"


def test_the_time_limit_stops_a_watched_run_and_is_named(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(run_board.time, "time", lambda: now[0])
    board = RunBoardState(viewer_timeout=None, time_limit=60.0)
    board.claim("k", {}, "a")
    board.started("k")
    now[0] += 61
    assert board.should_stop("k")
    board.finish("k", "cancelled", None, None, None)
    assert board.snapshot("k", 0, 0)["state"] == "time-limit"


def test_a_run_stopped_while_it_waited_never_starts_and_finished_runs_are_forgotten(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(run_board.time, "time", lambda: now[0])
    board = RunBoardState(viewer_timeout=None, time_limit=None)
    board.claim("k", {}, "a")
    board.stop("k")
    assert board.started("k") is False and board.snapshot("k", 0, 0)["state"] == "cancelled"
    now[0] += run_board.FORGET_AFTER + 1
    board.claim("other", {}, "b")
    assert board.snapshot("k", 0, 0) is None
