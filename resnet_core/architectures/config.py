"""Which networks the architectures experiment counts (the zoo's figures need no weights and no data)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class ArchitecturesConfig:
    models: list[str] | None = None  # None: every net of the zoo (resnet_core.architectures.zoo.ALL_NETS)
    shortcut_depth: int = 20  # the lab net whose downsampling blocks the shortcut A/B table lists

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ArchitecturesConfig:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})
