"""The flat, typed training configuration; CLI flags map one to one onto its fields."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from segment.errors import ConfigError

LOSS_TERMS = ("ce", "dice", "tversky", "focal_tversky")
SCHEDULERS = ("cosine", "plateau", "none")
CLASS_WEIGHTS = ("balanced", "sqrt", "none")
DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass
class TrainConfig:
    """Everything a training run depends on; saved into every checkpoint."""

    data: str = ""
    out: str = "runs/segment"
    # model
    depth: int = 3
    base_width: int = 16
    batchnorm: bool = True
    spatial_dropout: float = 0.1  # Dropout2d after each encoder/decoder block
    dropout: float = 0.2  # plain dropout before the 1x1 classifier
    se: bool = True
    residual: bool = False
    attention: bool = False
    aspp: bool = False
    # loss
    loss: str = "ce+dice"
    class_weights: str = "balanced"
    # balanced ** power: 1 = balanced, 0.5 = sqrt, 0 = none. AI4Mars-64 val mIoU, one seed each:
    # 1 -> 0.551, 0.75 -> 0.583, 0.5 -> 0.586 but 0.5 never predicts the 0.27% class; so 0.75.
    class_weight_power: float = 0.75
    tversky_alpha: float = 0.3
    tversky_beta: float = 0.7
    focal_gamma: float = 0.75
    # optimisation
    epochs: int = 40
    batch_size: int = 0  # 0 = auto_batch_size(H, W); the run records the value it used
    lr: float = 2e-3
    weight_decay: float = 1e-4
    scheduler: str = "cosine"
    plateau_patience: int = 3
    patience: int = 10
    min_delta: float = 1e-4
    max_minutes: float = 0.0  # 0 = no wall-time bound
    # data
    augment: bool = True
    workers: int = 0
    # runtime
    seed: int = 0
    device: str = "auto"
    amp: bool = True  # only takes effect on CUDA
    channels_last: bool = True
    compile: bool = False
    threads: int = 0  # 0 = leave torch's default

    def __post_init__(self) -> None:
        validate(self)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


# Default images per step: a budget of pixels per batch, so that memory per step stays about the
# same whatever the image size. 2**20 px = 4 images of 512x512, 6 of 360x480, 16 of 256x256;
# batch 4-8 is what trained well on 360x480 street scenes and 512x512 membranes (issue 8),
# where 32 used 10-14 GB and gave a handful of steps per epoch. At 64x128 the budget would give
# 128, so the cap of 32 keeps the AI4Mars default (tuned there) exactly as it was.
PIXEL_BUDGET = 2**20
BATCH_RANGE = (2, 32)  # at least 2 (BatchNorm statistics need more than one image)
FEW_STEPS = 20  # fewer optimizer steps per epoch than this gets a warning


def auto_batch_size(height: int, width: int) -> int:
    """Images per batch for images of height x width under PIXEL_BUDGET, clamped to BATCH_RANGE."""
    low, high = BATCH_RANGE
    return max(low, min(high, PIXEL_BUDGET // max(1, height * width)))


def inference_batch_size(height: int, width: int) -> int:
    """Images per forward pass without gradients: the same pixel budget, at most 64, so 64x128
    keeps its 64 and 512x512 gets 4 (measured: 16 at 512x512 made validation, not training,
    the memory peak)."""
    return max(1, min(64, PIXEL_BUDGET // max(1, height * width)))


def loss_terms(spec: str) -> list[str]:
    """Split a loss spec like 'ce+dice' into its terms, checking each name."""
    terms = [t.strip() for t in spec.lower().split("+") if t.strip()]
    bad = [t for t in terms if t not in LOSS_TERMS]
    if not terms or bad:
        raise ConfigError(
            f"loss {spec!r} is not valid; expected terms from {', '.join(LOSS_TERMS)} "
            "joined by '+', e.g. 'ce+dice'"
        )
    return terms


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


def validate(cfg: TrainConfig) -> None:
    """Raise ConfigError for values a user could pass but the trainer cannot honour."""
    loss_terms(cfg.loss)
    _check_choice("scheduler", cfg.scheduler, SCHEDULERS)
    _check_choice("class_weights", cfg.class_weights, CLASS_WEIGHTS)
    _check_choice("device", cfg.device, DEVICES)
    if not 1 <= cfg.depth <= 6:
        raise ConfigError(f"depth must be between 1 and 6, got {cfg.depth}")
    positive = {"base_width": cfg.base_width, "epochs": cfg.epochs}
    for name, value in positive.items():
        if value < 1:
            raise ConfigError(f"{name} must be at least 1, got {value}")
    if cfg.batch_size < 0:
        raise ConfigError(f"batch_size must be at least 1 (or 0 = from the pixel budget), got {cfg.batch_size}")
    for name in ("spatial_dropout", "dropout"):
        if not 0.0 <= getattr(cfg, name) < 1.0:
            raise ConfigError(f"{name} must be in [0, 1), got {getattr(cfg, name)}")
    if not 0.0 <= cfg.class_weight_power <= 1.0:
        raise ConfigError(f"class_weight_power must be in [0, 1], got {cfg.class_weight_power}")
    if cfg.lr <= 0:
        raise ConfigError(f"lr must be positive, got {cfg.lr}")
