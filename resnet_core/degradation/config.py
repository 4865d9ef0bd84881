"""The degradation experiment's configuration: depths, variants, data budget and the training recipe."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from resnet_core.training.engine import HYPERPARAMS, TrainConfig

DEFAULT_DEGRADATION_DEPTHS = [20, 56]
TRAIN_EVAL_SEED = 4242  # the fixed training subset scored in eval mode does not move with the run seed


@dataclass
class DegradationConfig:
    depths: list[int] = field(default_factory=lambda: list(DEFAULT_DEGRADATION_DEPTHS))
    variants: list[str] = field(default_factory=lambda: ["plain", "residual"])
    dataset: str = "bundled"
    train_size: int | None = None  # stratified subset of the training split (None = all of it)
    test_size: int | None = None  # stratified subset of the test split evaluated every epoch (None = all)
    train_eval_size: int = 1000  # fixed subset of the training images scored in eval mode after every epoch
    epochs: int = HYPERPARAMS["epochs"]
    batch_size: int = HYPERPARAMS["batch_size"]
    lr: float = HYPERPARAMS["lr"]
    weight_decay: float = HYPERPARAMS["weight_decay"]
    schedule: str = HYPERPARAMS["schedule"]
    augment: bool = HYPERPARAMS["augment"]
    norm: str = "batch"
    activation: str = "relu"
    shortcut: str = "A"
    width: int = 16
    seeds: list[int] = field(default_factory=lambda: [0])
    max_steps: int | None = None
    log_every: int = HYPERPARAMS["log_every"]  # steps between live progress events

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> DegradationConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        if "seeds" not in d and "seed" in d:  # files written before multi-seed runs
            known["seeds"] = [int(d["seed"])]
        return cls(**known)

    def train_config(self, seed: int) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            schedule=self.schedule,
            augment=self.augment,
            seed=seed,
            max_steps=self.max_steps,
            log_every=self.log_every,
        )

    @property
    def total_runs(self) -> int:
        return len(self.depths) * len(self.variants) * len(self.seeds)
