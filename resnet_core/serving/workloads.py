"""How much work each experiment's configuration is, in the units of :mod:`resnet_core.serving.estimates`.

One function per experiment, reading the same config object the experiment runs from; the counts follow what
the code does (networks built, images through each network, forward or forward + backward). Where a run's cost
is not worth modelling to the last pass (e.g. the Jacobian probes), the refinement from runs seen here absorbs it.
"""

from __future__ import annotations

import time

import torch

from resnet_core.serving.estimates import Work, forward_macs, register_probe

TRAIN_PASS = 3.0  # forward + backward ≈ 3 forward passes


def train_run(*, depth: int, images: int, epochs: int, eval_images: int = 0) -> Work:
    """Home: one network trained for ``epochs`` on ``images``, evaluated on ``eval_images`` after each epoch."""
    macs = forward_macs(depth)
    return Work("train", TRAIN_PASS * macs * images * epochs, float(macs) * eval_images * epochs, 1)


def gradients(config) -> Work:
    """Per depth × variant × seed: a net built (two for a pair), ``train_steps`` training steps, one measured
    forward + backward, and ``jacobian_probes`` backward passes per block on a sub-batch."""
    per_seed = 0.0
    nets = 0
    for depth in config.depths:
        for _variant in config.variants:
            macs = forward_macs(depth)
            steps = config.batch_size * (config.train_steps + 1)
            per_seed += TRAIN_PASS * macs * steps + 2.0 * macs * config.jacobian_probes * config.jacobian_batch
            nets += 1
    seeds = len(config.seeds)
    return Work("gradients", per_seed * seeds, 0.0, nets * seeds, runs=nets * seeds)


def degradation(config, *, train_images: int, test_images: int) -> Work:
    """Per depth × variant × seed: ``epochs`` over the training images, then an evaluation of the fixed training
    subset and the test images after every epoch."""
    train = evals = 0.0
    nets = 0
    for depth in config.depths:
        macs = forward_macs(depth)
        for _variant in config.variants:
            train += TRAIN_PASS * macs * train_images * config.epochs
            evals += macs * (min(config.train_eval_size, train_images) + test_images) * config.epochs
            nets += 1
    seeds = len(config.seeds)
    return Work("degradation", train * seeds, evals * seeds, nets * seeds)


def ablation(config, *, test_images: int) -> Work:
    """Two trained nets, each evaluated intact, once per deletion, per delete-k subset and per reordering; with
    re-estimated BatchNorm statistics every evaluation first runs the BN images through the net."""
    from resnet_core.ablation.config import default_ks, default_swaps

    n = (config.depth - 2) // 6
    pool = 3 * (n - 1)  # blocks that keep the tensor shape (not the first block of stages 2 and 3)
    blocks = 3 * n
    evaluations = 1
    if config.delete_one:
        evaluations += blocks
    if config.delete_k:
        ks = config.ks if config.ks is not None else default_ks(pool)
        evaluations += len([k for k in ks if 0 < k <= pool]) * config.trials
    if config.reorder:
        swaps = config.swaps if config.swaps is not None else default_swaps(pool)
        evaluations += len([s for s in swaps if s > 0]) * config.trials
    images = test_images + (config.bn_images if config.bn_stats == "recompute" else 0)
    quick = not (config.delete_k or config.reorder)  # the two nets' delete-one sweeps run side by side
    return Work("ablation", 0.0, 2.0 * forward_macs(config.depth) * images * evaluations, 2, runs=2 if quick else 1)


def transfer(config, *, classes: int, val_images: int, test_images: int, macs: float | None = None) -> Work:
    """Per seed × budget × strategy on the lab's ResNet-20 (ImageNet sources: their own size, scaled by the
    image area). Trained strategies run ``epochs`` over max(k × classes, min_epoch_images) images (the last
    stage only, for partial fine-tuning); cached strategies compute ``feature_views`` feature passes once and
    train a head on them (negligible). Every strategy is evaluated on the validation images each epoch and on
    the test images once. ``macs``: one forward pass of the source network (default: the lab's ResNet-20)."""
    macs = macs if macs is not None else forward_macs(20)
    train = evals = 0.0
    nets = 0
    for shots in config.shots:
        images = shots * classes if shots is not None else 5000
        epoch_images = max(images, config.min_epoch_images)
        for strategy in config.strategies:
            full = TRAIN_PASS * macs * epoch_images
            if strategy == "scratch" or strategy == "full_finetune":
                train += full * config.epochs
            elif strategy == "partial_finetune":
                train += (macs + 2.0 * macs / 3) * epoch_images * config.epochs
            elif strategy == "staged":
                evals += macs * images * config.feature_views
                train += full * max(0, config.epochs - config.staged_head_epochs)
            else:  # feature extraction, with or without BatchNorm in train mode
                evals += macs * images * config.feature_views
            evals += macs * (val_images * config.epochs + test_images)
            nets += 1
    seeds = len(config.seeds)
    return Work("transfer", train * seeds, evals * seeds, nets * seeds, runs=nets * seeds)


def _gradients_probe(device: torch.device) -> tuple[Work, float]:
    """The gradient measurement at depth 56, both variants, one seed: the real code, timed (about 0.5 s; the
    deep nets dominate a default run, and a shallow probe is mostly fixed costs)."""
    from resnet_core.gradients.config import GradientConfig
    from resnet_core.gradients.run import run_gradients

    config = GradientConfig(depths=[56], variants=["plain", "residual"], seeds=[0])
    with torch.random.fork_rng(devices=[]):
        # Untimed first: a fresh process builds a kernel per conv shape on first use (about 0.5 s with bf16 on
        # this CPU, more than the timed run itself); depth 8 has every conv shape of the deeper nets.
        run_gradients(GradientConfig(depths=[8], variants=["plain", "residual"], seeds=[0]), device=device)
        start = time.perf_counter()
        run_gradients(config, device=device)
    return gradients(config), time.perf_counter() - start


register_probe("gradients", _gradients_probe)


def for_request(kind: str, config) -> Work | None:
    """The work of one run of ``kind`` with ``config`` as a page would ask for it, on the bundled data (None for
    an experiment that runs in no time). For the lesson's time plan."""
    if kind == "gradients":
        return gradients(config)
    if kind == "ablation":
        return ablation(config, test_images=config.test_size)
    if kind == "transfer":
        classes = 4  # the held-out Fashion-MNIST classes of the default split
        test = (config.test_per_class or 300) * classes
        return transfer(config, classes=classes, val_images=config.val_per_class * classes, test_images=test)
    if kind == "degradation":
        return degradation(config, train_images=config.train_size or 10_000, test_images=config.test_size or 3_000)
    return None
