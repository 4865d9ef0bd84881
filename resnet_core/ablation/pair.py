"""The two nets a block ablation lesions: the shipped (or named) checkpoint pair with their manifest entries, or a
small residual/plain pair trained on the spot for the page's own-pair job."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from resnet_core.ablation.config import AblationConfig
from resnet_core.checkpoints import load_checkpoint, read_manifest, shipped_checkpoints, shipped_path
from resnet_core.data import datasets as data_mod
from resnet_core.models import CifarNet, build_cifar_net
from resnet_core.provenance import sha256_file
from resnet_core.training.engine import ProgressFn, StopFn, TrainConfig, seeded, train

KINDS = ("residual", "plain")


def resolve_checkpoint(spec: str | None, default_name: str) -> Path:
    """A path to a checkpoint file, or the name of a shipped one (e.g. 'resnet56')."""
    spec = spec or default_name
    p = Path(spec)
    if p.suffix == ".pt" or p.exists():
        if not p.is_file():
            raise FileNotFoundError(f"checkpoint {p} not found")
        return p
    return shipped_path(spec)


def shipped_depths() -> dict[int, dict[str, str]]:
    """{depth: {"residual": "resnet{depth}", "plain": "plain{depth}"}} for the shipped pairs (either may be missing).

    Only the canonical names count: other shipped checkpoints (e.g. a transfer-learning source net) may be
    trained on other classes and are not part of this experiment."""
    out: dict[int, dict[str, str]] = {}
    for name, entry in shipped_checkpoints().items():
        cfg = entry.get("net_config") or {}
        depth, residual = cfg.get("depth"), cfg.get("residual", True)
        if depth is None or name != f"{'resnet' if residual else 'plain'}{depth}":
            continue
        out.setdefault(int(depth), {})["residual" if residual else "plain"] = name
    return dict(sorted(out.items()))


def load_pair(config: AblationConfig, device: torch.device) -> dict[str, tuple[CifarNet, str, dict]]:
    """{kind: (model, source, manifest entry)} for the checkpoints the config names."""
    manifest = read_manifest().get("checkpoints", {})
    pair = {}
    for kind, spec in (("residual", config.residual_checkpoint), ("plain", config.plain_checkpoint)):
        default = f"{'resnet' if kind == 'residual' else 'plain'}{config.depth}"
        path = resolve_checkpoint(spec, default)
        model, meta = load_checkpoint(path, device=device)
        if model.config.residual != (kind == "residual"):
            raise ValueError(
                f"{path.name} is a {'residual' if model.config.residual else 'plain'} net, expected a {kind} one"
            )
        entry = manifest.get(path.stem, {}) if path.parent.resolve() == shipped_path_dir() else {}
        info = {
            k: entry.get(k)
            for k in ("test_acc", "bundled_test_acc", "test_data", "sha256", "command", "date")
            if k in entry
        }
        if entry:
            info["sha256_matches"] = sha256_file(path) == entry.get("sha256")
        pair[kind] = (model, str(path), info)
    return pair


def shipped_path_dir() -> Path:
    from resnet_core.checkpoints import CHECKPOINT_DIR

    return CHECKPOINT_DIR.resolve()


def pair_hash(models: dict[str, CifarNet]) -> str:
    """sha256 of a pair's weights and configs: names a pair trained on the page wherever results depend on it."""
    digest = hashlib.sha256()
    for kind in sorted(models):
        model = models[kind]
        digest.update(f"{kind}:{sorted(model.config.to_dict().items())}".encode())
        for name, tensor in sorted(model.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def train_pair(
    depth: int = 14,
    *,
    device: torch.device,
    epochs: int = 2,
    train_size: int = 2000,
    seed: int = 0,
    dataset: str = "bundled",
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> dict[str, CifarNet]:
    """Train a small residual and plain pair (same seed, same data) to ablate; for the page's own-pair job.

    Returns whichever models finished (a stop during the second leaves only the first)."""
    splits = data_mod.load_dataset(dataset)
    train_set = splits.train
    if train_size and train_size < len(train_set):
        k = max(1, train_size // train_set.num_classes)
        train_set = train_set.subset(data_mod.stratified_kshot(train_set.labels, k, seed=seed))
    out = {}
    for kind in KINDS:
        if should_stop is not None and should_stop():
            break
        model = seeded(
            lambda kind=kind: build_cifar_net(
                depth, residual=kind == "residual", in_channels=train_set.channels, num_classes=train_set.num_classes
            ),
            seed,
        )
        result = train(
            model,
            train_set,
            TrainConfig(epochs=epochs, seed=seed),
            device=device,
            on_progress=on_progress,
            should_stop=should_stop,
            tag=kind,
        )
        if result.status != "done":
            break
        out[kind] = model.eval()
    return out
