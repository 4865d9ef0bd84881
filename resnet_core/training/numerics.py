"""What "fast" means on each device: memory format, autocast dtype, loss scaling, and the CUDA backend flags.

- CPU: channels-last, plus bf16 autocast where the CPU has native bf16 (AVX512-BF16 / AMX); elsewhere bf16 is
  emulated and slower than fp32 (measured in docs/PERFORMANCE.md).
- CUDA: channels-last, and bf16 autocast only where the GPU computes bf16 natively (compute capability >= 8.0:
  A100, H100, RTX 30xx/40xx); below that (T4, V100) bf16 errors or runs emulated and slower than fp32, so those
  get fp16 autocast with a GradScaler (fp16's narrow range needs loss scaling).
- MPS and anything else: plain fp32.

``configure_cuda`` sets (and ``cuda_flags`` reports) TF32 and cudnn.benchmark, so that a "fp32" row says what
the GPU really ran.
"""

from __future__ import annotations

import functools
import os
from contextlib import nullcontext
from dataclasses import dataclass

import torch
from torch import nn


@functools.lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware (AVX512-BF16 or AMX). Elsewhere bf16 is emulated and slower
    than fp32, so the CPU fast path stays fp32 there."""
    if os.environ.get("RESNET_LAB_CPU_BF16") in ("0", "1"):
        return os.environ["RESNET_LAB_CPU_BF16"] == "1"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


@dataclass(frozen=True)
class FastPath:
    """What ``fast=True`` means on one device: memory format and autocast dtype (None: fp32)."""

    channels_last: bool = False
    autocast_dtype: torch.dtype | None = None

    @property
    def needs_scaler(self) -> bool:
        return self.autocast_dtype == torch.float16

    def autocast(self, device: torch.device):
        if self.autocast_dtype is None:
            return nullcontext()
        return torch.autocast(device.type, dtype=self.autocast_dtype)

    def describe(self) -> str:
        names = {torch.bfloat16: "bf16 autocast", torch.float16: "fp16 autocast + GradScaler"}
        parts = [names.get(self.autocast_dtype, str(self.autocast_dtype)) if self.autocast_dtype else "fp32"]
        if self.channels_last:
            parts.append("channels-last")
        return " + ".join(parts)


def cuda_capability(device: torch.device) -> tuple[int, int] | None:
    """(major, minor) compute capability of a CUDA device, None where CUDA is not there."""
    try:
        return tuple(torch.cuda.get_device_capability(device))  # type: ignore[return-value]
    except (AssertionError, RuntimeError):
        return None


def cuda_bf16_native(device: torch.device) -> bool:
    """bf16 in hardware: compute capability 8.0 or newer. Unknown (no CUDA here): False."""
    cap = cuda_capability(device)
    return cap is not None and cap >= (8, 0)


def fast_path(device: torch.device | str, fast: bool = True) -> FastPath:
    """CUDA: channels-last + bf16 autocast (>= 8.0) or fp16 autocast with loss scaling (older GPUs). CPU: channels-last, plus bf16 autocast on CPUs with native bf16
    (measured in docs/PERFORMANCE.md). Other devices, or ``fast=False``: plain fp32."""
    device = torch.device(device)
    if not fast:
        return FastPath()
    if device.type == "cuda":
        return FastPath(True, torch.bfloat16 if cuda_bf16_native(device) else torch.float16)
    if device.type == "cpu":
        return FastPath(True, torch.bfloat16 if cpu_has_native_bf16() else None)
    return FastPath()


def use_fast_path(device: torch.device, config_fast: bool = True) -> bool:
    """Whether any fast-path setting is active on ``device``."""
    return fast_path(device, config_fast) != FastPath()


def autocast_for(device: torch.device, fast: bool):
    return fast_path(device, fast).autocast(device)


def set_cpu_threads(n: int | None) -> int:
    """Set torch's intra-op CPU threads (None leaves it) and return the count in force. On a CPU shared with other
    busy processes, fewer threads than cores can be faster: see docs/PERFORMANCE.md."""
    if n is not None and n > 0:
        torch.set_num_threads(n)
    return torch.get_num_threads()


def maybe_compile(model: nn.Module, enabled: bool, mode: str | None = None) -> nn.Module:
    """``torch.compile(model, mode=mode)`` when asked and available, else the model itself. Compilation happens
    lazily at the first call; ``train`` catches a failure there and carries on in eager mode. On CUDA
    ``mode="reduce-overhead"`` replays the step's kernels as a CUDA graph: the default mode still launches
    ~400 kernels per ResNet-20 step, which at batch 512 costs more than the arithmetic."""
    if not enabled or not hasattr(torch, "compile"):
        return model
    try:
        return torch.compile(model, mode=mode)
    except Exception:  # any failure means: run eagerly
        return model


class StepScaler:
    """loss.backward() and optimizer.step(), with fp16 loss scaling (torch.amp.GradScaler) when the fast path
    runs fp16 autocast, plain otherwise."""

    def __init__(self, fp: FastPath, device: torch.device) -> None:
        self.scaler = torch.amp.GradScaler(device.type) if fp.needs_scaler else None

    def backward(self, loss: torch.Tensor) -> None:
        (self.scaler.scale(loss) if self.scaler is not None else loss).backward()

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        if self.scaler is None:
            optimizer.step()
        else:
            self.scaler.step(optimizer)  # skips the step when the scaled gradients overflowed
            self.scaler.update()


def configure_cuda(*, tf32: bool = False, benchmark: bool = True) -> dict:
    """Set the CUDA backend flags the lab runs with and return them. TF32 is off by default, so that "fp32"
    means fp32 (TF32 convolutions are on in PyTorch by default); cudnn.benchmark picks the fastest convolution
    algorithm once per shape (the lab's shapes are fixed)."""
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = benchmark
    return cuda_flags()


def cuda_flags() -> dict:
    """The CUDA flags in force, for labelling benchmark rows."""
    return {
        "tf32_matmul": bool(torch.backends.cuda.matmul.allow_tf32),
        "tf32_cudnn": bool(torch.backends.cudnn.allow_tf32),
        "cudnn_benchmark": bool(torch.backends.cudnn.benchmark),
        "cudnn_deterministic": bool(torch.backends.cudnn.deterministic),
    }
