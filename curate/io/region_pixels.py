"""A region's pixels as text, for label_regions.csv and the review page's region fixes.

A region is stored by its half-open bounding box "row0 col0 row1 col1" and the runs of its
pixels inside that box, read row by row: "start length start length ...", starts 0-based
over the box's pixels. A 2x3 box whose first row is whole and whose second holds only its
last pixel reads "0 3 5 1".
"""

from __future__ import annotations

import numpy as np

from curate.io.errors import InputError


def box_of(region: np.ndarray) -> tuple[int, int, int, int]:
    """The half-open bounding box (row0, col0, row1, col1) of a non-empty (H, W) bool array."""
    rows, cols = np.flatnonzero(region.any(1)), np.flatnonzero(region.any(0))
    if not len(rows):
        raise ValueError("an empty region has no box")
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def encode(region: np.ndarray) -> tuple[str, str]:
    """(box, runs) of a non-empty (H, W) bool array, as label_regions.csv writes them."""
    r0, c0, r1, c1 = box_of(region)
    flat = np.ascontiguousarray(region[r0:r1, c0:c1]).ravel().astype(np.int8)
    edges = np.flatnonzero(np.diff(np.r_[0, flat, 0]))
    starts, ends = edges[0::2], edges[1::2]
    runs = " ".join(f"{s} {e - s}" for s, e in zip(starts, ends))
    return f"{r0} {c0} {r1} {c1}", runs


def parse_box(text: str, where: str = "box") -> tuple[int, int, int, int]:
    """(row0, col0, row1, col1) of "row0 col0 row1 col1"; InputError naming `where` else."""
    try:
        box = tuple(int(v) for v in str(text).split())
    except ValueError:
        box = ()
    if len(box) != 4 or box[0] < 0 or box[1] < 0 or box[2] <= box[0] or box[3] <= box[1]:
        raise InputError(f"{where} is {text!r}; expected 'row0 col0 row1 col1' (half-open, "
                         "row1 > row0, col1 > col0)")
    return box


def decode(box: str, runs: str, shape: tuple[int, int], where: str = "region") -> np.ndarray:
    """(H, W) bool of the region `encode` wrote as (box, runs), on a mask of `shape`.
    InputError (naming `where`) for a box outside the mask or runs outside the box."""
    r0, c0, r1, c1 = parse_box(box, f"{where}: box")
    if r1 > shape[0] or c1 > shape[1]:
        raise InputError(f"{where}: box {box!r} lies outside the {shape[0]}x{shape[1]} mask")
    try:
        values = [int(v) for v in str(runs).split()]
    except ValueError:
        values = [-1]
    size = (r1 - r0) * (c1 - c0)
    if len(values) % 2 or any(v < 0 for v in values):
        raise InputError(f"{where}: pixels {runs!r} are not 'start length' pairs")
    flat = np.zeros(size, bool)
    for start, length in zip(values[0::2], values[1::2]):
        if start + length > size:
            raise InputError(f"{where}: a run {start} {length} leaves its {r1 - r0}x{c1 - c0} box")
        flat[start:start + length] = True
    out = np.zeros(shape, bool)
    out[r0:r1, c0:c1] = flat.reshape(r1 - r0, c1 - c0)
    return out
