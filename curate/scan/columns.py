"""The scan's feature table built batch by batch, in about the memory of the finished table.

Numeric columns are allocated whole on the first batch and each batch writes its rows in
place. So are text columns whose strings all have one length (the digests, the pHash and the
embedding: about 590 bytes of a pair's 760), each one byte buffer that pandas then holds
without a copy, spilled to disk above 16 MB (curate.io.spill); the scan lets the pages it has
written go every RELEASE_EVERY batches. Other text is kept as one Arrow array per
batch (not Python strings) and joined one column at a time at the end; joining held that
column twice at the scan's peak, and joining every column at once held the table twice and
left the batches' freed memory in the allocators of the scanning threads (about 0.6 kB a pair
at a million pairs).
"""

from __future__ import annotations

import sys
import threading

import numpy as np
import pandas as pd

from curate.io.spill import arrow_strings, buffer, release_spilled, text_dtype, text_series

RELEASE_EVERY = 64         # batches put between releases of the spilled pages written so far


class FeatureColumns:
    """Rows of `n` pairs, put a batch at a time (from any thread) by `put`; `table()` then
    gives the DataFrame in dataset order, with columns in the first batch's order."""

    def __init__(self, n: int):
        self.n = n
        self.order: list[str] = []
        self.numbers: dict[str, np.ndarray] = {}
        self.text: dict[str, dict[int, tuple[np.ndarray, object]]] = {}
        self.fixed: dict[str, _FixedText] = {}
        self.batches = 0
        self.lock = threading.Lock()

    def put(self, number: int, rows: list[int], features: dict[str, np.ndarray]) -> None:
        """Batch `number` (batches are numbered in the order `table` joins their text)
        holds the pairs at positions `rows`. Safe from several threads: a batch's rows are
        written under a lock (a few microseconds beside the milliseconds of its scan)."""
        rows = np.asarray(rows)
        arrow = arrow_strings()
        text = {name: values for name, values in features.items() if values.dtype == object}
        # one length, in ASCII: bytes to write in place (without Arrow, pandas holds Python
        # strings, which Python strings already are)
        fixed = {name: _ascii_rows(values) if arrow else None for name, values in text.items()}
        with self.lock:
            self.order = self.order or list(features)
            for name, values in features.items():
                if name not in text:
                    self._column(name, values.dtype)[rows] = values
                elif not self._put_fixed(name, number, rows, fixed[name]):
                    self.text.setdefault(name, {})[number] = (
                        rows, arrow.array(values, arrow.large_string()) if arrow else values)
            self.batches += 1
            release = self.batches % RELEASE_EVERY == 0
        if release:      # else the pages written stay in memory until the scan's end
            release_spilled()

    def _put_fixed(self, name: str, number: int, rows: np.ndarray,
                   data: np.ndarray | None) -> bool:
        """Write a batch's text of one length into its column's buffer: False (the batch to
        be kept whole) for a column that has other text, or for this batch if it has (its
        column's rows so far then go back to per-batch arrays)."""
        column = self.fixed.get(name)
        if column is None and data is not None and name not in self.text:
            column = self.fixed[name] = _FixedText(self.n, data.shape[1])
        if column is None:
            return False
        if data is None or data.shape[1] != column.width:
            self.text[name] = column.batches()
            del self.fixed[name]
            return False
        column.put(number, rows, data)
        return True

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
            elif name in self.fixed:
                columns[name] = self.fixed.pop(name).series()
            else:
                columns[name] = _joined(self.text.pop(name))
        # pandas joins the numeric columns into one block per type (a copy of them: less than
        # the largest text column costs to join, and a frame of many classes stays quick)
        table = pd.DataFrame(columns)
        release_unused()
        return table


class _FixedText:
    """A text column of `n` strings of `width` ASCII characters each, as one byte buffer that
    batches write their rows into; `series` hands it to pandas without a copy."""

    def __init__(self, n: int, width: int):
        self.width = width
        self.data = buffer(n * width).reshape(n, width)
        self.written: dict[int, np.ndarray] = {}      # batch number -> its rows

    def put(self, number: int, rows: np.ndarray, data: np.ndarray) -> None:
        self.data[rows] = data
        self.written[number] = rows

    def batches(self) -> dict[int, tuple[np.ndarray, object]]:
        """The rows written so far as per-batch Arrow arrays (the layout of `_joined`)."""
        arrow = arrow_strings()
        return {number: (rows, arrow.array(_strings(self.data[rows]), arrow.large_string()))
                for number, rows in self.written.items()}

    def series(self) -> pd.Series:
        n = len(self.data)
        rows = sum(map(len, self.written.values()))
        if rows != n:   # every row is written by the scan; anything else is a bug here
            raise RuntimeError(f"text column of {n} rows got {rows}")
        return text_series(self.data)


def _ascii_rows(values: np.ndarray) -> np.ndarray | None:
    """(len(values), width) uint8: the strings' bytes, if every value is a string of one
    length in ASCII; else None."""
    if not len(values) or not all(type(v) is str for v in values):
        return None
    width = len(values[0])
    if any(len(v) != width for v in values) or not width:
        return None
    try:
        data = "".join(values).encode("ascii")
    except UnicodeEncodeError:
        return None
    return np.frombuffer(data, np.uint8).reshape(len(values), width)


def _strings(rows: np.ndarray) -> list[str]:
    return [bytes(row).decode("ascii") for row in rows]


def _joined(batches: dict[int, tuple[np.ndarray, object]]) -> pd.Series:
    """The batches' text in dataset order, as pandas would hold those strings: one Arrow
    array (the batches' chunks joined, and gathered into dataset order where the batches
    do not cover the rows in order, as pairs of several shapes do); without Arrow, one
    object array."""
    numbers = sorted(batches)
    rows = np.concatenate([batches[k][0] for k in numbers])
    in_order = np.array_equal(rows, np.arange(len(rows)))
    arrow = arrow_strings()
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
    return pd.Series(joined, dtype=text_dtype(), copy=False)


def release_unused() -> None:
    """Give the memory Arrow freed back to the system, and the pages of the spilled text
    (`release_spilled`). Arrow's allocator (mimalloc) keeps freed blocks for reuse, which
    pandas' other work cannot use: at a million pairs a factorize of the sha1 column left
    140 MB resident after it was done. Without pyarrow, nothing is spilled or freed here."""
    release_spilled()
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
