"""Where a shipped number came from: command, seed, device, date, git revision, library versions, file hashes."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import torch

from resnet_core.data.datasets import REPO_ROOT
from resnet_core.training.devices import describe_device


def git_revision(root: Path = REPO_ROOT) -> str:
    """The commit the code ran at, with '+dirty' when the working tree had uncommitted changes (see below)."""
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return "unknown"
        return rev.stdout.strip() + ("+dirty" if working_tree_dirty(root) else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def working_tree_dirty(root: Path = REPO_ROOT) -> bool:
    """Tracked files differ from HEAD, or untracked files exist under resnet_core/ (code that ran but is not in
    the commit named)."""
    tracked = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True, timeout=5
    ).stdout.strip()
    untracked = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all", "--", "resnet_core"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=5,
    ).stdout.strip()
    return bool(tracked) or any(line.startswith("??") for line in untracked.splitlines())


def command_line() -> str:
    """The command that is running, as someone would type it in the repository: ``python -m resnet_core ...``
    with repository-relative paths (no machine's folders in a shipped file)."""
    argv = list(sys.argv)
    if argv and argv[0].endswith(("__main__.py", "cli.py")):
        argv[0] = "python -m resnet_core"
    return display_command(" ".join(shlex.quote(a) if i else a for i, a in enumerate(argv)))


_ABSOLUTE = re.compile(r"(?<![\w.:/])/(?:[\w.@+-]+/)*[\w.@+-]+")


def display_command(command: str) -> str:
    """A recorded command as a reader should see it: absolute paths inside the repository made relative to it,
    others reduced to their file name (a result made with ``--json /some/where/x.json`` says ``--json x.json``)."""

    def shorten(match: re.Match) -> str:
        path = Path(match.group(0))
        try:
            return str(path.relative_to(REPO_ROOT))
        except ValueError:
            return path.name

    return _ABSOLUTE.sub(shorten, command)


def display_device(device: str) -> str:
    """A recorded device description in today's words ("CPU (1 threads)" was written before plurals were)."""
    return re.sub(r"\b1 threads\b", "1 thread", device)


def provenance(*, seed: int | None, device: torch.device | str, data: str, **extra: Any) -> dict:
    return {
        "command": command_line(),
        "seed": seed,
        "data": data,
        "device": describe_device(device).describe(),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "git_revision": git_revision(),
        "torch": str(torch.__version__),  # TorchVersion is not a plain str; keep files loadable
        "python": platform.python_version(),
        **extra,
    }


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_json(path: Path | str, payload: Any) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A temp name of its own per writer: two processes writing one file (app replicas on a shared volume) never
    # move each other's half-written temp file into place.
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    text = json.dumps(payload, indent=1, default=_json_default) + "\n"  # fails before touching the disk
    try:
        tmp.write_text(text)
        tmp.replace(path)  # atomic: a reader never sees half a file
    except BaseException:
        tmp.unlink(missing_ok=True)  # never leave a .tmp behind
        raise
    return path


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, torch.Tensor):
        return obj.tolist()
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")
