"""Where the GPU-only speed-ups apply: mixed precision (autocast and the gradient scaler) and
pinned host memory for the DataLoader, and in which dtype autocast runs on each device."""

from __future__ import annotations

import torch

# Device types that get them. CPU autocast (bfloat16) is slower than float32 on most CPUs and
# pinning needs an accelerator, so the amp setting means "on CUDA". Tests add "cpu" here to run the
# same code paths (bfloat16 autocast, GradScaler("cpu"), pin_memory=True) without a GPU.
ACCELERATED: tuple[str, ...] = ("cuda",)


def accelerated(device: torch.device) -> bool:
    return device.type in ACCELERATED


def uses_amp(device: torch.device, amp: bool) -> bool:
    """True when the amp setting takes effect on `device`."""
    return amp and accelerated(device)


def amp_dtype(device: torch.device) -> torch.dtype:
    """float16 on CUDA (the scaler keeps its gradients in range); bfloat16 elsewhere, the
    type CPU autocast supports (float32's range, so scaling is harmless there)."""
    return torch.float16 if device.type == "cuda" else torch.bfloat16


def autocast(device: torch.device, enabled: bool) -> torch.autocast:
    """torch.autocast for `device`'s type in amp_dtype; a no-op when not `enabled`."""
    return torch.autocast(device.type, dtype=amp_dtype(device), enabled=enabled)


def grad_scaler(device: torch.device, enabled: bool) -> torch.amp.GradScaler:
    """A gradient scaler for `device`'s type (a pass-through when not `enabled`)."""
    return torch.amp.GradScaler(device.type, enabled=enabled)


def pin_memory(device: torch.device) -> bool:
    """DataLoader pin_memory: page-locked batches copy to an accelerator asynchronously."""
    return accelerated(device)
