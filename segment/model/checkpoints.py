"""Checkpoints of `segment train`: save, load (without unpickling arbitrary objects), and the
model they hold."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from curate.io.outputs import write_file
from segment.errors import InputError
from segment.model.unet import UNet, UNetSpec

CHECKPOINT_FORMAT = "segment-checkpoint"


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    write_file(path, lambda p: torch.save({"format": CHECKPOINT_FORMAT, **state}, p))


def load_checkpoint(path: str | Path) -> dict[str, Any]:
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
    return state


def model_from_checkpoint(state: dict[str, Any], device: torch.device) -> UNet:
    model = UNet(UNetSpec(**state["spec"]))
    model.load_state_dict(state["model"])
    return model.to(device).eval()


def spec_dict(spec: UNetSpec) -> dict[str, Any]:
    """The spec as checkpoints hold it: channel and class counts first, then the model's fields."""
    fields = asdict(spec)
    return {"in_channels": fields.pop("in_channels"), "num_classes": fields.pop("num_classes"),
            **fields}
