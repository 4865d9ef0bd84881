"""The bench's result: one row per loop (images/s, median and spread over repeats, peak memory), the speedups
measured side by side, the page defaults' wall times, and how the run was made."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class BenchResult:
    device: str  # "cpu" / "cuda"
    device_label: str
    rows: list[dict]  # name, img_per_s (median), peak_mem_mb, img_per_s_all, ...
    speedup_vs_tutorial: float | None
    feature_cache_speedup: float | None
    speedup_all: list[float] = field(default_factory=list)  # one ratio per repeat (same-repeat rows)
    numerics: str = ""
    threads: int = 0
    config: dict = field(default_factory=dict)
    profile: list[dict] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)
    page_rows: list[dict] = field(default_factory=list)  # one per page default: wall s, images/s, spread
    cuda_flags: dict = field(default_factory=dict)  # TF32 / cudnn.benchmark as set for the run (CUDA only)
    speedup_vs_tutorial_numerics: float | None = None  # engine fast path / tutorial loop with the same numerics

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> BenchResult:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})
