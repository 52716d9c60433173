"""Region edits: how the region classifier (regions.py) learns what a wrong region looks
like to this model. Each edit changes one region of a copy of one of the dataset's own masks
the way labellers go wrong at the scale of an object:

- delete: an object (0.1-10 % of the image) painted with the commonest labelled class around
  it (the small object nobody labelled);
- relabel: a component (0.5-30 % of the image) given another class of the dataset;
- border: within a disk of 8-20 px around a point of a border, one class grows 2-6 px into
  the other (an outline drawn off its edge, locally);
- unlabel: an object given the ignore class (left unlabelled; only with an ignore class).

Each is a pure function of (mask, rng, classes, ignore_index) that returns the edited copy,
or None when the mask offers nothing to edit that way.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

MIN_CHANGE = 8  # px a border move must change (regions.MIN_AREA: less is no proposal)
RING = 2  # px around an object read as its surroundings
REGION_EDITS = ("delete", "relabel", "border", "unlabel")
DELETE_SIZES = (0.001, 0.1)  # shares of the image a deleted or unlabelled object covers
RELABEL_SIZES = (0.005, 0.3)
BORDER_RADIUS = (8, 20)  # px: the disk within which a border moves
BORDER_MOVE = (2, 6)  # px it moves


def _components(mask: np.ndarray, classes, low: float, high: float) -> list[np.ndarray]:
    out = []
    for c in classes:
        parts, n = ndimage.label(mask == c)
        if not n:
            continue
        size = np.bincount(parts.ravel())[1:]
        for r in np.flatnonzero((size >= low * mask.size) & (size <= high * mask.size)):
            out.append(parts == r + 1)
    return out


def _surroundings(mask: np.ndarray, region: np.ndarray, ignore_index: int | None) -> int | None:
    ring = ndimage.binary_dilation(region, iterations=RING) & ~region
    around = mask[ring]
    if ignore_index is not None:
        around = around[around != ignore_index]
    return int(np.bincount(around).argmax()) if around.size >= 5 else None


def delete_object(mask, rng, classes, ignore_index):
    """An object (0.1-10 % of the image) painted with the commonest labelled class around it."""
    objects = _components(mask, classes, *DELETE_SIZES)
    for i in rng.permutation(len(objects)):
        around = _surroundings(mask, objects[i], ignore_index)
        if around is not None and around != int(mask[objects[i]][0]):
            out = mask.copy()
            out[objects[i]] = around
            return out
    return None


def relabel_component(mask, rng, classes, ignore_index):
    """A component (0.5-30 % of the image) takes another class of the dataset."""
    parts = _components(mask, classes, *RELABEL_SIZES)
    if not parts or len(classes) < 2:
        return None
    region = parts[rng.integers(len(parts))]
    own = int(mask[region][0])
    out = mask.copy()
    out[region] = rng.choice([c for c in classes if c != own])
    return out


def move_border(mask, rng, classes, ignore_index):
    """Within a disk of 8-20 px around a point of a border between classes a and b, a grows
    2-6 px into b."""
    h, w = mask.shape
    edges = np.zeros(mask.shape, bool)
    edges[:, 1:] |= (mask[:, 1:] != mask[:, :-1])
    edges[1:] |= (mask[1:] != mask[:-1])
    if ignore_index is not None:
        edges &= mask != ignore_index
    points = np.argwhere(edges)
    if not len(points):
        return None
    y, x = points[rng.integers(len(points))]
    b = int(mask[y, x])
    window = mask[max(y - 1, 0):y + 2, max(x - 1, 0):x + 2]
    others = [int(v) for v in np.unique(window) if v != b and v in classes]
    if not others or b not in classes:
        return None
    a = others[rng.integers(len(others))]
    radius = rng.integers(*BORDER_RADIUS, endpoint=True)
    move = rng.integers(*BORDER_MOVE, endpoint=True)
    ys, xs = np.ogrid[:h, :w]
    disk = (ys - y) ** 2 + (xs - x) ** 2 <= radius ** 2
    grown = (ndimage.distance_transform_edt(mask != a) <= move) & (mask == b) & disk
    if grown.sum() < MIN_CHANGE:
        return None
    out = mask.copy()
    out[grown] = a
    return out


def unlabel_object(mask, rng, classes, ignore_index):
    """An object (0.1-10 % of the image) given the ignore class: left unlabelled."""
    if ignore_index is None:
        return None
    objects = _components(mask, classes, *DELETE_SIZES)
    if not objects:
        return None
    out = mask.copy()
    out[objects[rng.integers(len(objects))]] = ignore_index
    return out


EDITS = {"delete": delete_object, "relabel": relabel_component, "border": move_border,
         "unlabel": unlabel_object}


def edited(masks, rows, ignore_index, classes, seed, per_kind, kinds=REGION_EDITS):
    """[(row, kind, edited mask)]: up to per_kind edits of each of `kinds`, each of a
    different row of `rows`."""
    rng = np.random.default_rng(seed)
    out = []
    for kind in kinds:
        done = 0
        for row in rng.permutation(np.asarray(rows)):
            if done == per_kind:
                break
            new = EDITS[kind](np.asarray(masks[row]), rng, classes, ignore_index)
            if new is not None:
                out.append((int(row), kind, new))
                done += 1
    return out
