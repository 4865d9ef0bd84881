"""A 45-60 minute lesson for a room: the presenter questions of every page in the order a class takes them
(Home -> Gradient flow -> Block ablation -> Architectures -> What the layers see -> Transfer learning), each with
its live run where one exists, minutes for Peer Instruction (vote alone, discuss, vote again, reveal), and the
teacher's talking points: a question for the discussion, then what the lab measured, in the room's words.

The runs are the pages' own defaults (a few seconds to half a minute on a CPU), so the class can watch the
measurement happen; the answers come from the measured results, never from this file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from resnet_core.i18n import N_
from resnet_core.i18n import gettext as _

VOTE_MINUTES = 7  # read the question, vote, discuss with a neighbour, vote again, reveal and explain


@dataclass(frozen=True)
class LessonItem:
    key: str  # the presenter question's key (resnet_core.serving.classroom)
    page: str  # the page it belongs to (lab_pages/<page>.py)
    discuss: str  # a question for the discussion between the two votes (an N_() message)
    minutes: int = VOTE_MINUTES
    run: Callable[[], tuple[str, Any]] | None = None  # the live run the class can watch: (kind, config)


def _gradient_run() -> tuple[str, Any]:
    from resnet_core.gradients import GradientConfig

    return "gradients", GradientConfig(seeds=[0, 1, 2])  # the page's default: depths 8-110, 3 seeds


def _ablation_run() -> tuple[str, Any]:
    from resnet_core.ablation import AblationConfig

    return "ablation", AblationConfig(depth=20, test_size=500, delete_k=False, reorder=False)  # quick delete-one


def _transfer_run() -> tuple[str, Any]:
    from resnet_core.transfer import MAIN_STRATEGIES, TransferConfig

    return "transfer", TransferConfig(shots=[20], seeds=[0], strategies=list(MAIN_STRATEGIES))


LESSON: tuple[LessonItem, ...] = (
    LessonItem(
        "identity",
        "home",
        N_("What happens to a product of 30 numbers that are each a little below 1? And if each is 1 plus something?"),
        minutes=6,
    ),
    LessonItem(
        "gradients",
        "gradient_flow",
        N_("The gradient reaches block 0 through every block after it. What does y = F(x) + x add to each step?"),
        run=_gradient_run,
    ),
    LessonItem(
        "degradation",
        "gradient_flow",
        N_("A deeper net can always copy a shallower one and add identity layers. So why could it train worse?"),
    ),
    LessonItem(
        "ablation",
        "block_ablation",
        N_("If a ResNet were one long chain, what would deleting one link do? What if it were many short paths?"),
        run=_ablation_run,
    ),
    LessonItem(
        "parameters",
        "architectures",
        N_("Where do a network's parameters sit: in the convolutions, or in the fully connected layers at the end?"),
        minutes=6,
    ),
    LessonItem(
        "stage-size",
        "layers",
        N_("Each downsampling stage halves the width and height. What does it do with the channels, and why?"),
        minutes=6,
    ),
    LessonItem(
        "transfer",
        "transfer_learning",
        N_("With only 20 labelled images per class, what can go wrong when every layer is trained?"),
        minutes=9,
        run=_transfer_run,
    ),
)
ITEMS = {item.key: item for item in LESSON}


def lesson_keys() -> list[str]:
    return [item.key for item in LESSON]


def talking_points(item: LessonItem, explanation: str, evidence: str = "") -> list[str]:
    """What the teacher says: the discussion question, then the measured sentence and where it comes from."""
    points = [_("Between the votes, ask: {question}").format(question=_(item.discuss))]
    if explanation:
        points.append(_("Then the measurement: {explanation}").format(explanation=explanation))
    if evidence:
        points.append(_("(Evidence: {evidence}.)").format(evidence=evidence))
    return points


def time_plan(run_seconds: Callable[[str, Any], float | None]) -> list[dict]:
    """One row per question: its minutes, its live run's estimate (``run_seconds(kind, config)``, None when there
    is none yet) and when it starts and ends, counted from the start of the lesson."""
    rows, at = [], 0.0
    for position, item in enumerate(LESSON, start=1):
        seconds = run_seconds(*item.run()) if item.run is not None else None
        minutes = item.minutes + (seconds or 0.0) / 60.0
        rows.append(
            {
                "position": position,
                "question": item.key,
                "page": item.page,
                "run_seconds": seconds,
                "start_min": at,
                "end_min": at + minutes,
            }
        )
        at += minutes
    return rows
