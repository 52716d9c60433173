"""The typed training configuration, validated at construction. Every field is reachable from
the command line: the everyday ones by a flag of their own, every one by --set KEY=VALUE or
--config (the model's fields too, flattened from its ModelSpec)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from segment.errors import ConfigError

LOSS_TERMS = ("ce", "dice", "tversky", "focal_tversky", "lovasz")
SCHEDULERS = ("cosine", "plateau", "warmup", "none")
CLASS_WEIGHTS = ("balanced", "sqrt", "none")
DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass
class ModelSpec:
    """The U-Net's architecture options, declared once: TrainConfig holds one, and the model's
    UNetSpec adds the data's channel and class counts to them."""

    depth: int = 3
    base_width: int = 16
    batchnorm: bool = True
    spatial_dropout: float = 0.1  # Dropout2d after each encoder/decoder block
    dropout: float = 0.2  # plain dropout before the 1x1 classifier
    se: bool = True
    residual: bool = False
    attention: bool = False
    aspp: bool = False

    def __post_init__(self) -> None:
        """Raise ConfigError for an architecture the U-Net cannot build."""
        if not 1 <= self.depth <= 6:
            raise ConfigError(f"depth must be between 1 and 6, got {self.depth}")
        if self.base_width < 1:
            raise ConfigError(f"base_width must be at least 1, got {self.base_width}")
        for name in ("spatial_dropout", "dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"{name} must be in [0, 1), got {getattr(self, name)}")


MODEL_FIELDS = tuple(f.name for f in dataclasses.fields(ModelSpec))


@dataclass
class TrainConfig:
    """Everything a training run depends on; saved into every checkpoint (flat, see to_dict)."""

    data: str = ""
    out: str = "runs/segment"
    model: ModelSpec = field(default_factory=ModelSpec)
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
    warmup_share: float = 0.1  # scheduler "warmup": share of all steps spent warming up
    patience: int = 10
    min_delta: float = 1e-4
    max_minutes: float = 0.0  # 0 = no wall-time bound
    # data
    augment: bool = True
    workers: int = 0
    # levers (issue 12); all off by default
    ema: float = 0.0  # decay of the weight EMA that is validated and saved; 0 = off
    oversample_class: int = -1  # pairs holding this class are drawn more often; -1 = off
    oversample_factor: float = 4.0  # ... this many times as likely as the others
    copy_paste_class: int = -1  # this class's regions pasted into other pairs; -1 = off
    copy_paste_prob: float = 0.5  # ... into this share of the drawn pairs
    # runtime
    seed: int = 0
    device: str = "auto"
    amp: bool = True  # only takes effect on CUDA
    channels_last: bool = True
    compile: bool = False
    threads: int = 0  # 0 = leave torch's default

    def __post_init__(self) -> None:
        """Raise ConfigError for values a user could pass but the trainer cannot honour."""
        loss_terms(self.loss)
        _check_choice("scheduler", self.scheduler, SCHEDULERS)
        _check_choice("class_weights", self.class_weights, CLASS_WEIGHTS)
        _check_choice("device", self.device, DEVICES)
        if self.epochs < 1:
            raise ConfigError(f"epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 0:
            raise ConfigError(f"batch_size must be at least 1 (or 0 = from the pixel budget), got {self.batch_size}")
        if not 0.0 <= self.class_weight_power <= 1.0:
            raise ConfigError(f"class_weight_power must be in [0, 1], got {self.class_weight_power}")
        if self.lr <= 0:
            raise ConfigError(f"lr must be positive, got {self.lr}")
        if not 0.0 <= self.warmup_share < 1.0:
            raise ConfigError(f"warmup_share must be in [0, 1), got {self.warmup_share}")
        if not 0.0 <= self.ema < 1.0:
            raise ConfigError(f"ema must be a decay in (0, 1), e.g. 0.99, or 0 for off; got {self.ema}")
        if self.oversample_factor < 1.0:
            raise ConfigError(f"oversample_factor must be at least 1 (1 = no oversampling), "
                              f"got {self.oversample_factor}")
        if not 0.0 < self.copy_paste_prob <= 1.0:
            raise ConfigError(f"copy_paste_prob must be in (0, 1], got {self.copy_paste_prob}")

    def to_dict(self) -> dict[str, Any]:
        """The flat dict saved in checkpoints and config.json: the model's fields in place."""
        flat: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            flat.update(dataclasses.asdict(value) if f.name == "model" else {f.name: value})
        return flat

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        """A config from a flat dict (to_dict's, a checkpoint's); unknown keys are ignored."""
        known = {f.name for f in dataclasses.fields(cls)} - {"model"}
        model = ModelSpec(**{k: v for k, v in values.items() if k in MODEL_FIELDS})
        return cls(model=model, **{k: v for k, v in values.items() if k in known})


# What each setting does, for `--set KEY=VALUE` / `--config` users and the reference docs.
SETTINGS_HELP: dict[str, str] = {
    "depth": "Encoder levels (input padded to a multiple of 2**depth).",
    "base_width": "Channels of the first level; doubles per level.",
    "batchnorm": "BatchNorm after each convolution.",
    "spatial_dropout": "Dropout2d rate after each block.",
    "dropout": "Dropout before the classifier.",
    "se": "Squeeze-and-excitation in each block.",
    "residual": "Residual shortcut in each block.",
    "attention": "Attention gates on the skip connections.",
    "aspp": "ASPP in the bottleneck.",
    "loss": "Sum of ce, dice, tversky, focal_tversky, lovasz joined by '+'.",
    "class_weights": "CE class weights from the train split: balanced, sqrt or none.",
    "class_weight_power": "Raise balanced weights to this power (0.5 = sqrt).",
    "tversky_alpha": "Tversky weight of false positives.",
    "tversky_beta": "Tversky weight of false negatives.",
    "focal_gamma": "Focal Tversky exponent.",
    "epochs": "Maximum epochs.",
    "batch_size": "Images per step; 0 = from the pixel budget (2**20 pixels per batch, 2..32).",
    "lr": "AdamW learning rate.",
    "weight_decay": "AdamW weight decay.",
    "scheduler": "LR schedule: cosine over the epochs; plateau (halve on a val plateau); warmup "
                 "(linear rise over warmup_share of the steps, then cosine, per batch); none.",
    "plateau_patience": "Epochs before the plateau schedule halves the LR.",
    "warmup_share": "With scheduler=warmup: share of all optimizer steps spent rising to lr.",
    "patience": "Early stopping: epochs without val mean-IoU gain.",
    "min_delta": "Smallest val mean-IoU gain that counts.",
    "max_minutes": "Stop after the epoch that passes this wall time (0 = off).",
    "augment": "On-the-fly flips and brightness/contrast.",
    "workers": "DataLoader worker processes.",
    "ema": "Decay of an exponential moving average of the weights, e.g. 0.99; the average is "
           "validated and saved (0 = off).",
    "oversample_class": "Draw training pairs that contain this class more often (-1 = off).",
    "oversample_factor": "With oversample_class: how many times as likely such a pair is drawn.",
    "copy_paste_class": "Paste this class's pixels from another training pair into drawn pairs, "
                        "moved sideways and mirrored at random (-1 = off).",
    "copy_paste_prob": "With copy_paste_class: share of drawn pairs that get a paste.",
    "seed": "Seed for init, shuffling, augmentation, dropout.",
    "device": "auto (cuda, then mps, then cpu), cpu, cuda or mps.",
    "amp": "Mixed precision where the device supports it.",
    "channels_last": "channels_last memory format (faster on CPU).",
    "compile": "torch.compile the model (slow start, faster steps).",
    "threads": "torch CPU threads (0 = torch default).",
}


# Default images per step: a budget of pixels per batch, so that memory per step stays about the
# same whatever the image size. 2**20 px = 4 images of 512x512, 6 of 360x480, 16 of 256x256;
# batch 4-8 is what trained well on 360x480 street scenes and 512x512 membranes (issue 8),
# where 32 used 10-14 GB and gave a handful of steps per epoch. At 64x128 the budget would give
# 128, so the cap of 32 keeps the AI4Mars default (tuned there) exactly as it was.
PIXEL_BUDGET = 2**20
BATCH_RANGE = (2, 32)  # at least 2 (BatchNorm statistics need more than one image)
# Fewer optimizer steps in the whole run (epochs x steps per epoch) than this gets a warning.
# The run's update count, not the per-epoch count, decides whether the model learns: 6 steps
# (512x512 ISBI at batch 16, 6 epochs) left val mIoU flat at 0.105; 32 steps (the README's
# 4-epoch tour, 8 steps an epoch) reached 0.185 and still rising; the demo's 8 epochs x 8
# steps = 64 pass. Per epoch, few steps only mean validation runs often.
FEW_STEPS = 50


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
