"""Rare-class-aware sampling: each epoch draws as many pairs as the train split holds, pairs
that contain class K `factor` times as likely as the others, as a pure function of
(seed, epoch); under torchrun each rank takes every world-th draw of the same order."""

from __future__ import annotations

import numpy as np
import torch

from segment.errors import InputError
from segment.data.file_stack import chunks


def has_class(masks, class_index: int) -> np.ndarray:
    """(N,) bool: which masks (N, H, W), a numpy array or a FileStack, contain class_index;
    a chunk at a time, so a split held by reference is never decoded whole."""
    parts = [(c == class_index).reshape(len(c), -1).any(1) for c in chunks(masks)]
    return np.concatenate(parts) if parts else np.zeros(0, bool)


def draw_weights(has: np.ndarray, class_index: int, factor: float) -> np.ndarray:
    """Per-pair weight (N,): `factor` where `has` (has_class of the masks) is true, else 1."""
    if not has.any():
        raise InputError(
            f"--set oversample_class={class_index}: no training mask contains class {class_index}, "
            "so there is nothing to draw more often; pick a class present in the train split "
            "(`curate stats DATASET --split train` lists them) or leave the setting out"
        )
    return np.where(has, float(factor), 1.0)


def epoch_order(weights: np.ndarray, seed: int, epoch: int, world: int = 1, rank: int = 0) -> list[int]:
    """This rank's pair indices for one epoch: len(weights) draws with replacement, p ~ weights,
    padded by repeating the first draws to a multiple of `world` so every rank gets as many."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch * 7_919 + 17)
    probs = torch.as_tensor(weights, dtype=torch.float64)
    order = torch.multinomial(probs, len(weights), replacement=True, generator=generator).tolist()
    order += order[: (-len(order)) % world]
    return order[rank::world]


class Drawn(torch.utils.data.Dataset):
    """A view of a PairDataset in a drawn order; draw j of pair i gets its own augmentation,
    so a pair drawn twice in an epoch is not seen twice identically."""

    def __init__(self, data, order: list[int]) -> None:
        self.data, self.order = data, order

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, j: int):
        return self.data.item(self.order[j], len(self.data) + j)
