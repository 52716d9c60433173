"""One pass over the pixels: a per-pair feature table that every check reads.

Pairs of the same shape are processed as one stacked batch, so the cost per pair is a few
vectorised numpy operations rather than a Python loop.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from curate.dataset import Dataset, to_gray

HASH_SIZE = 8          # pHash keeps the HASH_SIZE x HASH_SIZE lowest DCT frequencies (64 bits)
HASH_RESIZE = 32       # images are box-resized to 32x32 before the DCT
CHUNK = 256            # pairs per vectorised batch: large enough to amortise, small for cache


def scan(dataset: Dataset) -> pd.DataFrame:
    """Feature table, one row per pair, in dataset order.

    Columns: id, source, height, width, channels, mask_height, mask_width, image_sha1,
    mask_sha1, pair_sha1, phash (16 hex digits), mean, std, min, max, entropy, sharpness
    (Laplacian variance), fine_detail (log10 ratio of the Laplacian variance at full and half
    resolution: low when blurred),
    labelled_frac, mask_classes, mask_boundary, out_of_range, px_0 .. px_{K-1}.
    """
    groups: dict[tuple, list[int]] = {}
    for i, (image, mask) in enumerate(zip(dataset.images, dataset.masks)):
        groups.setdefault((image.shape, mask.shape), []).append(i)
    chunks = [idx[s:s + CHUNK] for idx in groups.values() for s in range(0, len(idx), CHUNK)]

    def run(idx: list[int]) -> pd.DataFrame:
        images = np.stack([dataset.images[i] for i in idx])
        masks = np.stack([dataset.masks[i] for i in idx])
        batch = _scan_batch(images, masks, dataset.num_classes, dataset.ignore_index)
        return pd.DataFrame(batch, index=idx)

    # numpy releases the GIL in its kernels, so threads over chunks use every core.
    with ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1, 8)) as pool:
        parts = list(pool.map(run, chunks))
    columns = ["height"] if not parts else parts[0].columns
    table = (pd.concat(parts).sort_index() if parts else pd.DataFrame(columns=columns))
    table = table.reset_index(drop=True)
    table.insert(0, "id", dataset.ids)
    table.insert(1, "source", dataset.sources)
    return table


def _scan_batch(images: np.ndarray, masks: np.ndarray, num_classes: int,
                ignore_index: int | None) -> dict[str, np.ndarray]:
    n = len(images)
    gray = np.stack([to_gray(im) for im in images]) if images.ndim == 4 else images
    out: dict[str, np.ndarray] = {
        "height": np.full(n, images.shape[1]),
        "width": np.full(n, images.shape[2]),
        "channels": np.full(n, 1 if images.ndim == 3 else images.shape[3]),
        "mask_height": np.full(n, masks.shape[1]),
        "mask_width": np.full(n, masks.shape[2]),
    }
    image_sha = [_sha1(im) for im in images]
    mask_sha = [_sha1(m) for m in masks]
    out["image_sha1"] = np.array(image_sha)
    out["mask_sha1"] = np.array(mask_sha)
    out["pair_sha1"] = np.array([hashlib.sha1((a + b).encode()).hexdigest()
                                 for a, b in zip(image_sha, mask_sha)])
    out["phash"] = np.array([f"{h:016x}" for h in phash(gray)])
    out.update(pixel_stats(gray))
    out.update(mask_stats(masks, num_classes, ignore_index))
    return out


def _sha1(array: np.ndarray) -> str:
    # The shape is part of the hash: two arrays with the same bytes but different shapes
    # are different images.
    h = hashlib.sha1(str(array.shape).encode())
    h.update(np.ascontiguousarray(array).data)
    return h.hexdigest()


def pixel_stats(gray: np.ndarray) -> dict[str, np.ndarray]:
    """Brightness, contrast, entropy and sharpness of (N, H, W) uint8 images."""
    n = len(gray)
    flat = gray.reshape(n, -1)
    hist = _histograms(flat, 256).astype(np.float64)               # (N, 256)
    p = hist / flat.shape[1]
    levels = np.arange(256, dtype=np.float64)
    mean = p @ levels
    var = np.maximum(p @ (levels ** 2) - mean ** 2, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(p > 0, p * np.log2(p), 0.0).sum(axis=1)
    present = hist > 0
    sharpness = _laplacian_variance(gray)
    return {
        "mean": mean,
        "std": np.sqrt(var),
        "min": present.argmax(axis=1),
        "max": 255 - present[:, ::-1].argmax(axis=1),
        "entropy": entropy,
        "sharpness": sharpness,
        "fine_detail": np.log10((sharpness + 1.0) / (_laplacian_variance(_half(gray)) + 1.0)),
    }


def _half(gray: np.ndarray) -> np.ndarray:
    """(N, H//2, W//2) 2x2 box average: the same images one octave coarser."""
    n, h, w = gray.shape
    g = gray[:, : h // 2 * 2, : w // 2 * 2].astype(np.float32)
    return g.reshape(n, h // 2, 2, w // 2, 2).mean(axis=(2, 4))


def _laplacian_variance(gray: np.ndarray) -> np.ndarray:
    """Variance of the 4-neighbour Laplacian per image: low for blurred or flat images."""
    n = len(gray)
    if gray.shape[1] < 3 or gray.shape[2] < 3:
        return np.zeros(n)
    g = gray.astype(np.int16) if gray.dtype == np.uint8 else gray
    lap = (g[:, 1:-1, :-2] + g[:, 1:-1, 2:] + g[:, :-2, 1:-1] + g[:, 2:, 1:-1]
           - 4 * g[:, 1:-1, 1:-1]).reshape(n, -1).astype(np.float32)
    mean = lap.mean(axis=1, dtype=np.float64)
    sq = np.einsum("ij,ij->i", lap, lap, dtype=np.float64) / lap.shape[1]
    return np.maximum(sq - mean ** 2, 0.0)


def mask_stats(masks: np.ndarray, num_classes: int,
               ignore_index: int | None) -> dict[str, np.ndarray]:
    """Per-class pixel counts and structure of (N, H, W) uint8 label masks."""
    n = len(masks)
    flat = masks.reshape(n, -1)
    counts = _histograms(flat, 256)                                # (N, 256)
    out = {f"px_{k}": counts[:, k] for k in range(num_classes)}
    out["out_of_range"] = counts[:, num_classes:].sum(axis=1)
    out["mask_classes"] = (counts > 0).sum(axis=1)
    labelled = flat.shape[1] - (counts[:, ignore_index] if ignore_index is not None else 0)
    out["labelled_frac"] = labelled / max(flat.shape[1], 1)
    # Share of pixels whose right or lower neighbour has another label: 0 for a uniform mask.
    edges = np.zeros(masks.shape, dtype=bool)
    edges[:, :, :-1] |= masks[:, :, 1:] != masks[:, :, :-1]
    edges[:, :-1, :] |= masks[:, 1:, :] != masks[:, :-1, :]
    out["mask_boundary"] = edges.reshape(n, -1).mean(axis=1)
    return out


def _histograms(flat: np.ndarray, bins: int) -> np.ndarray:
    """(N, bins) counts of the uint8 values in each row of (N, P) `flat`."""
    return np.stack([np.bincount(row, minlength=bins) for row in flat]) if len(flat) else \
        np.zeros((0, bins), dtype=np.int64)


def _box_resize_matrix(size_in: int, size_out: int) -> np.ndarray:
    """(size_out, size_in) matrix averaging the input cells that each output cell covers."""
    m = np.zeros((size_out, size_in), dtype=np.float32)
    scale = size_in / size_out
    for o in range(size_out):
        start, stop = o * scale, (o + 1) * scale
        for i in range(int(np.floor(start)), min(int(np.ceil(stop)), size_in)):
            m[o, i] = min(stop, i + 1) - max(start, i)
        m[o] /= m[o].sum()
    return m


def _dct_matrix(size: int) -> np.ndarray:
    k = np.arange(size)[:, None]
    x = np.arange(size)[None, :]
    return np.cos(np.pi * (2 * x + 1) * k / (2 * size)).astype(np.float32)


def phash(gray: np.ndarray, hash_size: int = HASH_SIZE) -> list[int]:
    """Perceptual hashes of (N, H, W) uint8 images as Python ints of hash_size**2 bits.

    Box-resize to 32x32, 2-D DCT, keep the lowest hash_size x hash_size frequencies, and set
    a bit where a coefficient exceeds their median (the DC term is left out of the median).
    """
    n, h, w = gray.shape
    rows = _box_resize_matrix(h, HASH_RESIZE)                      # (32, H)
    cols = _box_resize_matrix(w, HASH_RESIZE)                      # (32, W)
    small = rows @ gray.astype(np.float32) @ cols.T                # (N, 32, 32)
    d = _dct_matrix(HASH_RESIZE)[:hash_size]                       # (hs, 32)
    low = (d @ small @ d.T).reshape(n, -1)                         # (N, hs*hs)
    median = np.median(low[:, 1:], axis=1, keepdims=True)
    bits = low > median
    return [int.from_bytes(row.tobytes(), "big") for row in np.packbits(bits, axis=1)]
