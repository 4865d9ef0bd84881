"""The bench's settings: which model, how many steps and repeats, which rows (defaults differ on a CPU and CUDA)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch


@dataclass
class BenchConfig:
    model: str = "resnet20"  # resnetD or plainD, D = 6n+2
    steps: int | None = None  # per row; default 20 on CPU, 200 on CUDA
    warmup: int | None = None  # steps excluded from the timing; default 5 on CPU, 50 on CUDA
    batch_size: int | None = None  # default 128 on CPU, 512 on CUDA
    repeats: int = 5
    threads: int | None = None  # torch CPU threads for the whole run (None: the process's setting)
    workers: int | None = None  # DataLoader workers of the tutorial loop (None: 4 persistent on CUDA, 0 on a CPU)
    dataset: str = "bundled"
    compile: bool = False  # add a torch.compile row
    compile_mode: str | None = None  # its mode; None: "reduce-overhead" on CUDA (CUDA graphs), default elsewhere
    tf32: bool = False  # CUDA: allow TF32 convolutions/matmuls (off: the fp32 rows are fp32)
    pages: bool = True  # rows for the page defaults (transfer, gradients, delete-one)
    page_repeats: int | None = None  # default: repeats
    features: bool = True  # run (c)
    head_epochs: int = 10
    feature_images: int | None = None  # images for (c); default 1,000 on CPU, all on CUDA
    profile: bool = False  # torch.profiler over a few engine steps; top ops go in the result
    seed: int = 0

    def resolved(self, device: torch.device) -> BenchConfig:
        cuda = device.type == "cuda"
        out = BenchConfig(**asdict(self))
        out.steps = self.steps or (200 if cuda else 20)
        out.warmup = self.warmup if self.warmup is not None else (50 if cuda else 5)
        out.warmup = max(1, min(out.warmup, out.steps - 1))
        out.batch_size = self.batch_size or (512 if cuda else 128)
        out.feature_images = self.feature_images or (None if cuda else 1000)
        out.compile_mode = self.compile_mode or ("reduce-overhead" if cuda else None)
        out.page_repeats = self.page_repeats or self.repeats
        return out

    def to_dict(self) -> dict:
        return asdict(self)
