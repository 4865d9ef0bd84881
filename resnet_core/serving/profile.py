"""Where the lab runs: ``local`` (default: a laptop or a classroom server you control) or ``hosted`` (a public
demo). Set with ``RESNET_LAB_PROFILE=hosted``.

The hosted profile caps every knob that multiplies the work of one job, so that any single run stays within a few
minutes on a CPU (measured on a 2-core CPU: a ResNet-20 transfer run of 8 epochs at k=50 takes ~20-40 s, so
5 strategies x 2 seeds stay under ~5 min), and caps uploads; ``max_job_seconds`` is the backstop for anything
the caps miss. Everything else is the same in both profiles.

Environment (both profiles): ``RESNET_LAB_MAX_JOBS`` (runs training at once, default 1),
``RESNET_LAB_MAX_JOB_SECONDS`` (per-job time cap; default none locally, 300 hosted; 0 = none),
``RESNET_LAB_SESSION_TIMEOUT`` (seconds without a poll after which a closed tab's jobs are cancelled, default 30).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from resnet_core.data.uploads import UploadLimits


@dataclass(frozen=True)
class Profile:
    name: str
    max_epochs: int  # per run, every page
    max_seeds: int  # seeds per comparison / sweep cell
    max_shots: int  # labelled images per class (transfer)
    max_test_per_class: int  # transfer test images per class (0 = all is refused when capped)
    max_depth: int  # CIFAR-style nets (6n+2)
    max_train_images: int  # Home / degradation / ablation training subsets
    max_upload_mb: int
    max_upload_megapixels: int  # decoded pixels over the whole upload
    max_upload_seconds: float
    max_job_seconds: float | None  # None: no cap
    session_timeout: float = 30.0  # a job whose panel has not polled for this long is cancelled

    @property
    def capped(self) -> bool:
        return self.name != "local"

    def upload_limits(self) -> UploadLimits:
        return UploadLimits(
            max_upload_bytes=self.max_upload_mb * 2**20,
            max_total_pixels=self.max_upload_megapixels * 1_000_000,
            max_seconds=self.max_upload_seconds,
        )


LOCAL = Profile(
    "local",
    max_epochs=100,
    max_seeds=5,
    max_shots=900,
    max_test_per_class=1000,
    max_depth=110,
    max_train_images=60000,
    max_upload_mb=50,
    max_upload_megapixels=200,
    max_upload_seconds=120,
    max_job_seconds=None,
)
HOSTED = Profile(
    "hosted",
    max_epochs=8,
    max_seeds=2,
    max_shots=50,
    max_test_per_class=200,
    max_depth=56,
    max_train_images=5000,
    max_upload_mb=10,
    max_upload_megapixels=50,
    max_upload_seconds=30,
    max_job_seconds=300,
)
PROFILES = {"local": LOCAL, "hosted": HOSTED}


def _env_float(name: str) -> float | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r} is not a number of seconds") from exc
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"{name}={raw!r} must be a finite number >= 0")
    return value


def current_profile() -> Profile:
    """The profile named by RESNET_LAB_PROFILE (default local), with the environment's overrides applied."""
    name = os.environ.get("RESNET_LAB_PROFILE", "local").strip().lower() or "local"
    if name not in PROFILES:
        raise ValueError(f"RESNET_LAB_PROFILE={name!r}: choose one of {', '.join(PROFILES)}")
    profile = PROFILES[name]
    cap = _env_float("RESNET_LAB_MAX_JOB_SECONDS")
    if cap is not None:
        profile = replace(profile, max_job_seconds=cap or None)
    timeout = _env_float("RESNET_LAB_SESSION_TIMEOUT")
    if timeout:
        profile = replace(profile, session_timeout=timeout)
    return profile
