"""Where each transfer strategy's model looks: Grad-CAM over misclassified test images, feature extraction vs
fine-tuning side by side.

A finished transfer comparison keeps its numbers, not its models, so this trains the two models again with the
public pieces of ``resnet_core.transfer`` (``load_source``, ``load_target``, ``build_model``,
``configure_strategy``) and the engine, on the same k-shot draw (same seed) and recipe (learning rates, epochs,
BatchNorm mode), then runs Grad-CAM on the last stage of each. Feature extraction trains its head on cached
features (``frozen.extract_features`` + ``frozen.train_head``), fine-tuning goes through ``engine.train``. The
retrained models follow the same recipe as the comparison's runs but are not guaranteed to be bit-identical,
so the predictions shown are these models' own. ResNet-20 source, k=20, 12 epochs: 19-23 s on the shared 2-core
lab CPU (measured: CLI-style call and in the browser).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from resnet_core.data.datasets import DATASET_STATS, ImageSet, normalize, stratified_kshot
from resnet_core.i18n import gettext as _
from resnet_core.layers import gradcam
from resnet_core.training.engine import ProgressEvent, TrainConfig, evaluate, train
from resnet_core.training.frozen import extract_features, train_head
from resnet_core.transfer.config import TransferConfig
from resnet_core.transfer.models import build_model, configure_strategy, load_source
from resnet_core.transfer.target import load_target

COMPARED = ("feature_extraction", "full_finetune")


@dataclass
class GradcamComparison:
    class_names: list[str]
    strategies: list[str]
    indices: list[int]  # into the target's test set
    images: list  # uint8 [C, H, W] nested lists
    true: list[int]
    preds: dict[str, list[int]]  # strategy -> prediction per image
    heatmaps: dict[str, list]  # strategy -> [N][H][W] in 0..1 (Grad-CAM for the predicted class)
    test_acc: dict[str, float]
    config: dict = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def _cam_layer(model: nn.Module) -> nn.Module:
    """The last stage's last module: where Grad-CAM is usually taken (7x7 for ResNet-20 on 28x28)."""
    last = model.body_stages[-1]
    return last[-1] if isinstance(last, (nn.ModuleList, nn.Sequential)) else last


def train_strategy_model(
    strategy: str,
    config,
    *,
    source,
    target,
    seed: int,
    shots: int | None,
    device: torch.device,
    should_stop=None,
    on_progress=None,
) -> nn.Module:
    """One model trained with ``strategy`` the way the Transfer page's recipe says (config: a TransferConfig)."""
    train_set = target.pool.subset(stratified_kshot(target.pool.labels, shots, seed=seed))
    model = build_model(
        source,
        train_set.channels,
        train_set.images.shape[-1],
        len(target.class_names),
        pretrained=strategy != "scratch",
        seed=seed,
        dropout=config.dropout,
    )
    model.to(device)
    groups, set_mode = configure_strategy(model, strategy, config)
    reps = math.ceil(config.min_epoch_images / len(train_set))
    epoch_set = train_set.subset(torch.arange(len(train_set)).repeat(reps)) if reps > 1 else train_set
    if strategy == "feature_extraction":
        feats = extract_features(model, epoch_set, device=device, batch_size=512)
        head = nn.Sequential(model.dropout, model.head)
        tconf = TrainConfig(
            epochs=config.epochs,
            batch_size=config.batch_size,
            lr=config.lr_head,
            weight_decay=config.weight_decay,
            seed=seed,
            log_every=10**9,
        )
        train_head(
            head,
            feats,
            epoch_set.labels.to(device),
            tconf,
            device=device,
            should_stop=should_stop,
            on_progress=on_progress,
            tag=strategy,
        )
    else:
        tconf = TrainConfig(
            epochs=config.epochs,
            batch_size=min(config.batch_size, len(epoch_set)),
            lr=config.lr_head,
            weight_decay=config.weight_decay,
            augment=config.augment,
            seed=seed,
            log_every=10**9,
            eval_every_epoch=False,
        )
        train(
            model,
            epoch_set,
            tconf,
            device=device,
            param_groups=groups,
            set_train_mode=set_mode,
            should_stop=should_stop,
            on_progress=on_progress,
            tag=strategy,
        )
    return model.eval()


def run_gradcam_comparison(
    config,
    *,
    shots: int | None,
    seed: int,
    device: torch.device | str = "cpu",
    strategies: tuple[str, ...] = COMPARED,
    max_images: int = 8,
    upload: ImageSet | None = None,
    on_progress: Callable[[ProgressEvent], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> GradcamComparison | None:
    """Train each strategy's model, then Grad-CAM the test images at least one of them gets wrong (None if stopped).

    Up to half the images are ones only one model gets wrong, then ones both get wrong, in test-set order.
    """
    if isinstance(config, dict):
        config = TransferConfig.from_dict(config)
    device = torch.device(device)
    start = time.perf_counter()
    source = load_source(config)
    target = load_target(config, upload)
    test = target.test
    models, preds, accs = {}, {}, {}
    for strategy in strategies:
        model = train_strategy_model(
            strategy,
            config,
            source=source,
            target=target,
            seed=seed,
            shots=shots,
            device=device,
            should_stop=should_stop,
            on_progress=on_progress,
        )
        if should_stop is not None and should_stop():
            return None
        ev = evaluate(model, test, device=device, batch_size=512, return_predictions=True)
        models[strategy], preds[strategy], accs[strategy] = model.cpu(), ev["predictions"].cpu(), ev["acc"]
    true = test.labels.cpu()
    wrong = torch.stack([preds[s] != true for s in strategies])  # [S, N]
    both = torch.nonzero(wrong.all(0)).flatten().tolist()
    some = torch.nonzero(wrong.any(0) & ~wrong.all(0)).flatten().tolist()
    # Disagreements first (where the two strategies differ is the interesting part), then images both get wrong.
    half = max_images // 2
    picked = (some[:half] + both + some[half:])[:max_images]
    images = test.images[picked]
    x = normalize(images, *DATASET_STATS.get(test.channels, DATASET_STATS[1]))
    heat = {}
    for s in strategies:
        targets = preds[s][picked] if picked else torch.zeros(0, dtype=torch.long)
        heat[s] = gradcam(models[s], _cam_layer(models[s]), x, targets).round(3).tolist() if picked else []
    return GradcamComparison(
        class_names=list(target.class_names),
        strategies=list(strategies),
        indices=picked,
        images=images.tolist(),
        true=true[picked].tolist(),
        preds={s: preds[s][picked].tolist() for s in strategies},
        heatmaps=heat,
        test_acc=accs,
        config={**config.to_dict(), "shots": shots, "seed": seed},
        seconds=time.perf_counter() - start,
    )


def describe_gradcam(result: GradcamComparison) -> str:
    """Words from the numbers: accuracies, how many shown images each model gets wrong, how much the maps overlap."""
    import numpy as np

    if not result.indices:
        return _("Neither model misclassifies any test image: there is nothing to compare.")
    names = {
        "feature_extraction": _("feature extraction"),
        "full_finetune": _("full fine-tuning"),
        "partial_finetune": _("partial fine-tuning"),
        "staged": _("staged fine-tuning"),
        "scratch": _("scratch"),
    }
    parts = [
        _("{name} {acc:.1%} on the test set").format(name=names.get(s, s), acc=result.test_acc[s])
        for s in result.strategies
    ]
    text = _("Retrained with the same recipe and k-shot draw: {parts}.").format(parts=", ".join(parts)) + " "
    wrong = {s: sum(p != t for p, t in zip(result.preds[s], result.true)) for s in result.strategies}
    text += (
        _("Of the {n} images shown, {wrong}.").format(
            n=len(result.indices),
            wrong=", ".join(
                _("{name} gets {n} wrong").format(name=names.get(s, s), n=wrong[s]) for s in result.strategies
            ),
        )
        + " "
    )
    if len(result.strategies) == 2:
        a, b = (np.asarray(result.heatmaps[s]) for s in result.strategies)
        inter = np.minimum(a, b).sum((1, 2))
        union = np.maximum(a, b).sum((1, 2)).clip(1e-12)
        text += _("Their Grad-CAM maps overlap by {overlap:.0%} on average (soft IoU): ").format(
            overlap=np.mean(inter / union)
        ) + (
            _("the two models mostly look at the same places.")
            if np.mean(inter / union) > 0.6
            else _("fine-tuning moved where the network looks.")
        )
    return text
