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
    """Fill out (N, 8) float64 with PIXEL_COLUMNS for (N, H, W) uint8 images.

    The Laplacian of each image is computed once a row at a time and summed twice, over the
    whole frame (sharpness) and over the interior the re-blur keeps (blur_keep, edge_keep);
    the re-blur is done as two 5-tap passes. Every sum is of integers, so the order of the
    sums changes no value.
    """
    n, h, w = gray.shape
    hist = np.zeros(256, np.int64)
    lap_hist = np.zeros(LAP_LEVELS, np.int64)
    row = np.zeros(max(w, 1), np.int32)
    across = np.zeros((h, max(w - 4, 0)), np.int32)
    blurred = np.zeros((max(h - 4, 0), max(w - 4, 0)), np.int32)
    sums = np.zeros(4, np.int64)     # whole frame: sum, squares; interior: sum, squares
    for i in range(n):
        image = gray[i]
        _moments_of_levels(image, hist, out[i])
        small = h < 7 or w < 7
        sums[:] = 0
        lap_hist[:] = 0
        if h >= 3 and w >= 3:
            for y in range(1, h - 1):
                _laplacian_row(image, y, row)
                _add_sums(row, 1, w - 1, sums, 0)
                if not small and 3 <= y < h - 3:   # the interior the re-blur keeps
                    _add_sums(row, 3, w - 3, sums, 2)
                    _count_levels(row, 3, w - 3, lap_hist)
        out[i, 5] = _variance(sums[0], sums[1], (h - 2) * (w - 2))
        if small:
            out[i, 6] = np.nan
            out[i, 7] = np.nan
            continue
        count = (h - 6) * (w - 6)
        before = _variance(sums[2], sums[3], count)
        edge_before = _percentile(lap_hist, count)
        _reblur(image, across, blurred)
        sums[:] = 0
        lap_hist[:] = 0
        for y in range(1, h - 5):
            _laplacian_row(blurred, y, row)
            _add_sums(row, 1, w - 5, sums, 2)
            _count_levels(row, 1, w - 5, lap_hist)
        kept = _variance(sums[2], sums[3], count)
        out[i, 6] = (kept + 1.0) / (before + 1.0)
        out[i, 7] = (_percentile(lap_hist, count) + 1.0) / (edge_before + 1.0)


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
def _laplacian_row(a, y, row):
    """row[1 : W-1] = the 4-neighbour Laplacian of row y of a (1 <= y < H - 1)."""
    up, mid, down = a[y - 1], a[y], a[y + 1]
    for x in range(1, a.shape[1] - 1):
        row[x] = (np.int32(mid[x - 1]) + np.int32(mid[x + 1]) + np.int32(up[x])
                  + np.int32(down[x]) - 4 * np.int32(mid[x]))


@jit
def _add_sums(row, x0, x1, sums, at):
    """Add the sum of row[x0:x1] to sums[at] and the sum of its squares to sums[at + 1]."""
    total = 0
    squares = 0
    for x in range(x0, x1):
        v = np.int64(row[x])
        total += v
        squares += v * v
    sums[at] += total
    sums[at + 1] += squares


@jit
def _count_levels(row, x0, x1, lap_hist):
    """Count the absolute values of row[x0:x1] in lap_hist."""
    for x in range(x0, x1):
        lap_hist[abs(row[x])] += 1


@jit
def _variance(total, squares, count):
    if count <= 0:
        return 0.0
    mean = total / count
    return max(squares / count - mean * mean, 0.0)


@jit
def _reblur(image, across, blurred):
    """The 5-tap binomial blur of the interior, rounded to whole levels (blur_measures): the
    1 4 6 4 1 taps along each row into `across`, then down each column."""
    h, w = blurred.shape
    for y in range(h + 4):
        r = image[y]
        for x in range(w):
            across[y, x] = (np.int32(r[x]) + 4 * np.int32(r[x + 1]) + 6 * np.int32(r[x + 2])
                            + 4 * np.int32(r[x + 3]) + np.int32(r[x + 4]))
    for y in range(h):
        a0, a1, a2, a3, a4 = across[y], across[y + 1], across[y + 2], across[y + 3], across[y + 4]
        for x in range(w):
            blurred[y, x] = (a0[x] + 4 * a1[x] + 6 * a2[x] + 4 * a3[x] + a4[x] + 128) >> 8


@jit
def _percentile(lap_hist, count):
    """np.percentile(values, EDGE_PERCENTILE) of the `count` values lap_hist counts."""
    if count <= 0:
        return 0.0
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
    the labelled (not `ignore`) pixels: its fill and the widest margin (-1: none labelled).
    A row at a time: its boundary pixels (`_row_edges`), the box from each row's first and
    last labelled pixel."""
    n, h, w = masks.shape
    for i in range(n):
        m = masks[i]
        c = counts[i]
        top, bottom, left, right = h, -1, w, -1
        edges = 0
        for y in range(h):
            r = m[y]
            for x in range(w):
                c[r[x]] += 1
            edges += _row_edges(m, y)
            if boxed:
                first = 0
                while first < w and r[first] == ignore:
                    first += 1
                if first < w:
                    last = w - 1
                    while r[last] == ignore:
                        last -= 1
                    top = min(top, y)
                    bottom = y
                    left = min(left, first)
                    right = max(right, last)
        ints[i, 0] = edges
        if not boxed:
            continue
        labelled = h * w - c[ignore]
        if labelled == 0:
            fill[i] = 0.0
            ints[i, 1] = -1
        else:
            fill[i] = labelled / max((bottom - top + 1) * (right - left + 1), 1)
            ints[i, 1] = max(max(top, left), max(h - 1 - bottom, w - 1 - right))


@jit
def mask_extents(mask, counts, boxes):
    """Fill counts (256,) with each value's pixels and boxes (256, 4) with each present
    value's (top, bottom, left, right); return the pixels whose right or lower neighbour
    differs (`_row_edges`, as mask_batch counts them). A row at a time: the rows a value
    appears in come in order, so its top is the first and its bottom the last."""
    h, w = mask.shape
    for v in range(256):
        boxes[v, 0], boxes[v, 1], boxes[v, 2], boxes[v, 3] = h, -1, w, -1
    edges = 0
    for y in range(h):
        r = mask[y]
        for x in range(w):
            v = r[x]
            counts[v] += 1
            if boxes[v, 1] != y:
                if boxes[v, 1] < 0:
                    boxes[v, 0] = y
                boxes[v, 1] = y
            if x < boxes[v, 2]:
                boxes[v, 2] = x
            if x > boxes[v, 3]:
                boxes[v, 3] = x
        edges += _row_edges(mask, y)
    return edges


@jit
def _row_edges(m, y):
    """Pixels of row y of the (H, W) mask m whose right or lower neighbour has another value:
    the comparisons with the next row and column in one branch-free loop."""
    h, w = m.shape
    r = m[y]
    edges = 0
    if y + 1 < h:
        d = m[y + 1]
        for x in range(w - 1):
            edges += (r[x + 1] != r[x]) | (d[x] != r[x])
        if w > 0:
            edges += d[w - 1] != r[w - 1]
    else:
        for x in range(w - 1):
            edges += r[x + 1] != r[x]
    return edges
