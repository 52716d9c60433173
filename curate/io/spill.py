"""Table text kept on disk: columns whose strings all have one length (the SHA-1 digests, the
pHash, the picture-style embedding: about 590 of the 760 bytes a pair of the feature table).

Such a column is one (rows, length) byte buffer that pandas holds as Arrow's own string layout
(the buffer, and offsets 0, length, 2 x length, ...) without a copy. A buffer over SPILL_BYTES
is spilled: a temporary file (in TMPDIR), mapped and unlinked at once, so it is gone when the
table is, or when the process ends; the space is reserved up front, so that a full disk is
found when the buffer is made (which then stays in memory) and not by a write into the map.
`release_spilled` drops the pages of every spilled buffer from the process's memory: the scan
calls it as it writes (curate.scan.columns), the checks after each check, the embedding's
decoder as it reads, `taken` as it gathers. A page read again comes back from the page cache
or the disk. At a million pairs that keeps about 590 MB of the table out of memory.
"""

from __future__ import annotations

import functools
import mmap
import os
import tempfile
import threading
import weakref

import numpy as np
import pandas as pd

SPILL_BYTES = 16 << 20     # a text column of one length and more bytes than this is spilled
GATHER_BYTES = 16 << 20    # bytes `taken` gathers between releases of the pages
_SPILLED: "weakref.WeakSet[mmap.mmap]" = weakref.WeakSet()    # the maps of spilled buffers
_LOCK = threading.Lock()   # _SPILLED is added to and read from several threads


def buffer(size: int) -> np.ndarray:
    """(size,) uint8, spilled (module docstring) from SPILL_BYTES on; in memory where the
    temporary file cannot be made."""
    if size <= SPILL_BYTES:
        return np.empty(size, np.uint8)
    try:
        handle, name = tempfile.mkstemp(prefix="curate-table-")
    except OSError:
        return np.empty(size, np.uint8)
    try:
        if hasattr(os, "posix_fallocate"):
            os.posix_fallocate(handle, 0, size)
        else:
            os.ftruncate(handle, size)
        mapped = mmap.mmap(handle, size)   # shared: released pages keep what was written
    except OSError:
        return np.empty(size, np.uint8)
    finally:
        os.close(handle)
        try:
            os.unlink(name)      # the map keeps the file until the buffer is freed
        except OSError:          # an open file cannot be unlinked (Windows): at exit then
            import atexit

            atexit.register(lambda: os.path.exists(name) and os.unlink(name))
    with _LOCK:
        _SPILLED.add(mapped)
    return np.frombuffer(mapped, np.uint8)


def release_spilled() -> None:
    """Drop the pages of every spilled buffer from this process's memory. Safe at any time,
    from any thread: the maps are shared with their files, so nothing written is lost, and a
    page read again comes back with the same bytes. A no-op without madvise."""
    if not hasattr(mmap, "MADV_DONTNEED"):
        return
    with _LOCK:
        maps = list(_SPILLED)
    for mapped in maps:
        try:
            mapped.madvise(mmap.MADV_DONTNEED)
        except ValueError:       # closed meanwhile
            pass


def text_series(data: np.ndarray) -> pd.Series:
    """The rows of a (n, length) uint8 buffer as a text Series of pandas' own string type,
    the buffer shared, not copied (where pandas holds text in Arrow: `arrow_strings`)."""
    arrow = arrow_strings()
    n, width = data.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    joined = arrow.Array.from_buffers(arrow.large_string(), n, [
        None, arrow.py_buffer(offsets), arrow.py_buffer(data.reshape(-1))])
    return pd.Series(joined, dtype=text_dtype(), copy=False)


def text_dtype():
    """The type pandas gives a column of Python strings."""
    return pd.Series(["text"]).dtype


@functools.cache
def arrow_strings():
    """pyarrow, where pandas holds strings in Arrow arrays (pandas >= 3 with pyarrow
    installed), else None: the text then stays in Python strings, as pandas keeps it."""
    if getattr(text_dtype(), "storage", None) != "pyarrow":
        return None
    import pyarrow

    return pyarrow


def taken(table: pd.DataFrame, rows) -> pd.DataFrame:
    """table.iloc[rows] with a new RangeIndex, as Dataset.subset keeps pairs; a text column of
    one length whose kept bytes exceed SPILL_BYTES is gathered straight into a spilled buffer,
    not through memory (a million pairs' kept table would be 590 MB more)."""
    rows = np.asarray(rows, dtype=np.int64).reshape(-1)
    fixed = {}
    if table.columns.is_unique:
        for name in table.columns:
            data = fixed_rows(table[name])
            if data is not None and len(rows) * data.shape[1] > SPILL_BYTES:
                fixed[name] = data
    out = table.drop(columns=list(fixed)).iloc[rows].reset_index(drop=True)  # IndexError here
    for name, data in fixed.items():       # in the table's order: each lands where it was
        width = data.shape[1]
        target = buffer(len(rows) * width).reshape(len(rows), width)
        gather(data, rows, target, max(1, GATHER_BYTES // width))
        out.insert(table.columns.get_loc(name), name, text_series(target))
    return out


def gather(data: np.ndarray, rows: np.ndarray, out: np.ndarray, step: int) -> np.ndarray:
    """out[:] = data[rows], `step` rows at a time, the spilled pages read let go after each
    step (rows read from a spilled buffer stay mapped until then)."""
    for start in range(0, len(rows), step):
        out[start:start + step] = data[rows[start:start + step]]
        release_spilled()
    return out


def fixed_rows(column: pd.Series) -> np.ndarray | None:
    """(n, length) uint8 view of a text column of pandas' own string type whose n strings
    all have one length in bytes (and none is missing); else None."""
    arrow = arrow_strings()
    if arrow is None or column.dtype != text_dtype() or not len(column):
        return None
    chunks = column.array.__arrow_array__()
    if chunks.num_chunks != 1 or chunks.null_count:
        return None
    array = chunks.chunk(0)
    if arrow.types.is_large_string(array.type):
        kind = np.int64
    elif arrow.types.is_string(array.type):
        kind = np.int32
    else:
        return None
    n = len(array)
    _, offsets, data = array.buffers()
    offsets = np.frombuffer(offsets, kind)[array.offset:array.offset + n + 1]
    width = int(offsets[1] - offsets[0])
    if width <= 0 or int(offsets[-1] - offsets[0]) != n * width \
            or not (np.diff(offsets) == width).all():
        return None
    start = int(offsets[0])
    return np.frombuffer(data, np.uint8)[start:start + n * width].reshape(n, width)
