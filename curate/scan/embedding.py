"""A cheap, deterministic picture-style embedding of grayscale images (no model, no download).

Each image becomes a vector of texture and layout statistics that describe what kind of
picture it is rather than what it shows: how detail is spread over four octaves, gradient
orientation and edge sparsity, 4-neighbour local binary patterns at three scales,
autocorrelation at four lags, Laplacian skew and kurtosis (thin dark lines versus blobs),
how evenly contrast is spread over blocks, top-to-bottom layout, and tone. The scan stores it
per pair (`embedding`, float16 as hex: curate/scan/stored_vectors.py); `curate.checks.odd_image`
compares the vectors.
"""

from __future__ import annotations

import numpy as np

MAX_SIDE = 160         # larger images are box-halved until they fit: cost and scale stay bounded
EPS = 1e-3


def texture_embedding(gray: np.ndarray) -> np.ndarray:
    """(N, D) float32 embedding of (N, H, W) uint8 images of one size (D = `dimension()`)."""
    n = len(gray)
    g = gray.astype(np.float32)
    while max(g.shape[1:]) > MAX_SIDE and min(g.shape[1:]) >= 16:
        g = _half(g)
    if min(g.shape[1:]) < 16:  # too small to describe: the same vector for all
        return np.zeros((n, dimension()), dtype=np.float32)
    levels = [g]
    for _ in range(3):
        levels.append(_half(levels[-1]) if min(levels[-1].shape[1:]) >= 8 else levels[-1])
    flat = g.reshape(n, -1)
    # Shared intermediates, each computed once (the same values the parts computed apiece):
    # the image's variance (np.std is the square root of np.var) and each level's Laplacian.
    variance = flat.var(axis=1)
    std = np.sqrt(variance) + EPS
    laplacians = [_laplacian(level) for level in levels]
    parts = [_octaves(laplacians, std)]
    for level in levels[:2]:
        parts.append(_orientation(level))
    for k, level in enumerate(levels[:3]):
        parts.append(np.sqrt(_lbp(level, np.sqrt(variance) if k == 0 else None)))
    parts.append(_autocorrelation(g))
    for laplacian in laplacians[:3]:
        parts.append(_moments(laplacian))
    parts.append(_blocks(g, 8, variance))
    parts.append(_blocks(g, 16, variance))
    parts.append(_layout(g, std))
    parts.append(np.c_[_moments(flat), flat.mean(axis=1) / 255.0, np.log(std)])
    return np.concatenate(parts, axis=1).astype(np.float32)


def dimension() -> int:
    return 5 + 2 * 4 + 3 * 16 + 8 + 3 * 2 + 2 * 2 + 3 + 4


def _half(g: np.ndarray) -> np.ndarray:
    n, h, w = g.shape
    g = g[:, : h // 2 * 2, : w // 2 * 2]
    return 0.25 * (g[:, 0::2, 0::2] + g[:, 1::2, 0::2] + g[:, 0::2, 1::2] + g[:, 1::2, 1::2])


def _laplacian(g: np.ndarray) -> np.ndarray:
    return g[:, 1:-1, :-2] + g[:, 1:-1, 2:] + g[:, :-2, 1:-1] + g[:, 2:, 1:-1] - 4 * g[:, 1:-1, 1:-1]


def _octaves(laplacians: list[np.ndarray], std: np.ndarray) -> np.ndarray:
    """Share of the Laplacian energy in each octave (log), and its total per unit contrast,
    from the Laplacian of each level."""
    energy = np.stack([l.reshape(len(l), -1).var(axis=1) for l in laplacians], 1) + EPS
    total = energy.sum(axis=1)
    return np.c_[np.log(energy / total[:, None]), np.log(total / std ** 2 + EPS)]


def _orientation(g: np.ndarray) -> np.ndarray:
    """Gradient structure: the image's structure tensor (share of horizontal gradient energy,
    normalised cross term), mean coherence of 8x8 blocks (1 for parallel lines, 0 for
    isotropic texture) and edge sparsity (mean / RMS gradient magnitude: low when a few
    strong edges carry the gradient). Doubled-angle sums need no arctan per pixel."""
    n = len(g)
    gx = g[:, 1:-1, 2:] - g[:, 1:-1, :-2]
    gy = g[:, 2:, 1:-1] - g[:, :-2, 1:-1]
    xx, yy, xy = gx * gx, gy * gy, gx * gy
    sums = [t.reshape(n, -1).sum(axis=1, dtype=np.float64) for t in (xx, yy, xy)]
    energy = sums[0] + sums[1] + EPS
    magnitude = np.sqrt(xx + yy).reshape(n, -1)
    sparsity = magnitude.mean(axis=1) / (np.sqrt((sums[0] + sums[1]) / magnitude.shape[1]) + EPS)
    bxx, byy, bxy = (_block_sums(t, 8) for t in (xx, yy, xy))
    coherence = np.sqrt((bxx - byy) ** 2 + 4 * bxy ** 2) / (bxx + byy + EPS)
    return np.stack([sums[0] / energy, sums[2] / energy, coherence.mean(axis=1), sparsity],
                    axis=1)


def _block_sums(x: np.ndarray, size: int) -> np.ndarray:
    """(N, blocks) sums over size x size blocks (the ragged edge left out)."""
    n, h, w = x.shape
    size = max(1, min(size, h, w))
    b = x[:, : h // size * size, : w // size * size].reshape(n, h // size, size, w // size, size)
    return b.sum(axis=(2, 4)).reshape(n, -1)


def _lbp(g: np.ndarray, std: np.ndarray | None = None) -> np.ndarray:
    """(N, 16) shares of 4-neighbour binary patterns, with a threshold of 5% of the contrast
    (`std`, each image's standard deviation, computed when not given) so that sensor noise
    on flat areas does not decide the pattern. Codes are one byte each, counted one value
    at a time: a quarter of the memory traffic of int64 codes and one bincount."""
    n = len(g)
    std = g.reshape(n, -1).std(axis=1) if std is None else std
    c = g[:, 1:-1, 1:-1] + (0.05 * std)[:, None, None]
    code = (g[:, 1:-1, 2:] > c).view(np.uint8)
    for bit, neighbour in enumerate((g[:, 1:-1, :-2], g[:, 2:, 1:-1], g[:, :-2, 1:-1]), 1):
        code |= (neighbour > c).view(np.uint8) << np.uint8(bit)
    code = code.reshape(n, -1)
    counts = np.stack([np.count_nonzero(code == value, axis=1) for value in range(16)], 1)
    return counts / code.shape[1]


def _autocorrelation(g: np.ndarray, lags=(1, 2, 4, 8)) -> np.ndarray:
    """Normalised autocorrelation along rows and columns at each lag: (N, 2 * len(lags))."""
    x = g - g.mean(axis=(1, 2), keepdims=True)
    var = (x ** 2).mean(axis=(1, 2)) + EPS
    out = []
    for lag in lags:
        lag_w, lag_h = min(lag, x.shape[2] - 1), min(lag, x.shape[1] - 1)
        out.append((x[:, :, lag_w:] * x[:, :, :-lag_w]).mean(axis=(1, 2)) / var)
        out.append((x[:, lag_h:, :] * x[:, :-lag_h, :]).mean(axis=(1, 2)) / var)
    return np.stack(out, axis=1)


def _moments(x: np.ndarray) -> np.ndarray:
    """Skewness and log kurtosis of each image's values: (N, 2)."""
    x = x.reshape(len(x), -1)
    x = x - x.mean(axis=1, keepdims=True)
    x2 = x * x
    s2 = x2.mean(axis=1) + EPS
    return np.stack([np.einsum("ij,ij->i", x2, x) / x.shape[1] / s2 ** 1.5,
                     np.log(np.einsum("ij,ij->i", x2, x2) / x.shape[1] / s2 ** 2 + EPS)], axis=1)


def _blocks(g: np.ndarray, size: int, variance: np.ndarray | None = None) -> np.ndarray:
    """Share of the variance between block means, and spread of the block contrasts
    (`variance`: each whole image's, used where the blocks tile the image exactly)."""
    n, h, w = g.shape
    size = max(1, min(size, h // 2, w // 2))
    b = g[:, : h // size * size, : w // size * size].reshape(n, h // size, size, w // size, size)
    means = b.mean(axis=(2, 4)).reshape(n, -1)
    stds = np.sqrt(np.maximum((b * b).mean(axis=(2, 4)).reshape(n, -1) - means ** 2, 0))
    whole = variance is not None and b.shape[1] * size == h and b.shape[3] * size == w
    total = (variance if whole else b.reshape(n, -1).var(axis=1)) + EPS
    return np.stack([means.var(axis=1) / total,
                     stds.std(axis=1) / (stds.mean(axis=1) + EPS)], axis=1)


def _layout(g: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Top third against bottom third: detail (log ratio), brightness and contrast."""
    third = max(1, g.shape[1] // 3)
    top, bottom = g[:, :third], g[:, -third:]
    detail = [(_laplacian(p).reshape(len(p), -1).var(axis=1) if p.shape[1] >= 3
               else np.zeros(len(p))) + 1.0 for p in (top, bottom)]
    return np.stack([np.log(detail[0] / detail[1]),
                     (top.mean(axis=(1, 2)) - bottom.mean(axis=(1, 2))) / std,
                     np.log((top.std(axis=(1, 2)) + 1) / (bottom.std(axis=(1, 2)) + 1))], axis=1)
