"""Exact duplicates (pair, image) and near duplicates by perceptual hash."""

from __future__ import annotations

import numpy as np
import pandas as pd

from curate.checks.findings import Findings, ids_at
from curate.scan.neighbours import connected_groups, hashes_to_array, near_pairs


def _first_of_each(keys: pd.Series) -> np.ndarray:
    """(N,) position of the first pair with the same key."""
    codes, _ = pd.factorize(keys)
    _, first = np.unique(codes, return_index=True)   # first position of each code
    return first[codes]


def exact_duplicate(features: pd.DataFrame, config) -> Findings:
    """Same image and same mask as an earlier pair: keep the first, remove the rest."""
    keys = features["pair_sha1"].reset_index(drop=True)
    first = _first_of_each(keys)
    flag = first != np.arange(len(keys))
    ids = ids_at(features["id"], first[flag])
    reason = [f"identical image and mask to {ids[f]}" if d else ""
              for d, f in zip(flag, first)]
    return Findings(flag, flag.astype(float), reason)


def duplicate_image(features: pd.DataFrame, config) -> Findings:
    """Same image as an earlier pair but another mask: conflicting labels, keep the first."""
    keys = features["image_sha1"].reset_index(drop=True)
    first = _first_of_each(keys)
    masks, _ = pd.factorize(features["mask_sha1"])
    flag = (first != np.arange(len(keys))) & (masks != masks[first])
    ids = ids_at(features["id"], first[flag])
    reason = [f"same image as {ids[f]} but a different mask (conflicting labels)" if d else ""
              for d, f in zip(flag, first)]
    return Findings(flag, flag.astype(float), reason)


def near_duplicate(features: pd.DataFrame, config) -> Findings:
    """Images whose pHash differs in at most `near_duplicate_distance` of 64 bits.

    Near duplicates are grouped (column dup_group, the id of the group's first pair) so that
    `curate split` keeps each group in one split. The first pair of a group is not flagged;
    the others are (removed only when near_duplicate is among the checks to remove).
    """
    n = len(features)
    hashes = hashes_to_array(features["phash"])
    i, j, distance = near_pairs(hashes, config.near_duplicate_distance)
    image_sha, _ = pd.factorize(features["image_sha1"])
    different = image_sha[i] != image_sha[j]  # identical images belong to the exact checks
    i, j, distance = i[different], j[different], distance[different]
    groups = connected_groups(n, i, j)
    sizes = np.bincount(groups, minlength=n)
    grouped = sizes[groups] > 1
    best, partner = _closest_partner(n, i, j, distance)
    flag = grouped & (groups != np.arange(n))
    ids = ids_at(features["id"], np.r_[groups[grouped], partner[flag]])
    dup_group = np.where(grouped, ids[groups], "")
    score = np.where(flag, 1.0 - best / 64.0, 0.0)
    reason = [""] * n
    for k in np.flatnonzero(flag):
        reason[k] = (f"near duplicate of {ids[partner[k]]} (pHash distance {best[k]} of 64; "
                     f"group {ids[groups[k]]} of {sizes[groups[k]]})")
    return Findings(flag, score, reason, pd.DataFrame({"dup_group": dup_group}))


def _closest_partner(n: int, i: np.ndarray, j: np.ndarray,
                     distance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N,) smallest distance to any partner (65 when none) and that partner (self if none)."""
    a, b, d = np.r_[i, j], np.r_[j, i], np.r_[distance, distance]
    order = np.lexsort((b, d, a))                   # by item, then distance, then partner
    a, b, d = a[order], b[order], d[order]
    best, partner = np.full(n, 65), np.arange(n)
    if len(a) == 0:
        return best, partner
    first = np.r_[True, a[1:] != a[:-1]]
    best[a[first]], partner[a[first]] = d[first], b[first]
    return best, partner
