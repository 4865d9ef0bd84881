"""Command-line values checked at parse time, so that no run starts with a value it cannot use.

Two layers, both applied by :func:`harden` to the whole parser (foundation and experiment subcommands alike, so
the experiment modules keep declaring their options as they like):

- argparse ``type`` functions by option name (:data:`TYPES`): positive integers where a count is meant, finite
  floats, probabilities in [0, 1), 6n+2 depths, comma lists of them, and output files that must be writable
  (and not a directory) *before* any work starts;
- :func:`check_sizes` after parsing: sizes within the data (``--train-size`` at least one image per class and at
  most the training split, ``--shots`` within what a class has, ``--ks`` within the network's blocks, ...).

Every failure is an ``argparse`` error: one line on stderr (``error: argument --epochs: ...``) and exit 2.

Also here, what every subcommand shares: the ``--device`` option (:func:`add_common`), seed lists
(:func:`parse_seeds`) and the one-line-per-epoch progress printer (:func:`print_progress`).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from resnet_core.training.engine import ProgressEvent

# Images per split of each registered dataset, and classes (all have 10): checked without loading anything.
SPLIT_SIZES = {"bundled": (10_000, 3_000), "fashion": (60_000, 10_000), "cifar10": (50_000, 10_000)}
NUM_CLASSES = 10
# Transfer targets: training images per class before the validation split, test images per class.
TARGET_PER_CLASS = {"fashion-heldout": (1_000, 300), "cifar10": (5_000, 1_000)}


class OneLineParser(argparse.ArgumentParser):
    """argparse with a one-line error (no usage block) that points at --help."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


def _fail(text: str, value: Any) -> NoReturn:
    raise argparse.ArgumentTypeError(f"{text}, got {value!r}")


def _int(text: str) -> int:
    try:
        return int(str(text).strip())
    except ValueError:
        _fail("must be a whole number", text)


def positive_int(text: str) -> int:
    value = _int(text)
    if value < 1:
        _fail("must be a positive whole number (1 or more)", text)
    return value


def nonneg_int(text: str) -> int:
    value = _int(text)
    if value < 0:
        _fail("must be 0 or more", text)
    return value


def at_least(low: int) -> Callable[[str], int]:
    def check(text: str) -> int:
        value = _int(text)
        if value < low:
            _fail(f"must be at least {low}", text)
        return value

    check.__name__ = f"at_least_{low}"
    return check


def finite_float(text: str) -> float:
    try:
        value = float(str(text).strip())
    except ValueError:
        _fail("must be a number", text)
    if not math.isfinite(value):
        _fail("must be a finite number (not nan or inf)", text)
    return value


def positive_float(text: str) -> float:
    value = finite_float(text)
    if value <= 0:
        _fail("must be greater than 0", text)
    return value


def nonneg_float(text: str) -> float:
    value = finite_float(text)
    if value < 0:
        _fail("must be 0 or more", text)
    return value


def probability(text: str) -> float:
    """In [0, 1): a dropout rate or a fraction that must leave something."""
    value = finite_float(text)
    if not 0 <= value < 1:
        _fail("must be at least 0 and less than 1", text)
    return value


def depth(text: str) -> int:
    value = _int(text)
    if value < 8 or (value - 2) % 6:
        _fail("must be a CIFAR-style depth 6n+2 of at least 8 (8, 14, 20, 32, 44, 56, 110, ...)", text)
    if value > 1202:
        _fail("must be at most 1202 (the deepest net in He et al.)", text)
    return value


def depth_list(text: str) -> str:
    """Comma-separated 6n+2 depths; returned as given (the experiment parses it)."""
    items = [x for x in str(text).replace(" ", "").split(",") if x]
    if not items:
        _fail("must list at least one depth", text)
    for item in items:
        depth(item)
    return text


def int_list(check: Callable[[str], int], *, keep_text: bool) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        items = [x for x in str(text).replace(",", " ").split() if x]
        if not items:
            _fail("must list at least one value", text)
        values = [check(x) for x in items]
        if len(set(values)) != len(values):
            _fail("lists a value twice", text)
        return text if keep_text else values

    parse.__name__ = f"list_of_{check.__name__}"
    return parse


def shots_list(text: str) -> str:
    """'20', '5,20,100' or 'all': returned as given."""
    items = [x.strip() for x in str(text).split(",") if x.strip()]
    if not items:
        _fail("must list at least one value", text)
    for item in items:
        if item.lower() not in ("all", "none"):
            positive_int(item)
    return text


def model_name(text: str) -> str:
    match = re.fullmatch(r"(resnet|plain)(\d+)", str(text))
    if not match:
        _fail("must be resnetD or plainD (D = 6n+2, e.g. resnet20)", text)
    depth(match.group(2))
    return text


def writable_file(text: str) -> Path:
    """An output file: not a directory, and its folder (or the nearest existing folder above it) writable now,
    checked by creating and removing a probe file there, so no work is lost at the end."""
    path = Path(text).expanduser()
    if str(text).endswith(("/", os.sep)) or path.is_dir():
        _fail("is a directory; give a file name", text)
    ancestor = path.parent if str(path.parent) else Path(".")
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        _fail(f"cannot be created: {ancestor} is not a folder", text)
    if path.exists() and not os.access(path, os.W_OK):
        _fail("exists and is not writable", text)
    try:
        fd, probe = tempfile.mkstemp(dir=ancestor, prefix=".resnet-lab-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        _fail(f"cannot be written ({ancestor}: {exc.strerror or exc})", text)
    return path


def readable_file(text: str) -> Path:
    path = Path(text).expanduser()
    if not path.is_file():
        _fail("is not an existing file", text)
    return path


# Option name -> type; (command, option) entries override. Options not listed keep their own type.
TYPES: dict[str, Callable[[str], Any]] = {
    "epochs": positive_int,
    "batch_size": at_least(2),
    "width": positive_int,
    "train_size": positive_int,
    "max_steps": positive_int,
    "lr": positive_float,
    "lr_head": positive_float,
    "lr_backbone": positive_float,
    "lr_scratch": positive_float,
    "weight_decay": nonneg_float,
    "seed": nonneg_int,
    "depth": depth,
    "depths": depth_list,
    "trials": positive_int,
    "ks": int_list(positive_int, keep_text=False),
    "swaps": int_list(positive_int, keep_text=False),
    "test_size": positive_int,
    "probes": positive_int,
    "steps": positive_int,
    "warmup": nonneg_int,
    "repeats": positive_int,
    "page_repeats": positive_int,
    "threads": positive_int,
    "workers": nonneg_int,
    "head_epochs": positive_int,
    "feature_images": positive_int,
    "dropout": probability,
    "staged_head_epochs": positive_int,
    "patience": positive_int,
    "val_per_class": positive_int,
    "test_per_class": positive_int,
    "image_size": at_least(16),
    "min_epoch_images": positive_int,
    "per_class": positive_int,
    "shots": shots_list,
    "seeds": int_list(nonneg_int, keep_text=True),
    "json": writable_file,
    "out": writable_file,
    "checkpoint": readable_file,
    "model": model_name,
}
COMMAND_TYPES: dict[tuple[str, str], Callable[[str], Any]] = {
    ("gradients", "steps"): nonneg_int,  # 0 = measure at initialisation
    ("ablation", "test_size"): nonneg_int,  # 0 = all test images
}


def harden(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Give every subcommand's options their checking type (see TYPES) and one-line errors."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command, sub in action.choices.items():
                sub.__class__ = OneLineParser
                for opt in sub._actions:
                    check = COMMAND_TYPES.get((command, opt.dest)) or TYPES.get(opt.dest)
                    if check is not None and opt.option_strings and opt.nargs in (None, "?"):
                        if opt.type in (None, int, float, str, Path) or callable(opt.type):
                            opt.type = check
    parser.__class__ = OneLineParser
    return parser


def _blocks(depth_value: int) -> int:
    return 3 * (depth_value - 2) // 6


def check_sizes(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Sizes within the data, known without loading it; a violation is a one-line parser error."""
    command = getattr(args, "command", None)
    dataset = getattr(args, "dataset", None)
    train_n, test_n = SPLIT_SIZES.get(dataset, (None, None)) if isinstance(dataset, str) else (None, None)

    def error(message: str) -> NoReturn:
        parser.error(message)

    size = getattr(args, "train_size", None)
    if size is not None and command in ("train", "degradation"):
        if size < NUM_CLASSES:
            error(f"argument --train-size: {size} is less than one image per class ({NUM_CLASSES} classes)")
        if train_n is not None and size > train_n:
            error(f"argument --train-size: {dataset} has {train_n:,} training images, asked for {size:,}")
    size = getattr(args, "test_size", None)
    if size and command in ("degradation", "ablation") and test_n is not None:
        if size < NUM_CLASSES:
            error(f"argument --test-size: {size} is less than one image per class ({NUM_CLASSES} classes)")
        if size > test_n:
            error(f"argument --test-size: {dataset} has {test_n:,} test images, asked for {size:,}")
    if command == "ablation" and getattr(args, "residual", None) is None and getattr(args, "plain", None) is None:
        blocks = _blocks(args.depth)
        for name in ("ks", "swaps"):
            values = getattr(args, name, None) or []
            limit = blocks if name == "ks" else blocks // 2
            if any(v > limit for v in values):
                error(
                    f"argument --{name}: a depth-{args.depth} net has {blocks} blocks; values must be at most "
                    f"{limit}, got {max(values)}"
                )
    if command == "transfer":
        per_class, test_per_class = TARGET_PER_CLASS.get(getattr(args, "target", ""), (None, None))
        if per_class is not None:
            left = per_class - args.val_per_class
            if left < 1:
                error(
                    f"argument --val-per-class: {args.target} has {per_class:,} images per class, so at most "
                    f"{per_class - 1:,} can be held out for validation"
                )
            shots = [int(x) for x in str(args.shots).split(",") if x.strip().isdigit()]
            if shots and max(shots) > left:
                error(
                    f"argument --shots: {args.target} has {left:,} training images per class after the "
                    f"{args.val_per_class} validation images; asked for {max(shots):,}"
                )
            if args.test_per_class and args.test_per_class > test_per_class:
                error(f"argument --test-per-class: {args.target} has {test_per_class:,} test images per class")


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().replace("\n", " ") or type(exc).__name__
    return text if len(text) < 500 else text[:500] + " …"


def main_guard(run: Callable[[], int]) -> int:
    """Run a command: OSError/RuntimeError/ValueError/KeyError become one line on stderr and exit 2."""
    try:
        return run()
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except (OSError, RuntimeError, ValueError, LookupError, MemoryError) as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 2


# ------------------------------------------------------------------------------- shared by every subcommand


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default=None, help="cuda, mps or cpu (default: the best available)")


def parse_seeds(text: str) -> list[int]:
    seeds = [int(s) for s in str(text).split(",") if s.strip()]
    if not seeds:
        raise ValueError("give at least one seed")
    return list(dict.fromkeys(seeds))


def print_progress(event: ProgressEvent) -> None:
    if event.kind == "epoch":
        extra = "  ".join(
            f"{k} {v:.4f}"
            for k, v in event.metrics.items()
            if k.endswith(("_acc", "_loss")) and not k.startswith("train")
        )
        print(
            f"  epoch {event.epoch:.0f}  train loss {event.loss:.4f}  acc {event.acc:.4f}  {extra}  "
            f"[{event.elapsed:.1f}s]",
            flush=True,
        )
