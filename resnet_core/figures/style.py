"""The lab's colours and how a network is named and drawn on a chart.

Colours are Okabe–Ito (safe for the common colour-vision deficiencies). One meaning across the app: plain nets
vermillion, dashed, open markers; residual nets blue, solid, filled markers. Depths are told apart by marker
symbol and shade (shallow light, deep dark), so a plain/residual pair differs in colour *and* dash/marker, and two
depths of one kind in symbol *and* shade.
"""

from __future__ import annotations

from collections.abc import Iterable

import plotly.graph_objects as go

from resnet_core.i18n import gettext as _

# ------------------------------------------------------------------------------------------ colours
# Okabe & Ito (2008), "Color Universal Design": distinguishable with protanopia, deuteranopia and tritanopia.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
GREY = "#7F7F7F"
# Default trace colours of every figure (yellow last: weak on white).
COLORWAY = [OKABE_ITO[c] for c in ("blue", "vermillion", "green", "orange", "purple", "sky_blue", "black", "yellow")]

LAYOUT = dict(
    template="plotly_white",
    margin=dict(l=60, r=20, t=50, b=50),
    legend=dict(orientation="h", y=-0.2),
    colorway=COLORWAY,
)

# One colour per kind of network on every chart of the app: plain vermillion, residual blue.
VARIANT_COLORS = {"plain": OKABE_ITO["vermillion"], "residual": OKABE_ITO["blue"]}
VARIANT_DASH = {"plain": "dash", "residual": "solid"}

# Depths: one marker symbol each (plain draws it open), in order of depth.
DEPTH_SYMBOLS = ["circle", "square", "diamond", "triangle-up", "pentagon", "star", "hexagon", "cross"]

# Colours for depths where a chart has no plain/residual meaning (kept for callers; the variant colours are not in it).
DEPTH_COLORS = [OKABE_ITO[c] for c in ("orange", "sky_blue", "green", "purple", "black", "yellow")]


def depth_color(depth: int, depths: list[int]) -> str:
    order = sorted(set(depths))
    return DEPTH_COLORS[order.index(depth) % len(DEPTH_COLORS)] if depth in order else DEPTH_COLORS[0]


def shade(hex_color: str, amount: float) -> str:
    """``amount`` in -1..1: towards white (negative) or black (positive) by that fraction."""
    h = hex_color.lstrip("#")
    rgb = [int(h[i : i + 2], 16) for i in (0, 2, 4)]
    target = 0 if amount > 0 else 255
    mixed = [round(c + (target - c) * abs(amount)) for c in rgb]
    return "#" + "".join(f"{c:02X}" for c in mixed)


def variant_style(residual: bool, depth: int | None = None, depths: Iterable[int] = ()) -> dict:
    """Colour, dash and marker symbol of one net: hue and dash by kind (plain/residual), shade and symbol by depth
    (the shallowest of ``depths`` lightest, the deepest darkest; plain symbols open)."""
    kind = "residual" if residual else "plain"
    order = sorted(set(depths) | ({depth} if depth is not None else set()))
    i = order.index(depth) if depth is not None else 0
    amount = 0.0 if len(order) < 2 else -0.42 + 0.72 * i / (len(order) - 1)  # light .. base .. dark
    symbol = DEPTH_SYMBOLS[i % len(DEPTH_SYMBOLS)]
    return {
        "color": shade(VARIANT_COLORS[kind], amount),
        "dash": VARIANT_DASH[kind],
        "symbol": symbol if residual else f"{symbol}-open",
    }


def variant_label(residual: bool, depth: int) -> str:
    """:func:`resnet_core.models.variant_name` as shown to the reader ("residual-20" is "잔차-20" in Korean)."""
    return (_("residual-{depth}") if residual else _("plain-{depth}")).format(depth=depth)


def rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def band(xs: list, lo: list, hi: list, color: str, *, group: str, alpha: float = 0.15) -> go.Scatter:
    """The shaded range between ``lo`` and ``hi`` behind a curve (the seeds' spread), in the curve's colour and
    legend group, with no hover and no legend entry of its own."""
    return go.Scatter(
        x=list(xs) + list(xs)[::-1],
        y=list(hi) + list(lo)[::-1],
        mode="lines",
        fill="toself",
        fillcolor=rgba(color, alpha),
        line=dict(width=0),
        hoverinfo="skip",
        showlegend=False,
        legendgroup=group,
    )
