"""Round ticks on every axis: powers of ten on a log axis, round numbers (at most about six ticks) on a linear one,
percent axes in steps of 10 or 20 %. The figure builders apply :func:`tick_policy` where they make their axes, so
the CLI gets it; the pages apply it again through ``lab_pages.charts.chart`` as a safety net (it is idempotent).
"""

from __future__ import annotations

import math
import re

import plotly.graph_objects as go

# ------------------------------------------------------------------------------------------ reading a figure
_AXIS = re.compile(r"^([xy])axis(\d*)$")


def axis_key(ref: str | None, letter: str) -> str:
    """A trace's axis reference ("x", "y2") -> its layout key ("xaxis", "yaxis2")."""
    ref = ref or letter
    return f"{letter}axis{ref[1:]}"


def axis_keys(fig: go.Figure) -> list[str]:
    """Every cartesian axis of a figure (``xaxis``, ``yaxis2``, ...), those in the layout and those traces use."""
    keys = {k for k in fig.layout.to_plotly_json() if _AXIS.match(k)}
    for trace in fig.data:
        if "xaxis" in trace:
            keys |= {axis_key(trace.xaxis, "x"), axis_key(trace.yaxis, "y")}
    return sorted(keys, key=lambda k: (k[0], int(k[5:] or 1)))


def axis_data(fig: go.Figure, key: str) -> list:
    """The values plotted along one axis by the traces on it and on the axes that match it, error bars included."""
    letter = key[0]
    matches = {k: fig.layout[k].matches for k in axis_keys(fig) if k[0] == letter and fig.layout[k].matches}
    root = axis_key(matches[key], letter) if key in matches else key
    group = {root} | {k for k, m in matches.items() if axis_key(m, letter) == root}
    values: list = []
    for trace in fig.data:
        if "xaxis" not in trace or axis_key(getattr(trace, f"{letter}axis"), letter) not in group:
            continue
        data = trace.to_plotly_json()
        vals = data.get(letter)
        if vals is None or isinstance(vals, dict):  # absent, or a binary-encoded array (images, heatmaps)
            continue
        vals = list(vals)
        values += vals
        err = data.get(f"error_{letter}") or {}
        if err.get("visible", True) and err.get("array") is not None:
            plus = list(err["array"])
            minus = list(err["arrayminus"]) if err.get("arrayminus") is not None else plus
            for v, p, m in zip(vals, plus, minus):
                if _number(v) and _number(p) and _number(m):
                    values += [v + p, v - m]
    return values


def _number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def axis_type(fig: go.Figure, key: str) -> str:
    axis = fig.layout[key]
    if axis.type and axis.type != "-":
        return axis.type
    return "category" if any(isinstance(v, str) for v in axis_data(fig, key)) else "linear"


def visible_axes(fig: go.Figure) -> list[str]:
    return [k for k in axis_keys(fig) if fig.layout[k].visible is not False]


# ------------------------------------------------------------------------------------------ ticks
MAX_TICKS = 6  # linear axes
MAX_DECADES = 9  # labels on a log axis; beyond, every second (third, ...) power of ten


def round_step(span: float, max_intervals: float = MAX_TICKS - 0.5) -> float:
    """The smallest 1-2-5 step (…, 0.1, 0.2, 0.5, 1, 2, …) that cuts ``span`` into at most ``max_intervals``."""
    if not span > 0:
        return 1.0
    exp = math.floor(math.log10(span / max_intervals))
    for e in (exp, exp + 1):
        for m in (1, 2, 5):
            step = round(m * 10.0**e, 12)
            if span / step <= max_intervals:
                return step
    return round(10.0 ** (exp + 2), 12)


def _extent(axis, values: list, log: bool) -> tuple[float, float] | None:
    """The axis's range (as plotly counts it: exponents on a log axis), explicit or from the data."""
    if axis.range is not None and axis.autorange in (None, False) and all(_number(v) for v in axis.range):
        lo, hi = sorted(axis.range)
        return lo, hi
    nums = [v for v in values if _number(v) and (v > 0 or not log)]
    if not nums:
        return None
    lo, hi = min(nums), max(nums)
    return (math.log10(lo), math.log10(hi)) if log else (lo, hi)


def _log_ticks(fig: go.Figure, key: str) -> None:
    axis = fig.layout[key]
    extent = _extent(axis, axis_data(fig, key), log=True)
    span = extent[1] - extent[0] if extent else 0
    if extent and axis.range is None and not axis.matches and math.floor(extent[1]) - math.ceil(extent[0]) < 1:
        # less than two powers of ten inside the data: widen to the enclosing decades, so two or more show
        lo, hi = math.floor(extent[0] + 1e-9), math.ceil(extent[1] - 1e-9)
        axis.range = [lo, hi if hi > lo else lo + 1]
        span = axis.range[1] - axis.range[0]
    axis.update(
        tickmode="linear",
        tick0=0,
        dtick=max(1, math.ceil(span / MAX_DECADES)),
        exponentformat="power",
        # short ranges read 0.1, 1, 10; long ones 10⁻¹⁶ … 1 all as powers
        minexponent=0 if span > 3 else 3,
        showexponent="all",
        minor=dict(ticks="", showgrid=False),
    )


def _linear_ticks(fig: go.Figure, key: str) -> None:
    axis = fig.layout[key]
    if axis.dtick is not None:  # the builder chose a step (e.g. one vote)
        if axis.tickmode in (None, "sync"):
            axis.tickmode = "linear"
        return
    percent = "%" in (axis.tickformat or "")
    extent = _extent(axis, axis_data(fig, key), log=False)
    if percent and extent and extent[1] - extent[0] > 0:
        axis.update(tickmode="linear", tick0=0, dtick=round_step(extent[1] - extent[0]))
    else:
        axis.update(tickmode="auto", nticks=MAX_TICKS)  # plotly's auto steps are 1-2-5 multiples


def tick_policy(fig: go.Figure, *, copy: bool = True) -> go.Figure:
    """One tick policy for the whole lab, on every axis (subplots and secondary axes included):

    - log axes: powers of ten only (``dtick=1``, every second one past nine decades), in power notation, no minor
      labels; a range under two powers of ten is widened to the enclosing decades;
    - linear axes: plotly's round 1-2-5 steps with at most six ticks; percent axes (``tickformat`` with ``%``) in
      a round step from the range (0 %, 20 %, …, 100 %, or 70 %, 80 %, 90 %, 100 %); an overlaying axis never
      borrows the other axis's grid ("sync" ticks read 97 %, 85 %, 73 %) and draws no grid of its own;
    - axes the builder labelled on purpose (``tickvals``), hidden axes and category axes are left alone;
    - a band (a trace with ``fill`` and no ``mode``) draws no markers.

    Returns a new figure (``copy=False``: changes and returns ``fig``, for builders). Idempotent."""
    fig = go.Figure(fig) if copy else fig
    for key in axis_keys(fig):  # an axis matching another reads like it (its labels show once panels stack)
        axis = fig.layout[key]
        if axis.matches:
            source = fig.layout[axis_key(axis.matches, key[0])]
            for name in ("type", "tickformat", "ticksuffix", "tickprefix"):
                if axis[name] is None and source[name] is not None:
                    axis[name] = source[name]
    for key in sorted(axis_keys(fig), key=lambda k: bool(fig.layout[k].matches)):
        axis = fig.layout[key]
        if axis.visible is False or axis.tickvals is not None or axis.tickmode == "array":
            continue
        if axis.matches:  # the same ticks as the axis it matches (its range is theirs)
            source = fig.layout[axis_key(axis.matches, key[0])]
            for name in ("tickmode", "tick0", "dtick", "nticks", "exponentformat", "minexponent", "showexponent"):
                axis[name] = source[name]
            axis.minor = source.minor
            continue
        kind = axis_type(fig, key)
        if kind == "log":
            _log_ticks(fig, key)
        elif kind == "linear":
            _linear_ticks(fig, key)
        if axis.overlaying:
            axis.showgrid = False
    for trace in fig.data:
        if trace.type == "scatter" and trace.fill not in (None, "none") and trace.mode is None:
            trace.mode = "lines"
    return fig
