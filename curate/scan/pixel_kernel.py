"""The pixel statistics of `curate.scan.features.pixel_stats`, one image at a time in loops that
numba compiles (`jit`, curate.scan.kernels; plain Python when numba is missing).

Every sum is over integers (gray levels, Laplacians), so the compiled kernel gives the
reference's values; the 99.7th percentile of |Laplacian| is read from a histogram of its
integer values with numpy's linear interpolation.
"""

from __future__ import annotations

import math

import numpy as np

from curate.scan.kernels import jit

PIXEL_COLUMNS = ("mean", "std", "min", "max", "entropy", "sharpness", "blur_keep", "edge_keep")
EDGE_PERCENTILE = 99.7
LAP_LEVELS = 8 * 255 + 1          # |4-neighbour Laplacian| of uint8 values is at most 8 * 255


def pixel_columns(gray: np.ndarray) -> dict[str, np.ndarray]:
    """features.pixel_stats of (N, H, W) uint8 images, compiled."""
    out = np.empty((len(gray), len(PIXEL_COLUMNS)))
    pixel_batch(np.ascontiguousarray(gray), out)
    columns = {name: out[:, k].copy() for k, name in enumerate(PIXEL_COLUMNS)}
    columns["min"] = columns["min"].astype(np.int64)
    columns["max"] = columns["max"].astype(np.int64)
    return columns


@jit
def pixel_batch(gray, out):
    """Fill out (N, 8) float64 with PIXEL_COLUMNS for (N, H, W) uint8 images."""
    n, h, w = gray.shape
    hist = np.zeros(256, np.int64)
    lap_hist = np.zeros(LAP_LEVELS, np.int64)
    blurred = np.zeros((max(h - 4, 0), max(w - 4, 0)), np.int64)
    for i in range(n):
        image = gray[i]
        _moments_of_levels(image, hist, out[i])
        out[i, 5] = _laplacian_variance(image, 0, h, 0, w) if h >= 3 and w >= 3 else 0.0
        if h < 7 or w < 7:
            out[i, 6] = np.nan
            out[i, 7] = np.nan
            continue
        _reblur(image, blurred)
        kept = _laplacian_variance(blurred, 0, h - 4, 0, w - 4)
        before = _laplacian_variance(image, 2, h - 2, 2, w - 2)
        out[i, 6] = (kept + 1.0) / (before + 1.0)
        edge_after = _edge_height(blurred, 0, h - 4, 0, w - 4, lap_hist)
        edge_before = _edge_height(image, 2, h - 2, 2, w - 2, lap_hist)
        out[i, 7] = (edge_after + 1.0) / (edge_before + 1.0)


@jit
def _moments_of_levels(image, hist, row):
    """mean, std, min, max, entropy of one image from its 256-bin histogram."""
    h, w = image.shape
    hist[:] = 0
    for y in range(h):
        for x in range(w):
            hist[image[y, x]] += 1
    pixels = max(h * w, 1)
    total = 0.0
    squares = 0.0
    plogp = 0.0
    low, high = 255, 0
    for v in range(256):
        c = hist[v]
        if c:
            total += c * v
            squares += c * v * v
            plogp += c * math.log2(c)
            low = min(low, v)
            high = max(high, v)
    mean = total / pixels
    row[0] = mean
    row[1] = math.sqrt(max(squares / pixels - mean * mean, 0.0))
    row[2] = low if h * w else 0
    row[3] = high if h * w else 0
    row[4] = math.log2(pixels) - plogp / pixels


@jit
def _reblur(image, blurred):
    """The 5-tap binomial blur of the interior, rounded to whole levels (blur_measures)."""
    h, w = blurred.shape
    for y in range(h):
        for x in range(w):
            acc = 0
            for dy in range(5):
                k = (1, 4, 6, 4, 1)[dy]
                r = image[y + dy]
                acc += k * (r[x] + 4 * r[x + 1] + 6 * r[x + 2] + 4 * r[x + 3] + r[x + 4])
            blurred[y, x] = (acc + 128) >> 8


@jit
def _laplacian_at(a, y, x):
    return (np.int64(a[y, x - 1]) + a[y, x + 1] + a[y - 1, x] + a[y + 1, x] - 4 * np.int64(a[y, x]))


@jit
def _laplacian_variance(a, y0, y1, x0, x1):
    """Variance of the 4-neighbour Laplacian of a[y0:y1, x0:x1] (its interior pixels)."""
    count = (y1 - y0 - 2) * (x1 - x0 - 2)
    if count <= 0:
        return 0.0
    total = 0
    squares = 0
    for y in range(y0 + 1, y1 - 1):
        for x in range(x0 + 1, x1 - 1):
            v = _laplacian_at(a, y, x)
            total += v
            squares += v * v
    mean = total / count
    return max(squares / count - mean * mean, 0.0)


@jit
def _edge_height(a, y0, y1, x0, x1, lap_hist):
    """np.percentile(|Laplacian|, EDGE_PERCENTILE) over a[y0:y1, x0:x1], from a histogram."""
    count = (y1 - y0 - 2) * (x1 - x0 - 2)
    if count <= 0:
        return 0.0
    lap_hist[:] = 0
    for y in range(y0 + 1, y1 - 1):
        for x in range(x0 + 1, x1 - 1):
            lap_hist[abs(_laplacian_at(a, y, x))] += 1
    index = (count - 1) * (EDGE_PERCENTILE / 100)
    below = int(math.floor(index))
    t = index - below
    lower = _value_at(lap_hist, below)
    upper = _value_at(lap_hist, min(below + 1, count - 1))
    diff = upper - lower
    # numpy's _lerp: the form it picks for t >= 0.5 keeps the result exact at t = 1
    return upper - diff * (1 - t) if t >= 0.5 else lower + diff * t


@jit
def _value_at(hist, rank):
    """The value at 0-based position `rank` of the sorted values a histogram counts."""
    seen = 0
    for v in range(len(hist)):
        seen += hist[v]
        if seen > rank:
            return float(v)
    return float(len(hist) - 1)


def mask_columns(masks: np.ndarray, num_classes: int,
                 ignore_index: int | None) -> dict[str, np.ndarray]:
    """features.mask_stats of (N, H, W) uint8 label masks, compiled (integer counts: equal)."""
    n, h, w = masks.shape
    counts = np.zeros((n, 256), np.int64)
    ints = np.zeros((n, 2), np.int64)                     # boundary pixels, margin
    fill = np.ones(n)
    boxed = ignore_index is not None and h > 0 and w > 0
    mask_batch(np.ascontiguousarray(masks), -1 if ignore_index is None else ignore_index,
               boxed, counts, ints, fill)
    pixels = max(h * w, 1)
    out = {f"px_{k}": counts[:, k].copy() for k in range(num_classes)}
    out["out_of_range"] = counts[:, num_classes:].sum(axis=1)
    out["mask_classes"] = (counts > 0).sum(axis=1)
    ignored = counts[:, ignore_index] if ignore_index is not None else np.zeros(n, np.int64)
    out["labelled_frac"] = (h * w - ignored) / pixels
    out["mask_boundary"] = ints[:, 0] / pixels
    out["labelled_fill"] = fill
    out["labelled_margin"] = ints[:, 1] if boxed else np.zeros(n, np.int64)
    return out


@jit
def mask_batch(masks, ignore, boxed, counts, ints, fill):
    """Per mask: value counts, pixels whose right or lower neighbour differs, and the box of
    the labelled (not `ignore`) pixels: its fill and the widest margin (-1: none labelled)."""
    n, h, w = masks.shape
    for i in range(n):
        m = masks[i]
        top, bottom, left, right = h, -1, w, -1
        edges = 0
        for y in range(h):
            for x in range(w):
                v = m[y, x]
                counts[i, v] += 1
                if (x + 1 < w and m[y, x + 1] != v) or (y + 1 < h and m[y + 1, x] != v):
                    edges += 1
                if v != ignore:
                    top = min(top, y)
                    bottom = max(bottom, y)
                    left = min(left, x)
                    right = max(right, x)
        ints[i, 0] = edges
        if not boxed:
            continue
        labelled = h * w - counts[i, ignore]
        if labelled == 0:
            fill[i] = 0.0
            ints[i, 1] = -1
        else:
            fill[i] = labelled / max((bottom - top + 1) * (right - left + 1), 1)
            ints[i, 1] = max(max(top, left), max(h - 1 - bottom, w - 1 - right))
