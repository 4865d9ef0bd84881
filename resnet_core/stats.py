"""Small statistics for verdicts: means with Student-t 95% intervals over seeds, and a test-set standard error."""

from __future__ import annotations

import math
from dataclasses import dataclass

# Two-sided 95% Student-t quantiles t_{0.975, df}, df = 1..30; beyond 30 the normal 1.96 is within 2%.
_T975_TEXT = (
    "12.706 4.303 3.182 2.776 2.571 2.447 2.365 2.306 2.262 2.228 2.201 2.179 2.160 2.145 2.131 "
    "2.120 2.110 2.101 2.093 2.086 2.080 2.074 2.069 2.064 2.060 2.056 2.052 2.048 2.045 2.042"
)
_T975 = [float(t) for t in _T975_TEXT.split()]


def t975(df: int) -> float:
    if df < 1:
        return math.inf  # one value: no interval
    return _T975[df - 1] if df <= len(_T975) else 1.96


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float  # nan with a single value: one seed has no interval
    high: float
    n: int
    sd: float

    @property
    def excludes_zero(self) -> bool:
        return self.n > 1 and (self.low > 0 or self.high < 0)

    def to_dict(self) -> dict:
        return {"mean": self.mean, "low": self.low, "high": self.high, "n": self.n, "sd": self.sd}


def mean_interval(values: list[float]) -> Interval:
    """Mean with its two-sided 95% t-interval (n >= 2; with n = 1 the bounds are nan)."""
    vals = [float(v) for v in values if v is not None and math.isfinite(v)]
    n = len(vals)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, math.nan)
    mean = sum(vals) / n
    if n == 1:
        return Interval(mean, math.nan, math.nan, 1, math.nan)
    sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1))
    half = t975(n - 1) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n, sd)


def binomial_se(p: float, n: int) -> float:
    """Standard error of an accuracy p measured on n test images: sqrt(p(1-p)/n)."""
    if n <= 0 or not math.isfinite(p):
        return math.nan
    return math.sqrt(max(0.0, p * (1 - p)) / n)
