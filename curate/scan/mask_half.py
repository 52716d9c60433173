"""The mask half of the scan's feature rows, from facts the reading pass keeps of each mask, so
that a folder read by reference is not decoded a second time for its masks either (the images:
curate.scan.image_half).

The mask columns depend on the class count and the ignored class, which are known only once
the whole folder is read. So the reading pass keeps what they are made from, about 550 bytes
a mask: its digest, how many pixels have a right or lower neighbour of another value, and per
value it holds, the pixel count and bounding box. The labelled box for any ignored class k is
the union of the boxes of the values other than k, so every column comes out as
`features.mask_stats` (and the compiled `pixel_kernel.mask_columns`) compute it, exactly:
counts and boxes are integers, and each ratio divides the same two integers.

A mask a label map or a fix replaces carries no facts (curate.io.pixels.map_pixels), and the
scan decodes it.
"""

from __future__ import annotations

import numpy as np

from curate.scan.image_half import digest


class MaskFacts:
    """One mask's facts (module docstring): `table` rows (value, pixels, top, bottom, left,
    right) for each value it holds, ascending; `edges`, pixels whose right or lower
    neighbour differs. One small array, not three: about 550 bytes a mask of five values."""

    __slots__ = ("shape", "digest", "edges", "table")

    def __init__(self, mask: np.ndarray, compiled: bool = False):
        self.shape = mask.shape
        self.digest = digest(mask)
        mask = np.ascontiguousarray(mask)
        if compiled:   # imported here: importing it imports numba (curate.scan.kernels)
            from curate.scan.pixel_kernel import mask_extents

            counts = np.zeros(256, np.int64)
            boxes = np.empty((256, 4), np.int64)
            self.edges = int(mask_extents(mask, counts, boxes))
            values = np.flatnonzero(counts)
            boxes = boxes[values]
        else:
            counts = np.bincount(mask.ravel(), minlength=256)
            values = np.flatnonzero(counts)
            self.edges = int(boundary_pixels(mask))
            boxes = np.array([_box(mask == v) for v in values], np.int64).reshape(-1, 4)
        # int32: a mask has at most MAX_PIXELS (40 M) pixels (curate.io.image_files)
        self.table = np.column_stack([values, counts[values], boxes]).astype(np.int32)


def columns(facts: list[MaskFacts], num_classes: int,
            ignore_index: int | None) -> dict[str, np.ndarray]:
    """The mask columns of these masks (all of one shape), as features.mask_stats gives them
    for the masks themselves, with mask_sha1 (hex) first."""
    n = len(facts)
    h, w = facts[0].shape
    counts = np.zeros((n, 256), np.int64)
    for i, f in enumerate(facts):
        counts[i, f.table[:, 0]] = f.table[:, 1]
    pixels = max(h * w, 1)
    out = {"mask_sha1": [f.digest.hex() for f in facts]}
    out.update({f"px_{k}": counts[:, k].copy() for k in range(num_classes)})
    out["out_of_range"] = counts[:, num_classes:].sum(axis=1)
    out["mask_classes"] = (counts > 0).sum(axis=1)
    ignored = counts[:, ignore_index] if ignore_index is not None else np.zeros(n, np.int64)
    labelled = h * w - ignored
    out["labelled_frac"] = labelled / pixels
    out["mask_boundary"] = np.array([f.edges for f in facts], np.int64) / pixels
    if ignore_index is None or h == 0 or w == 0:
        out["labelled_fill"] = np.ones(n)
        out["labelled_margin"] = np.zeros(n, np.int64)
        return out
    fill, margin = np.zeros(n), np.full(n, -1, np.int64)
    for i, f in enumerate(facts):
        if labelled[i] == 0:
            continue
        boxes = f.table[f.table[:, 0] != ignore_index]
        top, bottom = int(boxes[:, 2].min()), int(boxes[:, 3].max())
        left, right = int(boxes[:, 4].min()), int(boxes[:, 5].max())
        fill[i] = labelled[i] / max((bottom - top + 1) * (right - left + 1), 1)
        margin[i] = max(top, left, h - 1 - bottom, w - 1 - right)
    out["labelled_fill"], out["labelled_margin"] = fill, margin
    return out


def boundary_pixels(masks: np.ndarray) -> np.ndarray:
    """Per (H, W) mask of `masks` (..., H, W), the pixels whose right or lower neighbour has
    another value (numpy; the compiled kernels count them in pixel_kernel._row_edges)."""
    edges = np.zeros(masks.shape, dtype=bool)
    np.not_equal(masks[..., 1:], masks[..., :-1], out=edges[..., :-1])
    edges[..., :-1, :] |= masks[..., 1:, :] != masks[..., :-1, :]
    return np.count_nonzero(edges.reshape(*masks.shape[:-2], -1), axis=-1)


def _box(where: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the True pixels of a non-empty (H, W) boolean array."""
    rows, cols = np.flatnonzero(where.any(axis=1)), np.flatnonzero(where.any(axis=0))
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])
