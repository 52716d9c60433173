"""Which torch device a command runs on."""

from __future__ import annotations

import contextlib
from typing import Iterator

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


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """torch's intra-op threads set to `threads` (0 = leave as is) inside the block, restored
    after it: a run's `threads` setting does not outlive the run in a notebook."""
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
