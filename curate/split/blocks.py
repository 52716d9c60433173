"""Groups too large for a split: cut them into contiguous blocks, seal the cuts, judge balance.

Used by `curate.split.stratify`. A group is a set of pairs that must share a split (near duplicates,
identical images, equal --group-column values). On video-like data one group can hold most
of the dataset; these functions let the split cut it without leakage, keep every split that
has a ratio non-empty when the groups allow it, and say plainly when they do not.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from curate.scan.neighbours import hashes_to_array, near_pairs
from curate.errors import ConfigError


def group_limit(max_group_size: float | None, pairs: int) -> int | None:
    """Largest group in pairs: N as given (>= 1), or a fraction (< 1) of `pairs`; None: no cut."""
    if max_group_size is None:
        return None
    value = float(max_group_size)
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"max_group_size {max_group_size:g} must be a number of pairs (>= 1) "
                          "or a fraction of all pairs between 0 and 1, e.g. 15 or 0.1.")
    if value >= 1:
        if value != int(value):
            raise ConfigError(f"max_group_size {value:g} is not a whole number of pairs; give "
                              "an integer such as 15, or a fraction below 1 such as 0.1.")
        return int(value)
    return max(1, int(value * pairs))


def cut_groups(groups: np.ndarray, limit: int, order_values: pd.Series | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N,) groups with every group larger than `limit` cut into contiguous blocks.

    Members are ordered by `order_values` (the --group-column; numeric when every value is a
    number), then by position in the dataset, and cut into ceil(size / limit) blocks whose
    sizes differ by at most one. Returns (cut groups, block number 1.. (0: not cut), blocks in
    the pair's group (0: not cut)). A block's label is its smallest member, like a group's.
    """
    n = len(groups)
    position = np.arange(n)
    order = position if order_values is None else np.lexsort(
        (position, _order_key(order_values.reset_index(drop=True))))
    sizes = np.bincount(groups, minlength=n)
    cut = groups.copy()
    block = np.zeros(n, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    for g in np.flatnonzero(sizes > limit):
        members = order[groups[order] == g]
        pieces = np.array_split(members, -(-len(members) // limit))
        for k, piece in enumerate(pieces, start=1):
            cut[piece] = piece.min()
            block[piece] = k
            count[piece] = len(pieces)
    return cut, block, count


def _order_key(values: pd.Series) -> np.ndarray:
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all():
        return numeric.to_numpy(dtype=np.float64)
    codes, _ = pd.factorize(values.fillna("").astype(str), sort=True)
    return codes


def gather_blocks(splits: np.ndarray, whole_groups: np.ndarray, block: np.ndarray,
                  priority: list[str]) -> np.ndarray:
    """(N,) splits with each cut group's blocks reordered so that a split's blocks are adjacent.

    The stratification decides how many blocks of a cut group each split gets; which blocks
    they are is free (blocks of one group differ in size by one pair at most). Every change
    of split between neighbouring blocks costs a gap at the cut, so the blocks of one split
    are laid side by side, the split with the largest ratio (which gives up the gap pairs)
    in the middle: second, first, third in `priority`. At most two cuts per group change split.
    """
    splits = np.asarray(splits, dtype=object).copy()
    layout = [priority[1], priority[0]] + list(priority[2:])
    for g in np.unique(whole_groups[block > 0]):
        rows = np.flatnonzero((whole_groups == g) & (block > 0))
        numbers = np.unique(block[rows])
        per_block = [splits[rows[block[rows] == k][0]] for k in numbers]
        ordered = [name for name in layout for _ in range(per_block.count(name))]
        for k, name in zip(numbers, ordered):
            splits[rows[block[rows] == k]] = name
    return splits


def seal_cuts(manifest: pd.DataFrame, splits: np.ndarray, cut_rows: np.ndarray, distance: int,
              priority: list[str]) -> tuple[np.ndarray, list[str]]:
    """(splits with '' for the gap pairs, reason per pair ('' when kept)).

    Among the pairs of cut groups (`cut_rows`), every two images within `distance` pHash bits
    (identical images included) that landed in different splits are a leak across a cut; of
    each such link the pair in the split that comes first in `priority` (the one with the
    largest ratio, so the least hurt) is left out of every split.
    """
    splits = np.asarray(splits, dtype=object).copy()
    reasons = [""] * len(splits)
    rows = np.flatnonzero(cut_rows)
    if len(rows) < 2:
        return splits, reasons
    i, j, bits = near_pairs(hashes_to_array(manifest["phash"].to_numpy()[rows]), distance)
    i, j = rows[i], rows[j]
    cross = (splits[i] != splits[j]) & (splits[i] != "") & (splits[j] != "")
    i, j, bits = i[cross], j[cross], bits[cross]
    rank = {name: k for k, name in enumerate(priority)}
    first = np.array([rank[s] for s in splits[i]]) < np.array([rank[s] for s in splits[j]])
    drop, other = np.where(first, i, j), np.where(first, j, i)
    ids = manifest["id"].astype(str).to_numpy()
    closest: dict[int, tuple[int, int]] = {}
    for d, o, b in zip(drop.tolist(), other.tolist(), bits.tolist()):
        if d not in closest or b < closest[d][1]:
            closest[d] = (o, b)
    for d, (o, b) in closest.items():
        reasons[d] = (f"gap at a block cut: near duplicate (pHash distance {b} of 64) of "
                      f"{ids[o]} in {splits[o]}, left out of {splits[d]}")
    for d in closest:
        splits[d] = ""
    return splits, reasons


def fill_empty_splits(assignment: np.ndarray, sizes: np.ndarray, ratios: np.ndarray
                      ) -> np.ndarray:
    """(G,) assignment in which every split with a ratio > 0 holds a group, where possible.

    An empty split takes the smallest group of the split most over its share among those
    holding two groups or more; when no split has a group to spare it stays empty (and the
    caller refuses the split). Assignments with no empty split come back unchanged.
    """
    assignment = assignment.copy()
    desired = ratios * float(sizes.sum())
    for s in np.flatnonzero(ratios > 0):
        if (assignment == s).any():
            continue
        groups_in = np.bincount(assignment, minlength=len(ratios))
        pairs_in = np.bincount(assignment, weights=sizes, minlength=len(ratios))
        donors = [d for d in range(len(ratios)) if groups_in[d] >= 2]
        if not donors:
            break
        donor = max(donors, key=lambda d: (pairs_in[d] - desired[d], -d))
        members = np.flatnonzero(assignment == donor)
        assignment[members[np.argmin(sizes[members])]] = s
    return assignment


def describe_groups(sizes: np.ndarray) -> str:
    """'one group holds 79 of 101 pairs (78 %); the next largest hold 12, 8 and 1 pairs'."""
    sizes = np.sort(np.asarray(sizes))[::-1]
    total = int(sizes.sum())
    if len(sizes) == 0 or sizes[0] <= 1:
        return f"each of the {total} pairs is a group of its own"
    text = f"one group holds {sizes[0]} of {total} pairs ({100 * sizes[0] / total:.0f} %)"
    rest = sizes[1:]
    if len(rest) == 0:
        return text
    if rest[0] == 1:
        return text + (f"; the other {len(rest)} pairs are each a group of their own"
                       if len(rest) > 1 else "; the other pair is a group of its own")
    listed = [str(s) for s in rest[:3]]
    listed = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]
    return text + f"; the next largest hold {listed} pairs"


def far_off(pairs: dict[str, int], ratios: dict[str, float]) -> list[str]:
    """The splits whose share of the split pairs is far from their ratio.

    Far: more than one pair away from the ideal count, and more than 5 percentage points or
    25 % of the ratio away from it.
    """
    total = sum(pairs.values())
    off = []
    for name, ratio in ratios.items():
        if ratio <= 0 or total == 0:
            continue
        gap = abs(pairs[name] / total - ratio)
        if abs(pairs[name] - ratio * total) > 1 and (gap > 0.05 or gap > 0.25 * ratio):
            off.append(name)
    return off
