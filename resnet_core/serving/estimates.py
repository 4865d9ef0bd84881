"""Time a class can plan on: "≈ N s on this server" before a run starts, and time left while it runs.

The cost model counts work in multiply-accumulates (MACs) of the real networks — counted once per depth with
``resnet_core.macs`` — as training MACs (forward + backward ≈ 3× forward) and evaluation MACs, plus a
fixed cost per network built. Seconds per MAC come from a calibration timed on this server (a few training steps and
one evaluation of a ResNet-20 through the engine's own code; about a second), so the figure is this machine's,
not one measured elsewhere. The app times it once when the server starts, before a class arrives (timed while
thirty tabs load their pages, it came out 4-10x too long), and keeps it on disk next to the result store
(``calibration.json``, per machine, threads and torch version, for a week), so a restart needs no new timing. Every finished run then
refines it: the ratio actual ÷ predicted is kept per kind of run, and later estimates of that kind are scaled by
the median of the recent ratios. Nothing here imports streamlit.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import torch

from resnet_core.i18n import _, ngettext
from resnet_core.training.threads import workers


@dataclass(frozen=True)
class Work:
    """The work of one job: what kind of run, how many MACs of each sort, how many networks it builds."""

    kind: str
    train_macs: float = 0.0
    eval_macs: float = 0.0
    nets: int = 1
    runs: int = 1  # independent runs: on a CPU they compute side by side, one per core (resnet_core.training.threads)


@dataclass(frozen=True)
class Calibration:
    train_s_per_mac: float
    eval_s_per_mac: float
    net_s: float  # building (and moving) one network
    seconds: float  # how long calibrating took


@dataclass(frozen=True)
class Estimate:
    kind: str
    seconds: float  # the model's prediction, before the correction learnt from runs
    factor: float  # median of actual / predicted over the runs of this kind seen here (1.0: none yet)
    runs_seen: int

    @property
    def total(self) -> float:
        return self.seconds * self.factor

    def text(self) -> str:
        seen = (
            _("from a timed calibration; no run of this kind seen yet")
            if self.runs_seen == 0
            else ngettext(
                "calibrated, and refined by {n} run seen here",
                "calibrated, and refined by {n} runs seen here",
                self.runs_seen,
            ).format(n=self.runs_seen)
        )
        return _("≈ {time} on this server ({seen}).").format(time=duration_text(self.total), seen=seen)


def duration_text(seconds: float) -> str:
    if seconds < 60:
        return _("{s} s").format(s=max(1, round(seconds)))
    if seconds < 3600:
        return _("{m} min {s} s").format(m=int(seconds // 60), s=round(seconds % 60))
    return _("{h} h {m} min").format(h=int(seconds // 3600), m=round(seconds % 3600 / 60))


# ------------------------------------------------------------------------------------------------ counting
@cache
def forward_macs(depth: int, *, residual: bool = True, in_channels: int = 1, size: int = 28, width: int = 16) -> int:
    """MACs of one forward pass of one image through the lab's CIFAR-style net, counted on the real module."""
    from resnet_core.macs import count_macs
    from resnet_core.models import build_cifar_net

    model = build_cifar_net(depth, residual=residual, in_channels=in_channels, width=width).eval()
    with torch.no_grad(), count_macs(model) as counted:
        model(torch.zeros(1, in_channels, size, size))
    return counted.total


# ------------------------------------------------------------------------------------------------ calibration
_calibrations: dict[str, Calibration] = {}
_lock = threading.Lock()


def calibrate(device: torch.device | str) -> Calibration:
    """Seconds per training MAC, per evaluation MAC and per network on ``device``: kept from an earlier timing of
    this machine when there is one, else timed now (once per process)."""
    key = str(device)
    with _lock:
        if key not in _calibrations:
            kept = _kept_calibration(key)
            _calibrations[key] = kept if kept is not None else _time_calibration(torch.device(device))
            if kept is None:
                _keep_calibration(key, _calibrations[key])
        return _calibrations[key]


KEEP_FOR = 7 * 24 * 3600.0  # seconds a kept calibration is trusted


def _calibration_file() -> Path:
    from resnet_core.serving.store import default_root

    return default_root() / "calibration.json"


def machine_fingerprint(device: str) -> str:
    """What a calibration depends on: the device, the CPU, the threads torch uses and the torch version."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return f"{device}|{cpu}|{os.cpu_count()} cpus|{torch.get_num_threads()} threads|torch {torch.__version__}"


def _kept_calibration(device: str) -> Calibration | None:
    try:
        kept = json.loads(_calibration_file().read_text()).get(machine_fingerprint(device))
    except (OSError, ValueError, AttributeError):
        return None
    if not kept or time.time() - float(kept.get("measured", 0)) > KEEP_FOR:
        return None
    fields = {k: float(kept[k]) for k in ("train_s_per_mac", "eval_s_per_mac", "net_s", "seconds") if k in kept}
    return Calibration(**fields) if len(fields) == 4 else None


def _keep_calibration(device: str, cal: Calibration) -> None:
    from resnet_core.provenance import write_json

    path = _calibration_file()
    try:
        kept = json.loads(path.read_text())
    except (OSError, ValueError):
        kept = {}
    kept[machine_fingerprint(device)] = {**asdict(cal), "measured": time.time()}
    try:
        write_json(path, kept)
    except OSError:
        pass  # a read-only cache folder: time again next start


def _time_calibration(device: torch.device) -> Calibration:
    from resnet_core.data.datasets import load_dataset
    from resnet_core.models import build_cifar_net
    from resnet_core.training.engine import TrainConfig, evaluate, seeded, train

    t0 = time.perf_counter()
    data = load_dataset("bundled")
    batch, steps = 128, 3
    subset = data.train.subset(list(range(batch * steps)))
    start = time.perf_counter()
    model = seeded(lambda: build_cifar_net(20), 0).to(device)
    net_s = time.perf_counter() - start
    with torch.random.fork_rng(devices=[]):
        config = TrainConfig(epochs=1, batch_size=batch, max_steps=1, eval_every_epoch=False, log_every=10**6)
        train(model, subset, config, device=device)  # warm-up: first-step allocations and kernel choices
        start = time.perf_counter()
        train(model, subset, TrainConfig(**{**config.to_dict(), "max_steps": steps}), device=device)
        train_s = time.perf_counter() - start
    test = data.test.subset(list(range(512)))
    evaluate(model, test.subset(list(range(128))), device=device)
    start = time.perf_counter()
    evaluate(model, test, device=device)
    eval_s = time.perf_counter() - start
    macs = forward_macs(20)
    return Calibration(
        train_s_per_mac=train_s / (3.0 * macs * batch * steps),
        eval_s_per_mac=eval_s / (float(macs) * len(test)),
        net_s=net_s,
        seconds=time.perf_counter() - t0,
    )


# ------------------------------------------------------------------------------------------------ refinement
_ratios: dict[str, deque[float]] = defaultdict(lambda: deque(maxlen=8))


def observe(estimate: Estimate, actual_seconds: float) -> None:
    """A finished run of this kind took ``actual_seconds``: remember actual ÷ predicted."""
    if estimate.seconds > 0 and math.isfinite(actual_seconds) and actual_seconds > 0:
        with _lock:
            _ratios[estimate.kind].append(actual_seconds / estimate.seconds)


def forget_observations() -> None:
    with _lock:
        _ratios.clear()
        _probed.clear()


ProbeFn = Callable[[torch.device], tuple[Work, float]]
_probes: dict[str, ProbeFn] = {}
_probed: set[tuple[str, str]] = set()


def register_probe(kind: str, probe: ProbeFn) -> None:
    """A small real run of ``kind`` (returns its work and the seconds it took), timed the first time a run of
    that kind is estimated on a device: it counts as the first run seen, so small-batch and per-network costs
    that MACs do not capture are in the estimate from the start."""
    _probes[kind] = probe


def predicted_seconds(work: Work, device: torch.device | str) -> float:
    cal = calibrate(device)
    compute = work.train_macs * cal.train_s_per_mac + work.eval_macs * cal.eval_s_per_mac
    return compute / max(1, min(work.runs, workers(device))) + work.nets * cal.net_s


def estimate(work: Work, device: torch.device | str) -> Estimate:
    key = (work.kind, str(device))
    if work.kind in _probes and key not in _probed:
        probe_work, seconds = _probes[work.kind](torch.device(device))
        observe(Estimate(work.kind, predicted_seconds(probe_work, device), 1.0, 0), seconds)
        _probed.add(key)
    seconds = predicted_seconds(work, device)
    with _lock:
        seen = list(_ratios.get(work.kind, ()))
    return Estimate(work.kind, seconds, statistics.median(seen) if seen else 1.0, len(seen))


_background: dict[tuple[str, str], threading.Thread] = {}


def _estimate_soon(work: Work, device: torch.device | str, delay: float = 0.5) -> None:
    time.sleep(delay)  # let the page that asked finish drawing before the timing takes the CPU
    estimate(work, device)


def ready_estimate(work: Work, device: torch.device | str) -> Estimate | None:
    """The estimate if this server's calibration (and the kind's probe) is done, else None — and the timing starts
    in a background thread, so a page never waits for it (it shows "timing this server…" and the figure on the
    next rerun)."""
    key = (work.kind, str(device))
    cal_ready = str(device) in _calibrations
    probe_ready = work.kind not in _probes or key in _probed
    if cal_ready and probe_ready:
        return estimate(work, device)
    with _lock:
        thread = _background.get(key)
        if thread is None or not thread.is_alive():
            thread = threading.Thread(
                target=_estimate_soon, args=(work, device), name=f"resnet-lab-calibrate-{work.kind}", daemon=True
            )
            _background[key] = thread
            thread.start()
    return None


def calibrate_soon(device: torch.device | str, delay: float = 1.0) -> threading.Thread:
    """Time this server in the background (unless a kept calibration fits): the app calls it when it starts."""

    def later() -> None:
        time.sleep(delay)
        calibrate(device)

    thread = threading.Thread(target=later, name="resnet-lab-calibrate-start", daemon=True)
    thread.start()
    return thread


def time_left(est: Estimate, elapsed: float) -> float:
    """Seconds left by the estimate (never negative); a run past its estimate has "a little longer" left."""
    return max(0.0, est.total - elapsed)
