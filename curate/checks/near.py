"""Near-duplicate search over 64-bit perceptual hashes without comparing all pairs.

Multi-index hashing: split each hash into `max_distance + 1` disjoint bit chunks. Two hashes
within Hamming distance `max_distance` agree exactly on at least one chunk (pigeonhole), so
only hashes that share a chunk value are compared.
"""

from __future__ import annotations

import numpy as np

BITS = 64


def hashes_to_array(hex_hashes) -> np.ndarray:
    """(N,) uint64 from 16-digit hex strings."""
    return np.array([int(h, 16) for h in hex_hashes], dtype=np.uint64)


def popcount(x: np.ndarray) -> np.ndarray:
    """Number of set bits of each uint64."""
    x = x.astype(np.uint64)
    return np.unpackbits(x.view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1)


def near_pairs(hashes: np.ndarray, max_distance: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All index pairs (i < j) whose hashes differ in at most `max_distance` bits.

    Returns (i, j, distance) arrays sorted by (i, j).
    """
    n = len(hashes)
    if n < 2:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    chunks = max_distance + 1
    bounds = np.linspace(0, BITS, chunks + 1).astype(int)
    candidates = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        width = hi - lo
        key = (hashes >> np.uint64(lo)) & np.uint64((1 << width) - 1)
        candidates.append(_same_key_pairs(key))
    pairs = np.unique(np.concatenate(candidates), axis=0) if candidates else np.zeros((0, 2))
    if len(pairs) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    i, j = pairs[:, 0], pairs[:, 1]
    distance = popcount(hashes[i] ^ hashes[j])
    keep = distance <= max_distance
    return i[keep], j[keep], distance[keep]


def _same_key_pairs(key: np.ndarray) -> np.ndarray:
    """(M, 2) index pairs (i < j) with equal key, via sorting and run-length groups."""
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    sizes = np.diff(np.r_[starts, len(key)])
    out = []
    for start, size in zip(starts[sizes > 1], sizes[sizes > 1]):
        members = np.sort(order[start:start + size])
        a, b = np.triu_indices(size, k=1)
        out.append(np.stack([members[a], members[b]], axis=1))
    return np.concatenate(out) if out else np.zeros((0, 2), dtype=np.int64)


def connected_groups(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Group label per item (union-find over the pairs); the label is the smallest member."""
    parent = np.arange(n)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(i.tolist(), j.tolist()):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([find(x) for x in range(n)])
