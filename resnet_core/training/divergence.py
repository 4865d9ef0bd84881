"""One rule for "this run diverged", shared by the engine's loops, feature-extraction heads and every experiment.

A run has diverged at step N when, at a point where the host reads the loss (every ``log_every`` steps, at the
end of an epoch, or after an evaluation):

1. the training loss is NaN or infinite (the engine also records, on the device, the first step where it was);
2. the training loss is finite but blew up: above ``BLOWUP_FACTOR`` (100) times the first logged loss (floored at
   1.0, so that a run that starts near zero, e.g. fine-tuning from a good checkpoint, is not flagged for
   rising to 0.5), or above the fixed ``LOSS_CEILING`` (1e4) whatever the start (a cross-entropy of 1e4 means
   logits of that size: nothing is being learned any more); or
3. an evaluation (validation / test) loss is NaN or infinite.

Why these numbers: a cross-entropy over C classes starts near ln C (2.3 for 10 classes) and a healthy run only
goes down; Home's "lr 1000" run logs losses of 9e18 and 6e25 (finite, so rule 1 alone missed it), while the
noisiest healthy runs in the tests and shipped results never exceed ~3x their first logged loss.

A diverged run is reported as "diverged at step N" and is left out of means, counts and verdicts. The words are
made in the language in force where the run executes (a page's job runs in its launcher's language; the command
line and result files made by it are English).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from resnet_core.i18n import N_
from resnet_core.i18n import gettext as _

BLOWUP_FACTOR = 100.0
LOSS_CEILING = 1e4
FIRST_LOSS_FLOOR = 1.0
EVAL_NAMES = {
    "val": N_("validation"),
    "validation": N_("validation"),
    "test": N_("test"),
    "evaluation": N_("evaluation"),
}


@dataclass
class Divergence:
    step: int
    reason: str

    def message(self) -> str:
        return _("diverged at step {step}: {reason} (try a lower learning rate)").format(
            step=self.step, reason=self.reason
        )


class DivergenceCheck:
    """Feed it the losses the host reads; it answers with a :class:`Divergence` the first time the rule fires."""

    def __init__(self, factor: float = BLOWUP_FACTOR, ceiling: float = LOSS_CEILING) -> None:
        self.factor, self.ceiling = factor, ceiling
        self.first: float | None = None
        self.found: Divergence | None = None

    def train_loss(self, step: int, loss: float) -> Divergence | None:
        if self.found is not None:
            return self.found
        if not math.isfinite(loss):
            self.found = Divergence(step, _("the loss became NaN or infinite"))
        elif loss > self.ceiling:
            self.found = Divergence(
                step,
                _("the loss blew up to {loss} (above {ceiling})").format(
                    loss=f"{loss:.3g}", ceiling=f"{self.ceiling:g}"
                ),
            )
        else:
            if self.first is None:
                self.first = loss
            limit = self.factor * max(self.first, FIRST_LOSS_FLOOR)
            if loss > limit:
                self.found = Divergence(
                    step,
                    _("the loss blew up to {loss}, more than {factor}x its first logged value {first}").format(
                        loss=f"{loss:.3g}", factor=f"{self.factor:g}", first=f"{self.first:.3g}"
                    ),
                )
        return self.found

    def eval_loss(self, step: int, loss: float, name: str = "evaluation") -> Divergence | None:
        if self.found is None and not math.isfinite(loss):
            label = _(EVAL_NAMES[name]) if name in EVAL_NAMES else name
            self.found = Divergence(step, _("the {name} loss is NaN or infinite").format(name=label))
        return self.found


def check_losses(losses: list[tuple[int, float]], eval_losses: list[tuple[int, float]] = ()) -> Divergence | None:
    """The rule on a finished history: [(step, train loss)], [(step, eval loss)] -> the first divergence or None."""
    check = DivergenceCheck()
    events = sorted([(s, 0, v) for s, v in losses] + [(s, 1, v) for s, v in eval_losses])
    for step, kind, value in events:
        found = check.train_loss(step, value) if kind == 0 else check.eval_loss(step, value)
        if found:
            return found
    return None


def is_diverged(run: object) -> bool:
    """For summaries: a run (dataclass or dict) whose status says it diverged is left out of means and verdicts."""
    status = run.get("status") if isinstance(run, dict) else getattr(run, "status", None)
    return status == "diverged"
