"""Which torch device a command runs on."""

from __future__ import annotations

import torch

from segment.errors import ConfigError


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
