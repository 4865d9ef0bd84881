"""What every figure of the lab shares: the colours and names (:mod:`.style`), round ticks (:mod:`.ticks`), one
figure for a laptop, a phone and a projector (:mod:`.devices`), and the class's votes (:mod:`.votes`).
Each experiment's own figures live in its package's ``plots``; they import from here.
"""

from resnet_core.figures.devices import for_device, text_width, wrap
from resnet_core.figures.style import (
    COLORWAY,
    DEPTH_COLORS,
    DEPTH_SYMBOLS,
    GREY,
    LAYOUT,
    OKABE_ITO,
    VARIANT_COLORS,
    VARIANT_DASH,
    band,
    depth_color,
    rgba,
    shade,
    variant_label,
    variant_style,
)
from resnet_core.figures.ticks import axis_keys, round_step, tick_policy
from resnet_core.figures.votes import votes_figure

__all__ = [
    "COLORWAY",
    "DEPTH_COLORS",
    "DEPTH_SYMBOLS",
    "GREY",
    "LAYOUT",
    "OKABE_ITO",
    "VARIANT_COLORS",
    "VARIANT_DASH",
    "axis_keys",
    "band",
    "depth_color",
    "for_device",
    "rgba",
    "round_step",
    "shade",
    "text_width",
    "tick_policy",
    "variant_label",
    "variant_style",
    "votes_figure",
    "wrap",
]
