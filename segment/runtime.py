"""Devices, atomic files, checkpoints and batched inference shared by train, evaluate, predict."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from segment.data import to_input
from segment.errors import ConfigError, InputError
from segment.model import UNet, UNetSpec

CHECKPOINT_FORMAT = "segment-checkpoint"


def select_device(name: str = "auto") -> torch.device:
    """'auto' picks cuda, then mps, then cpu; an explicit choice must be available."""
    available = {
        "cuda": torch.cuda.is_available(),
        "mps": getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available(),
        "cpu": True,
    }
    if name == "auto":
        return torch.device(next(d for d in ("cuda", "mps", "cpu") if available[d]))
    if not available.get(name, False):
        have = ", ".join(d for d, ok in available.items() if ok)
        raise ConfigError(f"device {name!r} is not available here; available: {have} (or 'auto')")
    return torch.device(name)


def atomic_write(path: Path, write) -> None:
    """Call write(tmp_path), then move the finished file into place so readers never see a half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        # mkstemp creates the file 0600; give the result the permissions of any new file.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda p: p.write_text(text))


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2) + "\n")


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    atomic_write(path, lambda p: torch.save({"format": CHECKPOINT_FORMAT, **state}, p))


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
    return asdict(spec)


@torch.no_grad()
def predict_batches(
    model: torch.nn.Module,
    images: np.ndarray,
    norm: dict[str, list[float]],
    device: torch.device,
    batch_size: int = 64,
    channels_last: bool = False,
) -> Iterator[tuple[slice, torch.Tensor]]:
    """Yield (index slice, predicted labels (B, H, W) uint8 on CPU) over images (N, C, H, W)."""
    model.eval()
    for start in range(0, len(images), batch_size):
        part = torch.from_numpy(images[start : start + batch_size]).to(device)
        x = to_input(part, norm)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, enabled=device.type == "cuda"):
            logits = model(x)
        yield slice(start, start + len(part)), logits.argmax(1).to("cpu", torch.uint8)
