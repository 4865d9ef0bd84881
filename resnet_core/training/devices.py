"""Choose a torch device (cuda -> mps -> cpu, or the user's pick) and describe it for people."""

from __future__ import annotations

from dataclasses import dataclass

import torch


def available_devices() -> list[str]:
    """Device names that exist on this machine, best first."""
    names = []
    if torch.cuda.is_available():
        names.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        names.append("mps")
    names.append("cpu")
    return names


def pick_device(preferred: str | None = None) -> torch.device:
    """The user's device if it exists, else the best available one.

    An unknown or missing device type falls back instead of failing: a shared link opened on a laptop without a
    GPU should still work, just slower. A CUDA index that does not exist (``cuda:7`` on a one-GPU machine) is a
    ValueError that names the devices there are: it is a typo, not a missing GPU.
    """
    names = available_devices()
    if preferred and preferred.split(":")[0] in names:
        device = torch.device(preferred)
        if device.type == "cuda" and device.index is not None:
            count = torch.cuda.device_count()
            if device.index >= count:
                raise ValueError(
                    f"{preferred} does not exist: this machine has {count} CUDA device(s) "
                    f"({', '.join(f'cuda:{i}' for i in range(count))})"
                )
        return device
    return torch.device(names[0])


@dataclass(frozen=True)
class DeviceInfo:
    name: str  # "cuda", "mps", "cpu"
    label: str  # human name, e.g. "NVIDIA H100 80GB HBM3" or "CPU (2 threads)"
    memory_gb: float | None  # total device memory, None where torch cannot tell

    def describe(self) -> str:
        mem = f", {self.memory_gb:.0f} GB" if self.memory_gb else ""
        return f"{self.label}{mem}"


def describe_device(device: torch.device | str) -> DeviceInfo:
    device = torch.device(device)
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return DeviceInfo("cuda", props.name, props.total_memory / 2**30)
    if device.type == "mps":
        return DeviceInfo("mps", "Apple GPU (MPS)", None)
    n = torch.get_num_threads()
    return DeviceInfo("cpu", f"CPU ({n} thread{'s' if n != 1 else ''})", None)


def synchronize(device: torch.device) -> None:
    """Wait for queued device work, so wall-clock timings mean what they say."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()
