"""Columns of float16 vectors scaled robustly, (x - median) / (1.4826 MAD) clipped to +-20,
with the median and MAD found exactly without ever holding the whole matrix.

float16 has 65,536 bit patterns, so how often each pattern occurs in a column says everything
a median needs: one pass over the rows, a block at a time, counts them per column, and the
median (or the median distance to it, the MAD) is read off the running total of the counts in
value order. The figures are the ones np.median gives on the float64 matrix: its middle value,
or the mean of its two middle values when the count is even. At a million pairs of 88 values
the matrix would be 176 MB beside the caller's projection; the counts are 46 MB at any size.
"""

from __future__ import annotations

import numpy as np

from curate.scan.stored_vectors import HEX_BLOCK

PATTERNS = 1 << 16
CLIP = 20.0            # a statistic gone wild on one image must not decide a distance alone
MAD_TO_SIGMA = 1.4826

# The value of every float16 bit pattern, in float64 (NaN and inf patterns are never counted:
# only rows whose values are all finite are).
_VALUES = np.arange(PATTERNS, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(np.float64)


class VectorsInMemory:
    """(N, D) float16 vectors in memory, read as `curate.scan.embedding.StoredRows` reads the
    stored column: blocks of HEX_BLOCK rows, rows taken by position, a subset of the rows."""

    def __init__(self, vectors: np.ndarray):
        if vectors.dtype != np.float16:
            raise TypeError(f"float16 vectors expected, not {vectors.dtype}")
        self.vectors = vectors
        self.width = vectors.shape[1]

    def __len__(self) -> int:
        return len(self.vectors)

    def subset(self, rows: np.ndarray) -> VectorsInMemory:
        return VectorsInMemory(self.vectors[rows])

    def take(self, at) -> np.ndarray:
        return self.vectors[at]

    def blocks(self):
        for start in range(0, len(self.vectors), HEX_BLOCK):
            yield start, self.vectors[start:start + HEX_BLOCK]


class RobustScale:
    """The rows of float16 vectors (an array, or `StoredRows` of the stored column) scaled per
    column; `scale[rows]` and `scale.scaled(block)` give float64. Rows with a value that is not
    finite are left out: `valid` marks the rows kept, and positions count kept rows only. A
    column with no spread around its median (MAD 0) is scaled by its standard deviation, and
    one with no spread at all by 1."""

    def __init__(self, rows):
        self.rows = rows if hasattr(rows, "blocks") else VectorsInMemory(np.asarray(rows))
        d = self.rows.width
        counts = np.zeros((d, PATTERNS), dtype=np.int64)
        valid = np.zeros(len(self.rows), dtype=bool)
        for start, block in self.rows.blocks():
            good = np.isfinite(block).all(axis=1)
            valid[start:start + len(block)] = good
            bits = np.ascontiguousarray(block[good]).view(np.uint16)
            for j in range(d):
                counts[j] += np.bincount(bits[:, j], minlength=PATTERNS)
        self.valid = valid
        if not valid.all():
            self.rows = self.rows.subset(np.flatnonzero(valid))
        n = int(valid.sum())
        self.median = np.array([_middle(_VALUES, c, n) for c in counts])
        with np.errstate(invalid="ignore"):    # inf - inf in patterns never counted
            mad = np.array([_middle(np.abs(_VALUES - m), c, n)
                            for m, c in zip(self.median, counts)]) * MAD_TO_SIGMA
        spread = mad.copy()
        flat = mad <= 0
        if flat.any() and n:
            columns = np.concatenate([block[:, flat] for _, block in self.rows.blocks()])
            spread[flat] = (columns.astype(np.float64) - self.median[flat]).std(axis=0)
        self.spread = np.where(spread > 0, spread, 1.0)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, at) -> np.ndarray:
        return self.scaled(self.rows.take(at))

    def scaled(self, block: np.ndarray) -> np.ndarray:
        """(B, D) float64 of (B, D) float16 rows."""
        x = block.astype(np.float64)
        x -= self.median
        x /= self.spread
        return np.clip(x, -CLIP, CLIP, out=x)


def _middle(values: np.ndarray, counts: np.ndarray, n: int) -> float:
    """np.median of the multiset holding values[p] counts[p] times (n values in all)."""
    if n == 0:
        return np.nan
    present = np.flatnonzero(counts)
    order = present[np.argsort(values[present], kind="stable")]
    total = np.cumsum(counts[order])
    low, high = np.searchsorted(total, [(n - 1) // 2, n // 2], side="right")
    return (values[order[low]] + values[order[high]]) / 2
