"""Vectors stored in the feature table as text, and read back a block of rows at a time.

The scan keeps each pair's embedding (curate/scan/embedding.py) as one string: its values as
big-endian float16, in hex (4 characters a value), so that the table, the manifest CSV and
parquet all hold it as plain text. Reading it back never needs the whole (N, D) matrix:
`StoredRows` decodes the rows a caller asks for, and `from_hex` is all of them at once.

Where the column is one buffer of fixed-length text (`curate.io.spill.fixed_rows`: the scan's
own column, spilled to disk or not), rows are decoded from its bytes with a table lookup, and
only the pages of the rows asked for are read; otherwise through Python strings,
HEX_BLOCK of them at a time. Both give the same values; a row that is not hex of the
table's length is NaN.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from curate.io.spill import fixed_rows, gather, release_spilled

HEX_BLOCK = 1 << 14    # rows decoded at once
GATHER = 256           # scattered rows read from a buffer between letting its pages go

# value of each ASCII hex digit; 255 for every other byte
_NIBBLE = np.full(256, 255, dtype=np.uint8)
for _digits, _first in (("0123456789", 0), ("abcdef", 10), ("ABCDEF", 10)):
    _NIBBLE[np.frombuffer(_digits.encode(), np.uint8)] = np.arange(_first, _first + len(_digits))


def to_hex(vectors: np.ndarray) -> np.ndarray:
    """(N,) strings: each row as big-endian float16, hex (4 characters per value). An object
    array of Python strings (1 byte a character; numpy's own string dtype takes 4)."""
    data = np.ascontiguousarray(vectors, dtype=">f2")
    return strings([row.tobytes().hex() for row in data])


def strings(values: list[str]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def from_hex(values, dtype=np.float32) -> np.ndarray:
    """(N, D) `dtype` from the strings of `to_hex` (a list, an array or a Series); rows that
    are empty or of another length (an older scan) come back as NaN. float16 keeps the stored
    values exactly at half float32's memory."""
    rows = StoredRows(values)
    out = np.full((len(rows), rows.width), np.nan, dtype=dtype)
    if rows.width:
        for start, block in rows.blocks():
            out[start:start + len(block)] = block
    return out


class StoredRows:
    """The rows `rows` (every row when None) of a stored vector column, decoded as float16
    (the stored values exactly) only when asked for, NaN where `from_hex` gives NaN: a caller
    that reads the rows block by block never holds the (N, D) matrix (176 MB at a million
    pairs of 88 values)."""

    def __init__(self, values, rows: np.ndarray | None = None):
        self.values, self.rows = values, rows
        self.raw = fixed_rows(values) if isinstance(values, pd.Series) else None
        if self.raw is not None and self.raw.shape[1] % 4 == 0:
            self.width = self.raw.shape[1] // 4
        else:
            self.raw, self.width = None, _width(values)

    def __len__(self) -> int:
        return len(self.values) if self.rows is None else len(self.rows)

    def subset(self, rows: np.ndarray) -> StoredRows:
        """Rows `rows` of these (positions among them)."""
        out = copy.copy(self)    # the column's buffer and width, found once
        out.rows = rows if self.rows is None else self.rows[rows]
        return out

    def take(self, at) -> np.ndarray:
        """(len(at), D) float16: the rows at positions `at` (an index array or a slice)."""
        if self.rows is not None:
            at = self.rows[at]
        if self.raw is not None:
            decoded = _from_bytes(_gathered(self.raw, at), self.width)
            if decoded is not None:
                return decoded
        return _decoded(_items(self.values, at), self.width)

    def blocks(self):
        """(start, (B, D) float16) for consecutive blocks of HEX_BLOCK rows, in order; the
        pages of a spilled column that a block read are let go before the next."""
        for start in range(0, len(self), HEX_BLOCK):
            block = self.take(slice(start, start + HEX_BLOCK))
            yield start, block
            release_spilled()


def _gathered(raw: np.ndarray, at) -> np.ndarray:
    """raw[at], for scattered rows GATHER at a time with the pages read let go in between:
    each row read from a spilled buffer maps the pages around it too (the kernel's fault-around
    and read-ahead), so 2,048 rows scattered over a million would hold about 300 MB."""
    if isinstance(at, slice) or len(at) <= GATHER:
        return raw[at]
    return gather(raw, at, np.empty((len(at), raw.shape[1]), dtype=raw.dtype), GATHER)


def _from_bytes(raw: np.ndarray, d: int) -> np.ndarray | None:
    """(B, d) float16 from (B, 4d) ASCII hex bytes; None if any byte is not a hex digit."""
    nibbles = _NIBBLE[raw]
    if (nibbles == 255).any():
        return None
    data = (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]
    return np.ascontiguousarray(data).view(">f2").astype(np.float16)


def _decoded(block: list, d: int) -> np.ndarray:
    """(len(block), d) float16 from strings of to_hex; others (not text, another length) NaN."""
    out = np.full((len(block), d), np.nan, dtype=np.float16)
    good = [k for k, s in enumerate(block) if isinstance(s, str) and len(s) == 4 * d]
    if good and d:
        data = bytes.fromhex("".join([block[k] for k in good]))
        out[np.asarray(good)] = np.frombuffer(data, dtype=">f2").reshape(-1, d)
    return out


def _width(values) -> int:
    """D: the values in the longest stored string."""
    longest = 0
    text = isinstance(getattr(values, "dtype", None), pd.StringDtype)
    for start in range(0, len(values), HEX_BLOCK):
        block = slice(start, start + HEX_BLOCK)
        if text:                                  # counted without Python strings
            length = values.iloc[block].str.len().max()
            longest = max(longest, 0 if pd.isna(length) else int(length))
        else:
            longest = max([longest] + [len(s) for s in _items(values, block) if isinstance(s, str)])
        release_spilled()   # the pages of a spilled column that counting read
    return longest // 4


def _items(values, at) -> list:
    """values[at] (a slice or an index array) as a list of Python objects, from a Series, an
    array or a list."""
    if hasattr(values, "iloc"):
        part = values.iloc[at]
    elif isinstance(at, slice) or isinstance(values, np.ndarray):
        part = values[at]
    else:
        part = [values[k] for k in at]
    return part.tolist() if hasattr(part, "tolist") else list(part)
