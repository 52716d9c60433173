"""Checkpoints of `segment train`, written and read here only: a run's meta (`RunMeta`: the
model spec, classes, normalization, class weights) and the checkpoint around it (`Checkpoint`:
weights, optimizer, schedule, early stopping, history, RNG). Saved as one flat dict of plain
values, loaded without unpickling arbitrary objects."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from curate.io.outputs import write_file
from segment.errors import InputError
from segment.model.unet import UNet, UNetSpec

CHECKPOINT_FORMAT = "segment-checkpoint"


@dataclass
class RunMeta:
    """What a trained model needs beside its weights, fixed when its run starts."""

    spec: UNetSpec
    class_names: list[str]
    num_classes: int
    ignore_index: int | None
    normalization: dict[str, list[float]]   # per-channel "mean" and "std" on the 0..1 scale
    class_weights: list[float]              # (K,) the loss's class weights
    train_pixel_counts: list[int]           # (K,) pixels of each class in the train split

    @property
    def image_mode(self) -> str:
        """The mode images are read in for this model: "L" (one channel) or "RGB"."""
        return "L" if self.spec.in_channels == 1 else "RGB"

    def to_dict(self) -> dict[str, Any]:
        """The checkpoint's meta entries, in the order they are written."""
        return {"spec": spec_dict(self.spec), "class_names": list(self.class_names),
                "num_classes": self.num_classes, "ignore_index": self.ignore_index,
                "normalization": self.normalization, "class_weights": self.class_weights,
                "train_pixel_counts": self.train_pixel_counts}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> RunMeta:
        return cls(UNetSpec(**state["spec"]), list(state["class_names"]), int(state["num_classes"]),
                   state.get("ignore_index"), state["normalization"], state["class_weights"],
                   state["train_pixel_counts"])


@dataclass
class Checkpoint:
    """best.pt / last.pt: the run's meta, its weights and what `--resume` needs to continue."""

    meta: RunMeta
    model: dict[str, torch.Tensor]   # the weights evaluate and predict load (the EMA with --ema)
    optimizer: dict[str, Any]
    scheduler: dict[str, Any] | None
    early_stopping: dict[str, Any]
    epoch: int
    best_metric: float
    config: dict[str, Any]           # TrainConfig.to_dict() of the run
    history: list[dict[str, Any]]    # the rows of metrics.csv so far
    rng: dict[str, Any]
    # With --ema only: the raw weights the optimizer steps, and how many updates the average has.
    train_model: dict[str, torch.Tensor] | None = None
    ema_updates: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The flat dict that is saved, in the order the keys are written."""
        averaged = ({} if self.train_model is None else
                    {"train_model": self.train_model, "ema_updates": self.ema_updates})
        return {**self.meta.to_dict(), **averaged, "model": self.model,
                "optimizer": self.optimizer, "scheduler": self.scheduler,
                "early_stopping": self.early_stopping, "epoch": self.epoch,
                "best_metric": self.best_metric, "config": self.config, "history": self.history,
                "rng": self.rng}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Checkpoint:
        return cls(RunMeta.from_dict(state), state["model"], state["optimizer"],
                   state["scheduler"], state["early_stopping"], int(state["epoch"]),
                   state["best_metric"], state["config"], list(state["history"]), state["rng"],
                   state.get("train_model"), int(state.get("ema_updates", 0)))


def save_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    state = {"format": CHECKPOINT_FORMAT, **checkpoint.to_dict()}
    write_file(path, lambda p: torch.save(state, p))


def load_checkpoint(path: str | Path) -> Checkpoint:
    """A checkpoint written by `segment train` (loaded without unpickling arbitrary objects)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"checkpoint {path} does not exist; expected RUN/best.pt or RUN/last.pt")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt or foreign files
        raise InputError(f"{path} is not a readable segment checkpoint: {exc}") from exc
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise InputError(f"{path} is not a segment checkpoint (written by `segment train`)")
    try:
        return Checkpoint.from_dict(state)
    except (KeyError, TypeError) as exc:
        raise InputError(f"{path} is a segment checkpoint without {exc}; it was written by "
                         "another version of segment: train again") from exc


def model_from_checkpoint(checkpoint: Checkpoint, device: torch.device) -> UNet:
    model = UNet(checkpoint.meta.spec)
    model.load_state_dict(checkpoint.model)
    return model.to(device).eval()


def spec_dict(spec: UNetSpec) -> dict[str, Any]:
    """The spec as checkpoints hold it: channel and class counts first, then the model's fields."""
    fields = asdict(spec)
    return {"in_channels": fields.pop("in_channels"), "num_classes": fields.pop("num_classes"),
            **fields}
