"""Which image goes through which network in "What the layers see"."""

from __future__ import annotations

from dataclasses import asdict, dataclass

NETS = ["resnet20", "resnet18", "resnet34", "resnet50"]  # the shipped lab net; torchvision nets need their weights


@dataclass
class LayersConfig:
    net: str = "resnet20"  # the shipped ResNet-20 (28x28 grey) or a torchvision ImageNet ResNet (weights on disk)
    image: str = "chelsea"  # a bundled photo's name, or "fashion:N" for bundled Fashion-MNIST test image N

    def __post_init__(self) -> None:
        if self.net not in NETS:
            raise ValueError(f"unknown network {self.net!r}; choose from {', '.join(NETS)}")
        kind, _, index = self.image.partition(":")
        if kind == "fashion" and not index.isdigit():
            raise ValueError(
                f"{self.image!r}: a Fashion-MNIST test image is fashion:N with N a number, e.g. fashion:12"
            )

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> LayersConfig:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})
