"""Numbers as the app writes them: 1.2×10⁻⁴ for very small or large values, plain digits otherwise."""

from __future__ import annotations

import math

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def superscript(n: int) -> str:
    return str(n).translate(_SUPERSCRIPT)


def fmt_number(x: float | None, digits: int = 2) -> str:
    """'10⁶' / '1.6×10⁻²' beyond [0.01, 1000), '0.26' / '36' / '112' inside it; 'not finite' for None, NaN, inf."""
    if x is None or not math.isfinite(x):
        return "not finite"
    if x == 0:
        return "0"
    if abs(x) >= 1000 or abs(x) < 0.01:
        exp = math.floor(math.log10(abs(x)))
        mant = x / 10**exp
        return f"10{superscript(exp)}" if round(mant, 1) == 1.0 else f"{mant:.1f}×10{superscript(exp)}"
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.{digits}g}"
