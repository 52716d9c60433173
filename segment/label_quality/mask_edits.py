"""Edits that make a mask wrong the way labellers do, for teaching the label-quality score.

`segment crossval` cannot know what a wrong mask of this dataset looks like to this model, so it
makes some: it applies one of these edits to copies of the dataset's own masks and learns, from
the out-of-fold probabilities it already has, to tell an edited copy from the mask as given
(segment/label_quality/score.py). The four kinds follow what goes wrong in practice:

- relabel: a connected region of one class gets another class the dataset uses;
- border: one class grows 2-8 px into a neighbouring class (the neighbour is eroded);
- shift: the whole mask moves 2-8 px (registered off its image); uncovered pixels are
  unlabelled, or repeat the edge when the dataset has no ignore class;
- delete: a region of 0.5-40 % of the image is painted with the class around it.

Each edit is a pure function of (mask, rng); it returns None when the mask offers nothing to
edit that way (one class only, no region in the size range, an edit that changes < 1 % of the
labelled pixels).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from segment.errors import ConfigError

KINDS = ("relabel", "border", "shift", "delete")
MIN_MOVE, MAX_MOVE = 2, 8  # px, border moves and shifts (largest of |dy|, |dx|)
MIN_RELABEL = 0.02  # share of the image a relabelled region covers at least
DELETE_SIZES = (0.005, 0.4)  # shares of the image a deleted region may cover
MIN_CHANGE = 0.01  # share of the labelled pixels an edit must change


def labelled_of(mask: np.ndarray, ignore_index: int | None) -> np.ndarray:
    """(H, W) bool: the mask's labelled pixels (all of them without an ignore class)."""
    return np.ones(mask.shape, bool) if ignore_index is None else mask != ignore_index


def _regions(mask: np.ndarray, classes: list[int], low: float, high: float) -> list[np.ndarray]:
    """Connected regions of the given classes covering low..high of the image."""
    out = []
    for c in classes:
        regions, n = ndimage.label(mask == c)
        if not n:
            continue
        sizes = np.bincount(regions.ravel())[1:]
        for r in np.flatnonzero((sizes >= low * mask.size) & (sizes <= high * mask.size)):
            out.append(regions == r + 1)
    return out


def _changed_enough(new: np.ndarray, mask: np.ndarray, labelled: np.ndarray) -> bool:
    return labelled.any() and (new != mask)[labelled].mean() >= MIN_CHANGE


def relabel(mask, rng, classes, ignore_index):
    """A random region (>= 2 % of the image) of a labelled class takes another class."""
    if len(classes) < 2:
        return None
    present = [c for c in classes if (mask == c).any()]
    regions = _regions(mask, present, MIN_RELABEL, 1.0)
    if not regions:
        return None
    region = regions[rng.integers(len(regions))]
    own = int(mask[region][0])
    out = mask.copy()
    out[region] = rng.choice([c for c in classes if c != own])
    return out


def border(mask, rng, classes, ignore_index):
    """Class a grows r px (2..MAX_MOVE) into a touching class b."""
    present = [c for c in classes if (mask == c).sum() >= 0.02 * mask.size]
    pairs = []
    for a in present:
        near = ndimage.binary_dilation(mask == a)
        pairs += [(a, b) for b in present if b != a and (near & (mask == b)).any()]
    if not pairs:
        return None
    a, b = pairs[rng.integers(len(pairs))]
    radius = int(rng.integers(MIN_MOVE, MAX_MOVE + 1))
    grown = ndimage.distance_transform_edt(mask != a) <= radius
    out = mask.copy()
    out[grown & (mask == b)] = a
    return out if _changed_enough(out, mask, labelled_of(mask, ignore_index)) else None


def shift(mask, rng, classes, ignore_index):
    """The mask moves by (dy, dx), 2 <= max(|dy|, |dx|) <= MAX_MOVE."""
    if len([c for c in classes if (mask == c).any()]) < 2:
        return None
    while True:
        dy, dx = (int(v) for v in rng.integers(-MAX_MOVE, MAX_MOVE + 1, size=2))
        if max(abs(dy), abs(dx)) >= MIN_MOVE:
            break
    h, w = mask.shape
    padded = np.pad(mask, MAX_MOVE, mode="edge")
    out = padded[MAX_MOVE - dy:MAX_MOVE - dy + h, MAX_MOVE - dx:MAX_MOVE - dx + w].copy()
    if ignore_index is not None:
        ys, xs = np.arange(h)[:, None] - dy, np.arange(w)[None, :] - dx
        out[~((ys >= 0) & (ys < h) & (xs >= 0) & (xs < w))] = ignore_index
    both = labelled_of(mask, ignore_index) & labelled_of(out, ignore_index)
    return out if _changed_enough(out, mask, both) else None


def delete(mask, rng, classes, ignore_index):
    """A region of 0.5-40 % of the image takes the commonest labelled class of its 2-px ring."""
    regions = _regions(mask, classes, *DELETE_SIZES)
    for i in rng.permutation(len(regions)):
        region = regions[i]
        ring = ndimage.binary_dilation(region, iterations=2) & ~region
        around = mask[ring]
        if ignore_index is not None:
            around = around[around != ignore_index]
        if around.size >= 10:
            out = mask.copy()
            out[region] = np.bincount(around).argmax()
            return out
    return None


EDITS = {"relabel": relabel, "border": border, "shift": shift, "delete": delete}


def plant_edits(masks, ignore_index: int | None, num_classes: int, rows: np.ndarray,
                per_kind: int, seed, kinds_of: tuple[str, ...] = KINDS
                ) -> tuple[list[int], list[str], list[np.ndarray]]:
    """Up to `per_kind` edited copies of each kind of `kinds_of` (default all), each from a
    different row of `rows` (tried in a shuffled order until the kind has its share; a mask
    may serve several kinds): (row, kind, edited mask) lists. Deterministic in `seed` (an int
    or a sequence of ints)."""
    unknown = [k for k in kinds_of if k not in EDITS]
    if unknown:
        raise ConfigError(f"unknown edit kind(s) {unknown}; choose from {list(KINDS)}")
    rng = np.random.default_rng(seed)
    classes = [c for c in range(num_classes) if c != ignore_index]
    kept_rows, kinds, edited = [], [], []
    for kind in kinds_of:
        done = 0
        for row in rng.permutation(np.asarray(rows)):
            if done == per_kind:
                break
            new = EDITS[kind](np.asarray(masks[row]), rng, classes, ignore_index)
            if new is not None:
                kept_rows.append(int(row))
                kinds.append(kind)
                edited.append(new)
                done += 1
    return kept_rows, kinds, edited
