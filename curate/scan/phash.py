"""Perceptual hashes (pHash): 64 bits per image that change little when the picture changes
little, so that near duplicates are hashes a few bits apart (curate.scan.neighbours)."""

from __future__ import annotations

import functools

import numpy as np

HASH_SIZE = 8          # pHash keeps the HASH_SIZE x HASH_SIZE lowest DCT frequencies (64 bits)
HASH_RESIZE = 32       # images are box-resized to 32x32 before the DCT


def _box_resize_matrix(size_in: int, size_out: int) -> np.ndarray:
    """(size_out, size_in) matrix averaging the input cells that each output cell covers."""
    m = np.zeros((size_out, size_in), dtype=np.float64)
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
    return np.cos(np.pi * (2 * x + 1) * k / (2 * size))


@functools.lru_cache(maxsize=16)
def _phash_projection(size_in: int, hash_size: int) -> np.ndarray:
    """(hash_size, size_in): box-resize to HASH_RESIZE, then the lowest DCT frequencies."""
    d = _dct_matrix(HASH_RESIZE)[:hash_size]                       # (hs, 32)
    return (d @ _box_resize_matrix(size_in, HASH_RESIZE)).astype(np.float32)


def phash(gray: np.ndarray, hash_size: int = HASH_SIZE) -> list[int]:
    """Perceptual hashes of (N, H, W) uint8 images as Python ints of hash_size**2 bits.

    Box-resize to 32x32, 2-D DCT, keep the lowest hash_size x hash_size frequencies, and set
    a bit where a coefficient exceeds their median (the DC term is left out of the median).
    Resize and DCT are both linear, so they are folded into one matrix per axis.
    """
    n, h, w = gray.shape
    rows = _phash_projection(h, hash_size)                         # (hs, H)
    cols = _phash_projection(w, hash_size)                         # (hs, W)
    t = gray.reshape(n * h, w).astype(np.float32) @ cols.T         # (N*H, hs)
    low = (rows @ t.reshape(n, h, hash_size)).reshape(n, -1)       # (N, hs*hs)
    median = np.median(low[:, 1:], axis=1, keepdims=True)
    bits = low > median
    return [int.from_bytes(row.tobytes(), "big") for row in np.packbits(bits, axis=1)]
