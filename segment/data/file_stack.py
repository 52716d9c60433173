"""A split's images or masks by file reference: a read-only, array-like stack that decodes the
files an index names, so a split larger than memory is trained and scored batch by batch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np


# About this many bytes per chunk when a whole split is streamed (normalization, class counts).
CHUNK_BYTES = 64 * 2**20


class FileStack:
    """Images (N, C, H, W) or masks (N, H, W) uint8 held as file paths. Indexing mirrors a numpy
    array: an int gives one decoded array, a slice or an index array a stacked decoded copy;
    `take` gives a subset that stays by reference (crossval folds, distributed shards)."""

    dtype = np.dtype(np.uint8)

    def __init__(self, paths: list[Path], item_shape: tuple[int, ...],
                 decode: Callable[[Path], np.ndarray]):
        self.paths, self.item_shape, self.decode = list(paths), tuple(item_shape), decode

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.paths), *self.item_shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape))

    def __len__(self) -> int:
        return len(self.paths)

    def __iter__(self) -> Iterator[np.ndarray]:
        return (self.decode(p) for p in self.paths)

    def __getitem__(self, index) -> np.ndarray:
        if isinstance(index, (int, np.integer)):
            # A fresh writable array, as a row of an eager array is (a decoded PNG is read-only);
            # range() gives list rules for a negative or out-of-range int, without an arange of N.
            return self._stacked([range(len(self.paths))[index]])[0]
        return self._stacked(self._rows()[index])

    def take(self, index) -> FileStack:
        """The rows `index` (slice, int array or list) as another FileStack: nothing decoded."""
        return FileStack([self.paths[i] for i in self._rows()[index]], self.item_shape, self.decode)

    def _rows(self) -> np.ndarray:
        # numpy's own rules for negative, out-of-range and boolean indices, applied to row numbers.
        return np.arange(len(self.paths))

    def _stacked(self, rows: np.ndarray) -> np.ndarray:
        out = np.empty((len(rows), *self.item_shape), self.dtype)
        for j, i in enumerate(rows):
            out[j] = self.decode(self.paths[i])
        return out


def take_rows(array, index):
    """Rows of a numpy array or a FileStack; a FileStack's subset stays by reference."""
    return array.take(index) if isinstance(array, FileStack) else array[index]


def chunks(array, chunk_bytes: int = CHUNK_BYTES) -> Iterator[np.ndarray]:
    """Consecutive row blocks of a numpy array (views) or a FileStack (decoded), ~chunk_bytes each."""
    per_row = max(1, int(np.prod(array.shape[1:])))
    rows = max(1, chunk_bytes // per_row)
    for start in range(0, len(array), rows):
        yield array[start:start + rows]


# Above this many decoded bytes (images N*C*H*W plus masks N*H*W) a split is held by reference:
# $SEGMENT_LAZY_BYTES, read by curate.io.pixels.lazy_budget, else 2 GB: training reads every
# pixel each epoch, so it holds far more in memory than curate's one-pass steps do.
LAZY_BYTES_ENV = "SEGMENT_LAZY_BYTES"
DEFAULT_LAZY_BYTES = 2_000_000_000


def size_groups(images) -> list[list[int]]:
    """Indices of the images (a list of (C, H, W) arrays or a FileStack) grouped by shape; a
    FileStack is one group, known without decoding."""
    if isinstance(images, FileStack):
        return [list(range(len(images)))]
    groups: dict[tuple, list[int]] = {}
    for i, img in enumerate(images):
        groups.setdefault(img.shape, []).append(i)
    return list(groups.values())


def gather(items, indices: list[int]):
    """items[indices] stacked into one array, or, from a FileStack, a FileStack by reference."""
    if isinstance(items, FileStack):
        return items.take(indices)
    return np.stack([items[i] for i in indices])
