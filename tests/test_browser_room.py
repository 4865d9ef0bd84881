"""Class mode in real browsers: a teacher and ten students on phones (390 px) join a room by its code; every vote
reaches the teacher's count and the reveal reaches every student without anyone reloading; a student can neither
reveal nor advance (nor by crafting the URL); an ended and an unknown code each get a clear message; no exception
box anywhere. Then the same with six students split over two app replicas sharing one store folder.

The latencies (vote -> teacher's count, reveal -> every phone) are measured and printed (``pytest -s``), not
asserted: the project times things in benchmarks, never as limits in tests. The waits below only bound a hang.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.browser import AppServer, no_exception, wait_idle

pytestmark = pytest.mark.browser

STUDENTS = 10
REPLICA_STUDENTS = 6  # three on each replica: what matters there is the crossing, not the head count
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
OPTIONS = ("Far less (it vanishes)", "About the same (within 10×)", "Far more (it explodes)")


def teacher_opens_a_room(browser, url: str):
    teacher = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    teacher.set_default_timeout(120_000)
    teacher.goto(url + "/room")
    teacher.get_by_role("button", name="Open a room for this class").click()
    teacher.wait_for_url(re.compile(r"room=[A-Z0-9]{6}"))
    wait_idle(teacher)
    code = re.search(r"room=([A-Z0-9]{6})", teacher.url).group(1)
    return teacher, code


def student_joins(browser, url: str, code: str):
    page = browser.new_context(**PHONE).new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{url}/room?room={code}")
    page.get_by_text(f"Room {code}", exact=False).first.wait_for()
    return page


def votes_cast(teacher) -> int:
    text = teacher.get_by_test_id("stMetricValue").first.inner_text()
    return int(text.strip())


def wait_until(predicate, timeout: float = 60.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError("not within the time limit")


def run_a_class(browser, teacher_url: str, student_urls: list[str], count: int = STUDENTS) -> dict:
    teacher, code = teacher_opens_a_room(browser, teacher_url)
    students = [student_joins(browser, student_urls[i % len(student_urls)], code) for i in range(count)]
    teacher.get_by_role("button", name="Open voting").click()
    for s in students:
        s.get_by_role("button", name=OPTIONS[0], exact=True).wait_for()
    vote_latency = []
    for i, s in enumerate(students):
        s.get_by_role("button", name=OPTIONS[i % 3], exact=True).click()
        vote_latency.append(wait_until(lambda n=i + 1: votes_cast(teacher) == n))
    students[0].get_by_role("button", name=OPTIONS[1], exact=True).click()  # a change of mind: still one vote each
    students[0].get_by_text(f"Your vote: {OPTIONS[1]}").wait_for()
    time.sleep(1.5)
    assert votes_cast(teacher) == count
    teacher.get_by_role("button", name="Reveal the measurement").click()
    start = time.monotonic()
    reveal_latency = []
    for s in students:
        s.get_by_text("Measured:", exact=False).first.wait_for()
        reveal_latency.append(time.monotonic() - start)
    for s in students:
        for name in ("Open voting", "Reveal the measurement", "Next question", "Skip", "Back"):
            assert s.get_by_role("button", name=name).count() == 0
        no_exception(s)
    no_exception(teacher)
    return {"code": code, "teacher": teacher, "students": students, "vote": vote_latency, "reveal": reveal_latency}


def report(what: str, seconds: list[float]) -> None:
    ordered = sorted(seconds)
    print(f"\n{what}: median {ordered[len(ordered) // 2]:.2f} s, max {ordered[-1]:.2f} s over {len(ordered)}")


def test_a_teacher_and_ten_phones_vote_and_see_the_reveal(browser, tmp_path):
    store = tmp_path / "store"
    with AppServer({"RESNET_LAB_RESULTS_DIR": str(store)}) as app:
        result = run_a_class(browser, app.url, [app.url])
        report("vote -> teacher's count", result["vote"])
        report("reveal -> every phone", result["reveal"])
        code, teacher = result["code"], result["teacher"]
        # A student crafting the URL: a teacher's words in the query string change nothing.
        crafted = browser.new_context(**PHONE).new_page()
        crafted.goto(f"{app.url}/room?room={code}&present=1&key=AAAAAAAAAA&teacher=1&action=next&position=3")
        crafted.get_by_text(f"Room {code} · question 1 of 7").first.wait_for()
        assert crafted.get_by_role("button", name="Next question").count() == 0
        room = json.loads((store / "rooms" / f"{code}.json").read_text())
        assert room["position"] == 0 and room["phase"] == "revealed"  # the crafted visit changed nothing
        # The teacher reloads: the key was in that session only, so this browser is a student now...
        teacher.get_by_text("Votes (CSV, anonymous) and the teacher key").click()
        key = re.search(r"Teacher key: ([A-Z0-9]{10})", teacher.get_by_text("Teacher key:").first.inner_text()).group(1)
        teacher.reload()
        teacher.get_by_text(f"Room {code} · question 1 of 7").first.wait_for()
        assert teacher.get_by_role("button", name="Open voting").count() == 0
        # ...until it takes the room over with the teacher key (never in a link).
        teacher.goto(f"{app.url}/room")
        teacher.get_by_text("Take over a room as its teacher").click()
        teacher.get_by_label("Room code").fill(code.lower())
        teacher.get_by_label("Teacher key").fill(key)
        teacher.get_by_role("button", name="Take over").click()
        teacher.get_by_role("button", name="Next question").wait_for()
        teacher.get_by_role("button", name="Next question").click()
        result["students"][1].get_by_text(f"Room {code} · question 2 of 7").first.wait_for()
        # An ended room and a code never opened: a message each, no exception.
        ended = {**room, "code": "ENDED2", "updated": time.time() - 5 * 3600}
        (store / "rooms" / "ENDED2.json").write_text(json.dumps(ended))
        page = browser.new_context(**PHONE).new_page()
        page.goto(f"{app.url}/room?room=ENDED2")
        page.get_by_text("Room ENDED2 has ended", exact=False).first.wait_for()
        no_exception(page)
        page.goto(f"{app.url}/room?room=ZZZZZZ")
        page.get_by_text("There is no room with the code ZZZZZZ", exact=False).first.wait_for()
        no_exception(page)
        page.goto(f"{app.url}/room?room=nonsense!!")
        page.get_by_text("is not a room code", exact=False).first.wait_for()
        no_exception(page)


def test_a_class_split_over_two_replicas(browser, tmp_path):
    store = tmp_path / "shared-store"
    env = {"RESNET_LAB_RESULTS_DIR": str(store)}
    with AppServer(env) as one, AppServer(env) as two:
        result = run_a_class(browser, one.url, [one.url, two.url], count=REPLICA_STUDENTS)
        report("two replicas: vote -> teacher's count", result["vote"])
        report("two replicas: reveal -> every phone", result["reveal"])
        room = json.loads((store / "rooms" / f"{result['code']}.json").read_text())
        assert len(room["votes"]["identity"]["1"]) == REPLICA_STUDENTS  # each vote once, from either replica
