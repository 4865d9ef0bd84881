"""Checkpoints the project trains and ships (with a manifest), and torchvision ImageNet weights.

Shipped checkpoints are fp16 state dicts plus the network's config, loaded with ``weights_only=True`` so a
checkpoint file can never run code. ``assets/checkpoints/manifest.json`` records how each was made (command,
seed, data, device, date, git revision), its test accuracy and its sha256; the tests check both.

Loading a shipped checkpoint verifies its sha256 against the manifest once per file per process (cached by path,
size and modification time: later loads cost nothing extra), and every load checks that the weights are finite.
A mismatch or a non-finite weight is a :class:`CheckpointError` naming the file and how to restore it.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.torch_version import TorchVersion

from resnet_core.data.datasets import REPO_ROOT
from resnet_core.models import CifarNet, NetConfig
from resnet_core.provenance import sha256_file, write_json

CHECKPOINT_DIR = REPO_ROOT / "assets" / "checkpoints"
MANIFEST_PATH = CHECKPOINT_DIR / "manifest.json"
FORMAT = "resnet-lab-checkpoint-1"


def save_checkpoint(model: CifarNet, path: Path | str, *, meta: dict | None = None, half: bool = True) -> Path:
    """Save weights (fp16 floats by default: half the bytes, accuracy unchanged to ~0.1%) and the config."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        k: (v.detach().cpu().half() if half and v.is_floating_point() else v.detach().cpu())
        for k, v in model.state_dict().items()
    }
    # Plain JSON types only in meta, so that weights_only loading accepts the file.
    meta = json.loads(json.dumps(meta or {}, default=str))
    torch.save({"format": FORMAT, "net_config": model.config.to_dict(), "state_dict": state, "meta": meta}, path)
    return path


class CheckpointError(ValueError):
    """A checkpoint that must not be used (damaged, changed, non-finite); the message says how to restore it."""


_VERIFIED: set[tuple[str, int, int]] = set()  # (resolved path, size, mtime_ns) of shipped files whose hash matched
_VERIFY_LOCK = threading.Lock()


def _manifest_entry(path: Path) -> dict | None:
    """The manifest entry of a shipped checkpoint (a file inside CHECKPOINT_DIR), else None."""
    try:
        if path.resolve().parent != CHECKPOINT_DIR.resolve():
            return None
        entries = read_manifest(MANIFEST_PATH).get("checkpoints", {})
    except (OSError, ValueError):
        return None
    return next((e for e in entries.values() if e.get("file") == path.name), None)


def restore_hint(path: Path, entry: dict | None = None) -> str:
    entry = entry if entry is not None else _manifest_entry(path)
    try:
        rel = path.resolve().relative_to(REPO_ROOT)
    except ValueError:
        rel = path
    hint = f"Restore it with `git checkout -- {rel}`"
    if entry and entry.get("command"):
        hint += f", or rebuild it with `{entry['command']}`"
    return hint + "."


def verify_shipped(path: Path) -> None:
    """sha256 of a shipped checkpoint against the manifest, once per file version per process."""
    entry = _manifest_entry(path)
    if not entry or not entry.get("sha256"):
        return
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _VERIFY_LOCK:
        if key in _VERIFIED:
            return
        digest = sha256_file(path)
        if digest != entry["sha256"]:
            raise CheckpointError(
                f"{path.name} does not match the sha256 recorded in the manifest (the file is "
                f"damaged or was changed: {digest[:12]}… instead of {entry['sha256'][:12]}…). "
                f"{restore_hint(path, entry)}"
            )
        _VERIFIED.add(key)


def load_checkpoint(path: Path | str, *, device: torch.device | str = "cpu") -> tuple[CifarNet, dict]:
    """Rebuild the network and load its weights (fp32 for computing); returns (model in eval mode, meta).
    Shipped files are checked against the manifest's sha256 (once per process); all weights must be finite."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} is missing. {restore_hint(path)}")
    verify_shipped(path)
    try:
        # TorchVersion: allowed for files written before meta was reduced to plain JSON types.
        with torch.serialization.safe_globals([TorchVersion]):
            blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"{path.name} is not a readable ResNet Lab checkpoint ({exc})") from exc
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise ValueError(f"{path.name} is not a ResNet Lab checkpoint (format {blob.get('format')!r})")
    state = blob["state_dict"]
    bad = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise CheckpointError(
            f"{path.name} holds non-finite weights (NaN or infinity in {', '.join(bad[:3])}"
            f"{' …' if len(bad) > 3 else ''}). {restore_hint(path)}"
        )
    model = CifarNet(NetConfig(**blob["net_config"]))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return model.to(device).eval(), blob.get("meta", {})


def read_manifest(path: Path = MANIFEST_PATH) -> dict[str, Any]:
    if not path.is_file():
        return {"checkpoints": {}}
    return json.loads(path.read_text())


def record_in_manifest(checkpoint: Path, entry: dict, manifest_path: Path = MANIFEST_PATH) -> dict:
    """Add or replace the manifest entry for ``checkpoint`` (keyed by file name), with its sha256."""
    manifest = read_manifest(manifest_path)
    entry = {**entry, "file": checkpoint.name, "sha256": sha256_file(checkpoint), "bytes": checkpoint.stat().st_size}
    manifest.setdefault("checkpoints", {})[checkpoint.stem] = entry
    write_json(manifest_path, manifest)
    return entry


def shipped_checkpoints() -> dict[str, dict]:
    """Manifest entries whose files are present, keyed by name (e.g. 'resnet56')."""
    entries = read_manifest().get("checkpoints", {})
    return {name: e for name, e in entries.items() if (CHECKPOINT_DIR / e["file"]).is_file()}


def shipped_path(name: str) -> Path:
    entries = read_manifest().get("checkpoints", {})
    if name not in entries:
        raise FileNotFoundError(
            f"no shipped checkpoint named {name!r} (have: {', '.join(sorted(entries)) or 'none'}). "
            "Train one with `python -m resnet_core train ... --out assets/checkpoints/NAME.pt --manifest`."
        )
    return CHECKPOINT_DIR / entries[name]["file"]


# ------------------------------------------------------------------------------- torchvision ImageNet weights

TORCHVISION_WEIGHTS = {
    "resnet18": "ResNet18_Weights",
    "resnet34": "ResNet34_Weights",
    "resnet50": "ResNet50_Weights",
}


def imagenet_weights_file(arch: str) -> Path:
    """Where torchvision keeps (or would download) the ImageNet weights for ``arch`` ($TORCH_HOME honoured)."""
    import torchvision.models as tvm

    weights = getattr(tvm, TORCHVISION_WEIGHTS[arch]).IMAGENET1K_V1
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name


def imagenet_weights_available(arch: str) -> bool:
    return imagenet_weights_file(arch).is_file()


def build_imagenet_resnet(arch: str, num_classes: int, *, download: bool = False) -> nn.Module:
    """torchvision ResNet-18/34/50 with ImageNet weights (from the torch cache, or downloaded if allowed) and a
    new ``num_classes`` head. Offline without the file: a FileNotFoundError that says where to put it."""
    import torchvision.models as tvm

    if arch not in TORCHVISION_WEIGHTS:
        raise ValueError(f"unknown architecture {arch!r}; choose one of {sorted(TORCHVISION_WEIGHTS)}")
    file = imagenet_weights_file(arch)
    model = getattr(tvm, arch)(weights=None)
    if file.is_file():
        state = torch.load(file, map_location="cpu", weights_only=True)
    elif download:
        state = getattr(tvm, TORCHVISION_WEIGHTS[arch]).IMAGENET1K_V1.get_state_dict(progress=False)
    else:
        raise FileNotFoundError(
            f"ImageNet weights for {arch} are not on this machine. Put {file.name} in {file.parent} "
            f"(set TORCH_HOME to move that folder), or run where the internet is reachable."
        )
    model.load_state_dict(state)
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model
