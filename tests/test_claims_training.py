"""Guards for what the shared training loop promises every experiment: augmentation is applied to the training
batches exactly when the config asks for it (and never to evaluation), and a divergent run is reported as
"diverged at step N" with the step where the loss first became non-finite, not the step where the host
happened to read it."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from resnet_core.data.datasets import DATASET_STATS, normalize
from resnet_core.models import build_cifar_net
from resnet_core.training.batching import evaluate
from resnet_core.training.divergence import check_losses
from resnet_core.training.engine import TrainConfig, seeded, train


def _clean_share(batch: torch.Tensor, reference: torch.Tensor) -> float:
    """The share of the images in ``batch`` that are exactly one of the (normalised) clean images."""
    return sum(bool((reference == x).flatten(1).all(1).any()) for x in batch) / len(batch)


@pytest.fixture(scope="module")
def images40(tiny_train):
    return tiny_train.subset(list(range(40)))


def _training_inputs(data, augment: bool) -> torch.Tensor:
    seen: list[torch.Tensor] = []
    model = seeded(lambda: build_cifar_net(8), 0)
    model.register_forward_pre_hook(lambda m, inputs: seen.append(inputs[0].detach().clone()) if m.training else None)
    config = TrainConfig(epochs=1, batch_size=20, augment=augment, eval_every_epoch=False, log_every=100)
    train(model, data, config, device=torch.device("cpu"))
    return torch.cat(seen)


def test_the_engine_augments_training_batches_when_asked(images40):
    reference = normalize(images40.images, *DATASET_STATS[1])
    augmented = _training_inputs(images40, augment=True)
    assert len(augmented) == 40
    assert _clean_share(augmented, reference) < 0.5, "most augmented images are shifted or flipped"


def test_the_engine_trains_on_the_clean_images_when_augmentation_is_off(images40):
    reference = normalize(images40.images, *DATASET_STATS[1])
    assert _clean_share(_training_inputs(images40, augment=False), reference) == 1.0


def test_evaluation_sees_the_clean_images(images40):
    seen: list[torch.Tensor] = []
    model = seeded(lambda: build_cifar_net(8), 0)
    model.register_forward_pre_hook(lambda m, inputs: seen.append(inputs[0].detach().clone()))
    first = evaluate(model, images40, device=torch.device("cpu"))
    assert evaluate(model, images40, device=torch.device("cpu")) == first
    assert _clean_share(torch.cat(seen), normalize(images40.images, *DATASET_STATS[1])) == 1.0


class _NaNAfter(nn.Module):
    """A net whose training loss becomes NaN from its ``bad``-th training forward pass on (steps count from 0)."""

    def __init__(self, inner: nn.Module, bad: int) -> None:
        super().__init__()
        self.inner, self.bad, self.calls = inner, bad, 0

    def forward(self, x):
        out = self.inner(x)
        if self.training:
            self.calls += 1
            if self.calls > self.bad:
                return out * math.nan
        return out


def test_divergence_is_reported_at_the_step_the_loss_went_non_finite(tiny_train):
    """The host reads the loss only every ``log_every`` steps and at the end of an epoch; the step it reports is
    the one recorded on the device when the loss first became NaN."""
    model = _NaNAfter(seeded(lambda: build_cifar_net(8), 0), bad=3)
    config = TrainConfig(epochs=2, batch_size=20, log_every=1000, augment=False)
    result = train(model, tiny_train, config, device=torch.device("cpu"))
    assert result.status == "diverged" and result.diverged_at_step == 3
    assert result.message.startswith("diverged at step 3: the loss became NaN or infinite")
    assert result.steps == 10 and len(result.history) == 0  # stopped at the end of the first epoch, where it read


def test_the_blowup_rule_floors_the_first_loss():
    """A run that starts near zero (fine-tuning from a good checkpoint) may rise to 0.5 without "diverging";
    the same rise from a first loss of 2.3 to 240 is a blow-up."""
    assert check_losses([(20, 0.001), (40, 0.5)]) is None
    assert check_losses([(20, 0.001), (40, 150.0)]).step == 40
    assert check_losses([(20, 2.3), (40, 240.0)]).step == 40
