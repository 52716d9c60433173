"""Per-class pixel counts from a manifest's px_* columns, and the shares computed from them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from curate.errors import InputError


def pixel_counts(manifest: pd.DataFrame, classes: int | list[int]) -> np.ndarray:
    """(N, K) pixels of each class per pair, from the columns px_k of `classes` (a list of
    class numbers, or K for 0..K-1); InputError naming the columns a manifest lacks."""
    classes = range(classes) if isinstance(classes, int) else classes
    columns = [f"px_{k}" for k in classes]
    missing = [c for c in columns if c not in manifest.columns]
    if missing:
        raise InputError(f"The manifest lacks the per-class pixel columns {missing}; re-create "
                         "it with a curate command that scans the masks (curate.build_manifest "
                         "does so in Python).")
    return manifest[columns].to_numpy(dtype=np.int64)


def class_shares(px: np.ndarray, scale: float = 100.0,
                 empty: float = np.nan) -> tuple[np.ndarray, np.ndarray]:
    """(pixel share, image share) per class of (N, K) pixel counts, times `scale`.

    Pixel share: the class's pixels / all pixels; image share: pairs containing the class /
    pairs. `empty` where there is no pixel or no pair to divide by.
    """
    k = px.shape[1]
    total, n = px.sum(), len(px)
    with np.errstate(divide="ignore", invalid="ignore"):
        pixel = scale * px.sum(axis=0) / total if total else np.full(k, empty)
        image = scale * (px > 0).sum(axis=0) / n if n else np.full(k, empty)
    return pixel, image
