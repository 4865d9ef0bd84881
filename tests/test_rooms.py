"""The rules of a room (resnet_core.serving.rooms), one test per rule: codes, the teacher key, one vote per voter
counted once (also from many threads and processes at once), votes changeable until voting closes, expiry, the
lesson and the CSV export."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from resnet_core.serving.lesson import LESSON, lesson_keys, talking_points, time_plan
from resnet_core.serving.rooms import ALPHABET, CODE_LENGTH, IDLE_EXPIRY, RoomError, RoomStore, join_path, normal_code

REPO = Path(__file__).resolve().parent.parent


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def rooms(tmp_path, clock):
    return RoomStore(tmp_path / "rooms", clock=clock)


@pytest.fixture
def room(rooms):
    room, key = rooms.create(lesson_keys())
    rooms.act(room.code, key, "open_voting", options=["less", "same", "more"])
    return room.code, key


def test_codes_are_short_unambiguous_and_hard_to_guess(rooms):
    codes = {rooms.create(["identity"])[0].code for _ in range(50)}
    assert len(codes) == 50
    assert all(len(c) == CODE_LENGTH and set(c) <= set(ALPHABET) for c in codes)
    assert not set("0O1IL") & set(ALPHABET)
    assert len(ALPHABET) ** CODE_LENGTH > 5e8
    assert normal_code(" k7pq-2m ") == "K7PQ2M"
    for bad in ("", "K7PQ2", "K7PQ2MX", "../etc", "K7PQ0M"):
        with pytest.raises(RoomError) as err:
            normal_code(bad)
        assert err.value.reason == "bad-code"


def test_the_teacher_key_is_not_in_the_shared_link_nor_in_the_room_file(rooms):
    room, key = rooms.create(lesson_keys())
    assert key not in join_path(room.code) and join_path(room.code) == f"/room?room={room.code}"
    text = (rooms.root / f"{room.code}.json").read_text()
    assert key not in text and len(key) == 10
    assert rooms.is_teacher(room.code, key) and not rooms.is_teacher(room.code, key.lower() + "x")


def test_only_the_teacher_key_can_advance_or_reveal(room, rooms):
    code, key = room
    for bad in (None, "", "WRONGKEY00", key[:-1]):
        for action, kw in (("reveal", {}), ("go", {"position": 3}), ("close_voting", {}), ("show_split", {})):
            with pytest.raises(RoomError) as err:
                rooms.act(code, bad, action, **kw)
            assert err.value.reason == "not-teacher"
    assert rooms.get(code).phase == "voting" and rooms.get(code).position == 0
    assert rooms.act(code, key, "reveal").phase == "revealed"


def test_one_vote_per_voter_changeable_until_voting_closes(room, rooms):
    code, key = room
    rooms.vote(code, "phone-a", "less")
    rooms.vote(code, "phone-a", "more")  # changed her mind
    rooms.vote(code, "phone-a", "more")  # sent twice (a double tap): still one vote
    rooms.vote(code, "phone-b", "less")
    assert rooms.get(code).tally() == {"more": 1, "less": 1} and rooms.get(code).cast() == 2
    with pytest.raises(RoomError, match="not-an-option"):
        rooms.vote(code, "phone-c", "reveal")
    rooms.act(code, key, "close_voting")
    with pytest.raises(RoomError) as err:
        rooms.vote(code, "phone-a", "less")
    assert err.value.reason == "voting-closed"
    assert rooms.get(code).tally() == {"more": 1, "less": 1}


def test_a_second_round_counts_apart_from_the_first(room, rooms):
    code, key = room
    rooms.vote(code, "a", "less")
    rooms.vote(code, "b", "more")
    rooms.act(code, key, "close_voting")
    rooms.act(code, key, "second_round", options=["less", "same", "more"])
    rooms.vote(code, "b", "less")
    now = rooms.get(code)
    assert now.round == 2 and now.tally(round=1) == {"less": 1, "more": 1} and now.tally() == {"less": 1}


def _vote_many(root: str, code: str, start: int, n: int) -> None:
    store = RoomStore(root)
    for i in range(start, start + n):
        store.vote(code, f"voter-{i}", ("less", "same", "more")[i % 3])


def test_votes_at_once_from_threads_and_processes_are_each_counted_once(tmp_path):
    rooms = RoomStore(tmp_path / "rooms")
    room, key = rooms.create(lesson_keys())
    rooms.act(room.code, key, "open_voting", options=["less", "same", "more"])
    threads = [threading.Thread(target=_vote_many, args=(str(rooms.root), room.code, 10 * t, 10)) for t in range(3)]
    # As two app replicas: other processes on the same folder (started fresh, not forked from this test run).
    script = "import sys; from tests.test_rooms import _vote_many; _vote_many(sys.argv[1], sys.argv[2], int(sys.argv[3]), 10)"
    args = [[sys.executable, "-c", script, str(rooms.root), room.code, str(100 + 10 * t)] for t in range(2)]
    procs = [subprocess.Popen(a, cwd=REPO) for a in args]
    for w in threads:
        w.start()
    for w in threads:
        w.join(120)
    assert [p.wait(120) for p in procs] == [0, 0]
    assert rooms.get(room.code).cast() == 50


def test_rooms_expire_after_four_idle_hours_and_an_unknown_code_says_so(rooms, clock, room):
    code, key = room
    clock.now += IDLE_EXPIRY - 60
    rooms.vote(code, "late", "less")  # activity keeps the room open
    clock.now += IDLE_EXPIRY - 60
    assert rooms.get(code).cast() == 1
    clock.now += 120
    with pytest.raises(RoomError) as err:
        rooms.get(code)
    assert err.value.reason == "expired"
    with pytest.raises(RoomError) as err:
        rooms.vote(code, "later", "less")
    assert err.value.reason == "expired"
    with pytest.raises(RoomError) as err:
        rooms.get("ZZZZZZ")
    assert err.value.reason == "unknown"
    clock.now += 25 * 3600
    rooms.create(["identity"])  # opening a room clears those that ended a day ago
    assert not (rooms.root / f"{code}.json").exists()


def test_the_csv_has_counts_per_option_and_no_voter(room, rooms):
    code, key = room
    for voter, option in (("a", "less"), ("b", "less"), ("c", "more")):
        rooms.vote(code, voter, option)
    text = rooms.csv(code, key)
    assert text.splitlines() == [
        "room,position,question,round,option,votes",
        f"{code},1,identity,1,less,2",
        f"{code},1,identity,1,more,1",
    ]
    assert "a," not in text.split("\n", 1)[1]
    with pytest.raises(RoomError):
        rooms.csv(code, "not-the-key")


def test_going_back_and_on_keeps_each_questions_votes(room, rooms):
    code, key = room
    rooms.vote(code, "a", "less")
    rooms.act(code, key, "go", position=1)
    assert rooms.get(code).question == "gradients" and rooms.get(code).phase == "question"
    rooms.act(code, key, "go", position=99)
    assert rooms.get(code).position == len(LESSON) - 1
    rooms.act(code, key, "go", position=0)
    assert rooms.get(code).tally("identity", 1) == {"less": 1}
    assert json.loads((rooms.root / f"{code}.json").read_text())["votes"]["identity"]["1"] == {"a": "less"}


def test_the_lesson_follows_the_pages_and_plans_its_time():
    assert [item.page for item in LESSON] == [
        "home",
        "gradient_flow",
        "gradient_flow",
        "block_ablation",
        "architectures",
        "layers",
        "transfer_learning",
    ]
    plan = time_plan(lambda kind, config: {"gradients": 20.0, "ablation": 10.0, "transfer": 40.0}[kind])
    assert 45 <= plan[-1]["end_min"] <= 60
    assert [r["run_seconds"] for r in plan] == [None, 20.0, None, 10.0, None, None, 40.0]
    assert all(a["end_min"] == b["start_min"] for a, b in zip(plan, plan[1:]))
    points = talking_points(LESSON[0], "Measured just now: 2e-24 in the plain stack.", "8 images")
    assert points[0].startswith("Between the votes, ask:") and "2e-24" in points[1]
