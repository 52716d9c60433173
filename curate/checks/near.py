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
    text = "".join(str(h).zfill(16) for h in hex_hashes)
    return np.frombuffer(bytes.fromhex(text), dtype=">u8").astype(np.uint64)


def near_pairs(hashes: np.ndarray, max_distance: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All index pairs (i < j) whose hashes differ in at most `max_distance` bits.

    Returns (i, j, distance) int64 arrays sorted by (i, j).
    """
    n = len(hashes)
    hashes = np.asarray(hashes, dtype=np.uint64)
    bounds = np.linspace(0, BITS, max_distance + 2).astype(int)
    candidates = [np.zeros(0, dtype=np.int64)]
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        key = (hashes >> np.uint64(lo)) & np.uint64((1 << int(hi - lo)) - 1)
        candidates.append(_same_key_pairs(key))
    # A pair (i, j) is the one int64 i * n + j. Candidates far apart are dropped first, so
    # that only the few near pairs (found once per chunk they share) need de-duplicating.
    codes = np.concatenate(candidates)
    codes = codes[popcount(hashes[codes // max(n, 1)] ^ hashes[codes % max(n, 1)])
                  <= max_distance]
    codes = np.unique(codes)                      # sorted: pairs in (i, j) order
    i, j = codes // max(n, 1), codes % max(n, 1)
    return i, j, popcount(hashes[i] ^ hashes[j])


def _same_key_pairs(key: np.ndarray) -> np.ndarray:
    """(M,) codes i * n + j of the index pairs (i < j) with equal key.

    Sort the keys; each item then pairs with the items after it in its run of equal keys.
    """
    n = len(key)
    order = np.argsort(key, kind="stable")        # stable: ascending index within a run
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    ends = np.r_[starts[1:], n]
    run_end = np.repeat(ends, ends - starts)      # (n,) end of each sorted position's run
    later = run_end - np.arange(n) - 1            # items after it in its run
    total = int(later.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    first = np.repeat(np.arange(n), later)        # sorted position of the pair's first item
    # Offsets 1, 2, ..., later[p] for each position p, laid end to end.
    block_start = np.repeat(np.cumsum(later) - later, later)
    second = first + 1 + (np.arange(total) - block_start)
    return order[first].astype(np.int64) * n + order[second]


def popcount(x: np.ndarray) -> np.ndarray:
    """(N,) int64 number of set bits of each uint64."""
    x = np.ascontiguousarray(x, dtype=np.uint64)
    if hasattr(np, "bitwise_count"):              # numpy >= 2.0
        return np.bitwise_count(x).astype(np.int64)
    return np.unpackbits(x.view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1, dtype=np.int64)


def connected_groups(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Group label per item (connected components of the pairs); the label is its smallest member.

    Each round gives both ends of every pair the smaller of their labels, then follows labels
    to their own labels (pointer jumping); at the fixed point each component carries its
    smallest member.
    """
    label = np.arange(n)
    i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
    while True:
        low = np.minimum(label[i], label[j])
        new = label.copy()
        np.minimum.at(new, i, low)
        np.minimum.at(new, j, low)
        while not np.array_equal(new[new], new):
            new = new[new]
        if np.array_equal(new, label):
            return label
        label = new
