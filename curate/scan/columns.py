"""The scan's feature table built batch by batch, in about the memory of the finished table.

Numeric columns are allocated whole on the first batch and each batch writes its rows in
place; text columns are kept as one Arrow array per batch (not Python strings) and joined one
column at a time at the end. Joining every per-batch column at the end instead held the table
twice at its peak, and left the batches' freed memory in the allocators of the scanning
threads (about 0.6 kB a pair at a million pairs).
"""

from __future__ import annotations

import functools
import sys
import threading

import numpy as np
import pandas as pd


class FeatureColumns:
    """Rows of `n` pairs, put a batch at a time (from any thread) by `put`; `table()` then
    gives the DataFrame in dataset order, with columns in the first batch's order."""

    def __init__(self, n: int):
        self.n = n
        self.order: list[str] = []
        self.numbers: dict[str, np.ndarray] = {}
        self.text: dict[str, dict[int, tuple[np.ndarray, object]]] = {}
        self.lock = threading.Lock()

    def put(self, number: int, rows: list[int], features: dict[str, np.ndarray]) -> None:
        """Batch `number` (batches are numbered in the order `table` joins their text)
        holds the pairs at positions `rows`. Safe from several threads: a batch's rows are
        written under a lock (a few microseconds beside the milliseconds of its scan)."""
        rows = np.asarray(rows)
        arrow = _arrow_text()
        text = {name: arrow.array(values, arrow.large_string()) if arrow else values
                for name, values in features.items() if values.dtype == object}
        with self.lock:
            self.order = self.order or list(features)
            for name, values in features.items():
                if name in text:
                    self.text.setdefault(name, {})[number] = (rows, text[name])
                else:
                    self._column(name, values.dtype)[rows] = values

    def _column(self, name: str, dtype: np.dtype) -> np.ndarray:
        """The whole column, allocated at its first batch, widened if a batch needs it."""
        column = self.numbers.get(name)
        if column is None:
            column = self.numbers[name] = np.empty(self.n, dtype)
        elif np.result_type(column.dtype, dtype) != column.dtype:
            column = self.numbers[name] = column.astype(np.result_type(column.dtype, dtype))
        return column

    def table(self) -> pd.DataFrame:
        if not self.order:
            return pd.DataFrame(columns=["height"])
        columns = {}
        for name in self.order:
            if name in self.numbers:
                columns[name] = self.numbers.pop(name)
            else:
                columns[name] = _joined(self.text.pop(name))
        # pandas joins the numeric columns into one block per type (a copy of them: less than
        # the largest text column costs to join, and a frame of many classes stays quick)
        return pd.DataFrame(columns)


def _joined(batches: dict[int, tuple[np.ndarray, object]]) -> pd.Series:
    """The batches' text in dataset order, as pandas would hold those strings: one Arrow
    array (the batches' chunks joined, and gathered into dataset order where the batches
    do not cover the rows in order, as pairs of several shapes do); without Arrow, one
    object array."""
    numbers = sorted(batches)
    rows = np.concatenate([batches[k][0] for k in numbers])
    in_order = np.array_equal(rows, np.arange(len(rows)))
    arrow = _arrow_text()
    if arrow is None:
        values = np.concatenate([batches[k][1] for k in numbers])
        return pd.Series(values if in_order else values[np.argsort(rows, kind="stable")])
    chunks = arrow.chunked_array([batches.pop(k)[1] for k in numbers], arrow.large_string())
    # One contiguous array, as pandas builds from Python strings: a column of thousands of
    # batch chunks makes every later filter or factorize join them again (a copy each time).
    joined = chunks.combine_chunks() if in_order else \
        chunks.take(arrow.array(np.argsort(rows, kind="stable"))).combine_chunks()
    del chunks
    release_unused()   # the batches' memory back to the system
    return pd.Series(joined, dtype=pd.Series(["text"]).dtype, copy=False)


@functools.cache
def _arrow_text():
    """pyarrow, where pandas holds strings in Arrow arrays (pandas >= 3 with pyarrow
    installed), else None: the text then stays in Python strings, as pandas keeps it."""
    dtype = pd.Series(["text"]).dtype
    if getattr(dtype, "storage", None) != "pyarrow":
        return None
    import pyarrow

    return pyarrow


def release_unused() -> None:
    """Give the memory Arrow freed back to the system. Its allocator (mimalloc) keeps freed
    blocks for reuse, which pandas' other work cannot use: at a million pairs a factorize of
    the sha1 column left 140 MB resident after it was done. A no-op without pyarrow."""
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
