"""Class mode: a teacher's room. Students join from their phones with a short code, vote on the room's current
question before the reveal (Peer Instruction: vote alone, discuss, vote again, then reveal), and watch the same
live run. Streamlit-free: the pages draw rooms; this module keeps their state and enforces the rules.

- **A code** of 6 characters from an alphabet without look-alikes (no 0/O, 1/I/L): 31^6 ≈ 900 million codes, read
  aloud or typed on a phone without mistakes. **A teacher key** of 10 such characters is made with the room and
  given only to the browser that opened it (kept in its session, never in the shared link); the room stores its
  sha256 only. Every teacher action (open or close voting, show the split, reveal, second round, next, back, a
  live run) must present it; a student's browser never has it, whatever it puts in the URL.
- **Votes**: one per voter per question and round, changeable while voting is open, for one of the options the
  teacher opened voting with; a dict keyed by voter, so a vote is counted once however often it is sent.
- **Where rooms live**: one JSON file per room in ``rooms/`` beside the result store (``RESNET_LAB_RESULTS_DIR``),
  so every app replica sharing that folder sees the same room; every change is a read-modify-write under an
  exclusive file lock, written atomically, so votes from two replicas at once are both counted, once.
- **Expiry**: a room with no activity for 4 hours is over ("this room has ended"); a code never created is
  "unknown". Ended rooms are removed a day later.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import hmac
import io
import json
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from resnet_core.provenance import write_json

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH, KEY_LENGTH = 6, 10
IDLE_EXPIRY = 4 * 3600.0  # seconds without activity after which a room has ended
PURGE_AFTER = 24 * 3600.0  # seconds after its end that an ended room's file is removed
PHASES = ("question", "voting", "closed", "revealed")


class RoomError(Exception):
    """Why a room cannot be used or an action is refused: ``reason`` is one of "unknown", "expired",
    "not-teacher", "voting-closed", "not-an-option", "bad-code"."""

    def __init__(self, reason: str, code: str = "") -> None:
        super().__init__(f"{reason}: {code}")
        self.reason, self.code = reason, code


def normal_code(text: str) -> str:
    """A code as typed (any case, spaces, dashes) in its canonical form; RoomError("bad-code") if it cannot be one."""
    code = "".join(ch for ch in str(text).upper() if ch not in " -_")
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        raise RoomError("bad-code", str(text)[:20])
    return code


def _random(n: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(n))


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass
class Room:
    code: str
    teacher_hash: str
    created: float
    updated: float
    lesson: list[str]  # question keys, in the order of the lesson
    position: int = 0
    phase: str = "question"  # question (shown, not voting yet) | voting | closed | revealed
    round: int = 1  # 2: the vote after discussion
    split_shown: bool = False  # the class's split is hidden from the projector until the teacher shows it
    options: list[str] = field(default_factory=list)  # the option ids voting was opened with
    votes: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)  # question -> round -> voter -> option
    run: dict | None = None  # the live run the class watches: kind, config, device, title, question

    @property
    def question(self) -> str:
        return self.lesson[self.position] if self.lesson else ""

    def tally(self, question: str | None = None, round: int | None = None) -> dict[str, int]:
        """Votes per option for a question and round (the current ones by default)."""
        ballots = self.votes.get(question or self.question, {}).get(str(round or self.round), {})
        counts: dict[str, int] = {}
        for option in ballots.values():
            counts[option] = counts.get(option, 0) + 1
        return counts

    def cast(self, question: str | None = None, round: int | None = None) -> int:
        return len(self.votes.get(question or self.question, {}).get(str(round or self.round), {}))

    def vote_of(self, voter: str) -> str | None:
        return self.votes.get(self.question, {}).get(str(self.round), {}).get(voter)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Room:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


class RoomStore:
    def __init__(self, root: Path | str | None = None, *, expiry: float = IDLE_EXPIRY, clock: Callable = time.time):
        self._root, self.expiry, self.clock = root, expiry, clock

    @property
    def root(self) -> Path:
        """The folder given, else ``rooms/`` beside the result store (read at each use)."""
        from resnet_core.serving.store import default_root

        return Path(self._root) if self._root is not None else default_root() / "rooms"

    def _path(self, code: str) -> Path:
        return self.root / f"{normal_code(code)}.json"

    # ------------------------------------------------------------------------------------------ reading
    def get(self, code: str) -> Room:
        """The room; RoomError("unknown") for a code never opened, ("expired") for one that has ended."""
        path = self._path(code)
        try:
            room = Room.from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, TypeError) as exc:
            raise RoomError("unknown", normal_code(code)) from exc
        if self.clock() - room.updated > self.expiry:
            raise RoomError("expired", room.code)
        return room

    def is_teacher(self, code: str, key: str | None) -> bool:
        try:
            room = self.get(code)
        except RoomError:
            return False
        return bool(key) and hmac.compare_digest(room.teacher_hash, _digest(key))

    # ------------------------------------------------------------------------------------------ changing
    @contextmanager
    def _locked(self, code: str) -> Iterator[Path]:
        path = self._path(code)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield path
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _change(self, code: str, change: Callable[[Room], None], *, key: str | None = None) -> Room:
        with self._locked(code) as path:
            room = self.get(code)
            if key is not None and not hmac.compare_digest(room.teacher_hash, _digest(key)):
                raise RoomError("not-teacher", room.code)
            change(room)
            room.updated = self.clock()
            write_json(path, room.to_dict())
            return room

    def create(self, lesson: list[str]) -> tuple[Room, str]:
        """A new room with ``lesson`` (question keys) and its teacher key (give it to the opening browser only)."""
        self.purge()
        key = _random(KEY_LENGTH)
        for _ in range(100):
            code = _random(CODE_LENGTH)
            with self._locked(code) as path:
                if path.exists():
                    continue
                now = self.clock()
                room = Room(code, _digest(key), now, now, list(lesson))
                write_json(path, room.to_dict())
                return room, key
        raise RuntimeError("no free room code after 100 draws")

    def act(self, code: str, key: str | None, action: str, **kw: object) -> Room:
        """A teacher's action (the key is checked first): open_voting(options), close_voting, show_split,
        reveal, second_round(options), go(position), start_run(run), stop_run."""
        if not key:
            raise RoomError("not-teacher", normal_code(code))
        return self._change(code, lambda room: _ACTIONS[action](room, **kw), key=key)

    def vote(self, code: str, voter: str, option: str) -> Room:
        """A student's vote on the current question and round; changeable while voting is open."""

        def cast(room: Room) -> None:
            if room.phase != "voting":
                raise RoomError("voting-closed", room.code)
            if option not in room.options:
                raise RoomError("not-an-option", room.code)
            round_votes = room.votes.setdefault(room.question, {}).setdefault(str(room.round), {})
            round_votes[str(voter)[:64]] = option

        return self._change(code, cast)

    def purge(self) -> list[str]:
        """Remove the files of rooms that ended more than a day ago."""
        removed = []
        for path in self.root.glob("*.json") if self.root.is_dir() else []:
            try:
                updated = float(json.loads(path.read_text())["updated"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if self.clock() - updated > self.expiry + PURGE_AFTER:
                path.unlink(missing_ok=True)
                path.with_suffix(".lock").unlink(missing_ok=True)
                removed.append(path.stem)
        return removed

    def csv(self, code: str, key: str | None) -> str:
        """The class's votes per question and round, as counts per option (anonymous): for the teacher only."""
        if not self.is_teacher(code, key):
            raise RoomError("not-teacher", normal_code(code))
        room = self.get(code)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["room", "position", "question", "round", "option", "votes"])
        for position, question in enumerate(room.lesson, start=1):
            for round_key in sorted(room.votes.get(question, {})):
                for option, count in sorted(room.tally(question, int(round_key)).items()):
                    writer.writerow([room.code, position, question, round_key, option, count])
        return out.getvalue()


# ---------------------------------------------------------------------------------------- teacher actions
def _open_voting(room: Room, options: list[str]) -> None:
    room.phase, room.options = "voting", [str(o) for o in options]


def _close_voting(room: Room) -> None:
    if room.phase == "voting":
        room.phase = "closed"


def _show_split(room: Room) -> None:
    room.split_shown = True


def _reveal(room: Room) -> None:
    room.phase, room.split_shown = "revealed", True


def _second_round(room: Room, options: list[str]) -> None:
    room.round, room.phase, room.split_shown, room.options = 2, "voting", False, [str(o) for o in options]


def _go(room: Room, position: int) -> None:
    if room.lesson:
        room.position = max(0, min(len(room.lesson) - 1, int(position)))
    room.phase, room.round, room.split_shown, room.options = "question", 1, False, []


def _start_run(room: Room, run: dict) -> None:
    room.run = {**run, "question": room.question}


def _stop_run(room: Room) -> None:
    room.run = None


_ACTIONS: dict[str, Callable] = {
    "open_voting": _open_voting,
    "close_voting": _close_voting,
    "show_split": _show_split,
    "reveal": _reveal,
    "second_round": _second_round,
    "go": _go,
    "start_run": _start_run,
    "stop_run": _stop_run,
}


def new_voter_id() -> str:
    """An anonymous id for one browser's votes (no name, nothing about the student)."""
    return secrets.token_hex(8)


def join_path(code: str) -> str:
    """The path a student opens (the app routes ``?room=`` to the student's view)."""
    return f"/room?room={normal_code(code)}"
