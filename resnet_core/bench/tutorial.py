"""The bench's tutorial-style loop (a per-sample Dataset with torchvision transforms and a DataLoader, as the
PyTorch tutorials write it) and the peak-memory meter every row uses."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from resnet_core.data.datasets import DATASET_STATS, ImageSet
from resnet_core.training import engine
from resnet_core.training.numerics import FastPath, StepScaler


def steady_rate(times: dict[int, float], warmup: int, steps: int, batch_size: int) -> float:
    """Images/s between the end of step ``warmup`` and the end of step ``steps``."""
    return (steps - warmup) * batch_size / max(1e-9, times[steps] - times[warmup])


class PeakMemory:
    """Peak memory while a row runs: torch's allocator on CUDA; on MPS the Metal allocator's current allocation
    (``torch.mps.current_allocated_memory``), sampled every 10 ms; on a CPU the process's resident set size,
    sampled every 10 ms (the whole process: Python, torch and the data, not the row alone)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def rss() -> int:
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            import resource

            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def current(self) -> int:
        if self.device.type == "mps":
            return int(torch.mps.current_allocated_memory())
        return self.rss()

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self.current())

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            self.peak = self.current()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.peak = torch.cuda.max_memory_allocated(self.device)
        else:
            self._stop.set()
            if self._thread is not None:
                self._thread.join()
            if self.device.type == "mps":
                torch.mps.synchronize()
            self.peak = max(self.peak, self.current())

    @property
    def mb(self) -> float:
        return self.peak / 2**20


class TutorialDataset(torch.utils.data.Dataset):
    """What the PyTorch tutorials do: one PIL image at a time through torchvision transforms."""

    def __init__(self, data: ImageSet) -> None:
        from torchvision import transforms

        self.images = data.images.cpu().numpy()
        self.labels = data.labels.cpu().numpy()
        mean, std = DATASET_STATS.get(data.channels, DATASET_STATS[1])
        h = data.images.shape[-1]
        self.transform = transforms.Compose(
            [
                transforms.RandomCrop(h, padding=2),
                transforms.RandomHorizontalFlip(),
                transforms.ToTensor(),
                transforms.Normalize(mean, std),
            ]
        )

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        from PIL import Image

        img = self.images[i]
        pil = Image.fromarray(img[0], mode="L") if img.shape[0] == 1 else Image.fromarray(np.transpose(img, (1, 2, 0)))
        return self.transform(pil), int(self.labels[i])


def tutorial_workers(device: torch.device, requested: int | None) -> int:
    """DataLoader workers as a good tutorial sets them: on CUDA a few (persistent) workers decode while the GPU
    computes; on a CPU they would compete with the compute for the same cores, so none (unless asked)."""
    if requested is not None:
        return requested
    return min(4, os.cpu_count() or 1) if device.type == "cuda" else 0


def tutorial_row(build, data: ImageSet, cfg, device: torch.device, seed: int, *, numerics: bool = False) -> dict:
    """The tutorial loop. ``numerics``: with the engine's fast path (same autocast dtype and channels-last), so
    that the row differs from the engine only in the data pipeline and the per-step host sync."""
    model = engine.seeded(lambda: build(data.channels, data.num_classes), seed).to(device)
    fp = engine.fast_path(device) if numerics else FastPath()
    if fp.channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = engine.make_optimizer(model.parameters(), engine.TrainConfig())
    scaler = StepScaler(fp, device)
    gen = torch.Generator().manual_seed(seed)
    workers = tutorial_workers(device, cfg.workers)
    pin = device.type == "cuda"
    loader = torch.utils.data.DataLoader(
        TutorialDataset(data),
        batch_size=cfg.batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=workers,
        generator=gen,
        pin_memory=pin,
        persistent_workers=workers > 0,  # no re-spawn at every epoch inside the timed window
    )
    model.train()
    times: dict[int, float] = {}
    data_time = 0.0
    step = 0
    with PeakMemory(device) as mem:
        start = time.perf_counter()
        while step < cfg.steps:
            fetch = time.perf_counter()
            for x, y in loader:
                x, y = x.to(device, non_blocking=pin), y.to(device, non_blocking=pin)
                if fp.channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                if step >= cfg.warmup:
                    data_time += time.perf_counter() - fetch
                with fp.autocast(device):
                    logits = model(x)
                loss = F.cross_entropy(logits.float(), y)
                optimizer.zero_grad()
                scaler.backward(loss)
                scaler.step(optimizer)
                loss.item()  # the tutorial's running-loss print: one host sync per step
                step += 1
                times[step] = time.perf_counter() - start
                if step >= cfg.steps:
                    break
                fetch = time.perf_counter()
    rate = steady_rate(times, cfg.warmup, cfg.steps, cfg.batch_size)
    timed = max(1e-9, times[cfg.steps] - times[cfg.warmup])
    return {
        "img_per_s": rate,
        "peak_mem_mb": mem.mb,
        "data_fraction": data_time / timed,
        "numerics": fp.describe(),
        "workers": workers,
    }
