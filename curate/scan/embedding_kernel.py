"""`curate.scan.embedding.texture_embedding`, one image at a time in loops that numba
compiles (`jit_reordered`, curate.scan.kernels; plain Python when numba is missing).

The numpy version stays the reference; this one follows it part by part, in the same order
(see embedding.py for what each part means), summing in float64 where numpy sums float32
(in an order the compiler may change), so the vectors agree to float32 rounding
(tests/curate/test_kernels.py).
"""

from __future__ import annotations

import math

import numpy as np

from curate.scan.kernels import jit_reordered

MAX_SIDE = 160
EPS = 1e-3
DIMENSION = 86


def embed(gray: np.ndarray) -> np.ndarray:
    """embedding.texture_embedding of (N, H, W) uint8 images, compiled: (N, DIMENSION) float32."""
    out = np.empty((len(gray), DIMENSION), np.float32)
    embed_batch(np.ascontiguousarray(gray), out)
    return out


@jit_reordered
def embed_batch(gray, out):
    """Fill out (N, DIMENSION) float32 with the embedding of (N, H, W) uint8 images."""
    for i in range(gray.shape[0]):
        g = gray[i].astype(np.float32)
        h, w = g.shape
        while max(h, w) > MAX_SIDE and min(h, w) >= 16:
            g = _half(g)
            h, w = g.shape
        if min(h, w) < 16:
            out[i, :] = 0
        else:
            _embed_one(g, out[i])


@jit_reordered
def _embed_one(g, row):
    l1 = _half(g) if min(g.shape) >= 8 else g
    l2 = _half(l1) if min(l1.shape) >= 8 else l1
    l3 = _half(l2) if min(l2.shape) >= 8 else l2
    mean, variance = _mean_var(g)
    std = math.sqrt(variance) + EPS
    laps = (_laplacian(g), _laplacian(l1), _laplacian(l2), _laplacian(l3))
    k = 0
    total = 0.0
    for j in range(4):                                          # octaves
        row[k + j] = _mean_var(laps[j])[1] + EPS
        total += row[k + j]
    for j in range(4):
        row[k + j] = math.log(row[k + j] / total)
    row[k + 4] = math.log(total / std ** 2 + EPS)
    k += 5
    k = _orientation(g, row, k)
    k = _orientation(l1, row, k)
    k = _lbp(g, math.sqrt(variance), row, k)
    k = _lbp(l1, math.sqrt(_mean_var(l1)[1]), row, k)
    k = _lbp(l2, math.sqrt(_mean_var(l2)[1]), row, k)
    k = _autocorrelation(g, mean, row, k)
    for j in range(3):
        k = _moments(laps[j], row, k)
    k = _blocks(g, 8, variance, row, k)
    k = _blocks(g, 16, variance, row, k)
    k = _layout(g, std, row, k)
    k = _moments(g, row, k)
    row[k] = mean / 255.0
    row[k + 1] = math.log(std)


@jit_reordered
def _half(g):
    h, w = g.shape[0] // 2, g.shape[1] // 2
    out = np.empty((h, w), np.float32)
    for y in range(h):
        for x in range(w):
            out[y, x] = np.float32(0.25) * (g[2 * y, 2 * x] + g[2 * y + 1, 2 * x]
                                             + g[2 * y, 2 * x + 1] + g[2 * y + 1, 2 * x + 1])
    return out


@jit_reordered
def _laplacian(g):
    h, w = g.shape
    out = np.empty((h - 2, w - 2), np.float32)
    for y in range(h - 2):
        for x in range(w - 2):
            out[y, x] = (g[y + 1, x] + g[y + 1, x + 2] + g[y, x + 1] + g[y + 2, x + 1]
                         - 4 * g[y + 1, x + 1])
    return out


@jit_reordered
def _mean_var(a):
    """Mean and population variance of a 2-D array, two passes in float64."""
    h, w = a.shape
    total = 0.0
    for y in range(h):
        for x in range(w):
            total += a[y, x]
    mean = total / (h * w)
    squares = 0.0
    for y in range(h):
        for x in range(w):
            d = a[y, x] - mean
            squares += d * d
    return mean, squares / (h * w)


@jit_reordered
def _orientation(g, row, k):
    """Structure tensor shares, mean 8x8-block coherence and edge sparsity."""
    hh, ww = g.shape[0] - 2, g.shape[1] - 2
    size = max(1, min(8, hh, ww))
    bh, bw = hh // size, ww // size
    blocks = np.zeros((bh, bw, 3))
    sxx = syy = sxy = magnitude = 0.0
    for y in range(hh):
        for x in range(ww):
            gx = np.float64(g[y + 1, x + 2] - g[y + 1, x])
            gy = np.float64(g[y + 2, x + 1] - g[y, x + 1])
            xx, yy, xy = gx * gx, gy * gy, gx * gy
            sxx += xx
            syy += yy
            sxy += xy
            magnitude += math.sqrt(xx + yy)
            if y < bh * size and x < bw * size:
                by, bx = y // size, x // size
                blocks[by, bx, 0] += xx
                blocks[by, bx, 1] += yy
                blocks[by, bx, 2] += xy
    energy = sxx + syy + EPS
    coherence = 0.0
    for by in range(bh):
        for bx in range(bw):
            bxx, byy, bxy = blocks[by, bx, 0], blocks[by, bx, 1], blocks[by, bx, 2]
            coherence += math.sqrt((bxx - byy) ** 2 + 4 * bxy ** 2) / (bxx + byy + EPS)
    pixels = hh * ww
    row[k] = sxx / energy
    row[k + 1] = sxy / energy
    row[k + 2] = coherence / (bh * bw)
    row[k + 3] = (magnitude / pixels) / (math.sqrt((sxx + syy) / pixels) + EPS)
    return k + 4


@jit_reordered
def _lbp(g, std, row, k):
    """Shares of the 16 4-neighbour patterns (square roots), threshold 5 % of the contrast,
    compared in float32 as numpy does."""
    counts = np.zeros(16, np.int64)
    offset = np.float32(0.05) * np.float32(std)
    h, w = g.shape
    for y in range(1, h - 1):
        for x in range(1, w - 1):
            c = np.float32(g[y, x] + offset)
            code = 0
            if g[y, x + 1] > c:
                code += 1
            if g[y, x - 1] > c:
                code += 2
            if g[y + 1, x] > c:
                code += 4
            if g[y - 1, x] > c:
                code += 8
            counts[code] += 1
    pixels = (h - 2) * (w - 2)
    for v in range(16):
        row[k + v] = math.sqrt(counts[v] / pixels)
    return k + 16


@jit_reordered
def _autocorrelation(g, mean, row, k):
    h, w = g.shape
    var = 0.0
    for y in range(h):
        for x in range(w):
            var += (g[y, x] - mean) ** 2
    var = var / (h * w) + EPS
    for lag in (1, 2, 4, 8):
        lag_w, lag_h = min(lag, w - 1), min(lag, h - 1)
        along = 0.0
        for y in range(h):
            for x in range(w - lag_w):
                along += (g[y, x + lag_w] - mean) * (g[y, x] - mean)
        across = 0.0
        for y in range(h - lag_h):
            for x in range(w):
                across += (g[y + lag_h, x] - mean) * (g[y, x] - mean)
        row[k] = along / (h * (w - lag_w)) / var
        row[k + 1] = across / ((h - lag_h) * w) / var
        k += 2
    return k


@jit_reordered
def _moments(a, row, k):
    """Skewness and log kurtosis of the values of a 2-D array."""
    mean = _mean_var(a)[0]
    m2 = m3 = m4 = 0.0
    h, w = a.shape
    for y in range(h):
        for x in range(w):
            d = a[y, x] - mean
            d2 = d * d
            m2 += d2
            m3 += d2 * d
            m4 += d2 * d2
    n = h * w
    s2 = m2 / n + EPS
    row[k] = m3 / n / s2 ** 1.5
    row[k + 1] = math.log(m4 / n / s2 ** 2 + EPS)
    return k + 2


@jit_reordered
def _blocks(g, size, variance, row, k):
    """Share of the variance between block means; spread of the block contrasts."""
    h, w = g.shape
    size = max(1, min(size, h // 2, w // 2))
    bh, bw = h // size, w // size
    means = np.empty(bh * bw)
    stds = np.empty(bh * bw)
    for by in range(bh):
        for bx in range(bw):
            total = squares = 0.0
            for y in range(by * size, (by + 1) * size):
                for x in range(bx * size, (bx + 1) * size):
                    total += g[y, x]
                    squares += np.float64(g[y, x]) * g[y, x]
            m = total / size ** 2
            means[by * bw + bx] = m
            stds[by * bw + bx] = math.sqrt(max(squares / size ** 2 - m * m, 0.0))
    whole = bh * size == h and bw * size == w
    region = variance if whole else _mean_var(g[: bh * size, : bw * size])[1]
    row[k] = means.var() / (region + EPS)
    row[k + 1] = stds.std() / (stds.mean() + EPS)
    return k + 2


@jit_reordered
def _layout(g, std, row, k):
    """Top third against bottom third: detail (log ratio), brightness, contrast."""
    h = g.shape[0]
    third = max(1, h // 3)
    top, bottom = g[:third], g[h - third:]
    detail_top = (_mean_var(_laplacian(top))[1] if third >= 3 else 0.0) + 1.0
    detail_bottom = (_mean_var(_laplacian(bottom))[1] if third >= 3 else 0.0) + 1.0
    mean_top, var_top = _mean_var(top)
    mean_bottom, var_bottom = _mean_var(bottom)
    row[k] = math.log(detail_top / detail_bottom)
    row[k + 1] = (mean_top - mean_bottom) / std
    row[k + 2] = math.log((math.sqrt(var_top) + 1) / (math.sqrt(var_bottom) + 1))
    return k + 3
