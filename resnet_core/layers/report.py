"""What the layers see, in words drawn from the maps: a sentence per stage (size, channels, sparsity, how
concentrated the activation is and where it peaks)."""

from __future__ import annotations

from torch import Tensor

from resnet_core.i18n import N_
from resnet_core.i18n import gettext as _
from resnet_core.layers.result import FeatureMaps


def _where(act: Tensor) -> str:
    """Where the summed activation peaks, in words (thirds of the map)."""
    energy = act.clamp_min(0).sum(0)
    h, w = energy.shape
    if h < 3 or w < 3:
        return _("everywhere at once (the map is too small to say where)")
    r, c = divmod(int(energy.argmax()), w)
    rows, cols = [N_("top"), N_("middle"), N_("bottom")], [N_("left"), N_("centre"), N_("right")]
    return _("the {row} {column}").format(row=_(rows[min(2, 3 * r // h)]), column=_(cols[min(2, 3 * c // w)]))


def describe_stage(name: str, act: Tensor, previous: Tensor | None, input_shape: list[int]) -> str:
    """A sentence about one stage's maps, from the numbers: size, channels, sparsity, concentration, location."""
    c, h, w = act.shape
    zero = (act <= 0).float().mean().item()
    means = act.clamp_min(0).flatten(1).mean(1)
    k = max(1, c // 8)
    share = (means.sort(descending=True).values[:k].sum() / means.sum().clamp_min(1e-12)).item()
    alive = int((means > 0).sum())
    change = ""
    if previous is not None:
        pc, ph, _pw = previous.shape
        if ph != h or pc != c:
            change = _(" (from {pc}×{ph}×{ph}: ×{size:.2g} in size, ×{channels:.2g} in channels)").format(
                pc=pc, ph=ph, size=h / ph, channels=c / pc
            )
    elif input_shape:
        change = _(" (input {h}×{w})").format(h=input_shape[1], w=input_shape[2])
    silent = (
        _("every channel responds")
        if alive == c
        else _("{silent} of {c} channels are silent for this image").format(silent=c - alive, c=c)
    )
    return _(
        "**{name}**: {c} channels of {h}×{w}{change}. {zero:.0%} of the values are zero after the ReLU and "
        "{silent}; the top {k} channels carry {share:.0%} of the activation, strongest in {where}."
    ).format(
        name=name.capitalize(),
        c=c,
        h=h,
        w=w,
        change=change,
        zero=zero,
        silent=silent,
        k=k,
        share=share,
        where=_where(act),
    )


def describe_all(fm: FeatureMaps, input_shape: list[int]) -> list[str]:
    return [
        describe_stage(n, a, fm.maps[i - 1] if i else None, input_shape)
        for i, (n, a) in enumerate(zip(fm.names, fm.maps))
    ]
