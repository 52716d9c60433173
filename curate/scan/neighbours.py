"""Near-duplicate search over 64-bit perceptual hashes without comparing all pairs.

Multi-index hashing with flips (Norouzi et al., "Fast exact search in Hamming space with
multi-index hashing", and the general pigeonhole principle of Qin et al., "GPH", ICDE 2018):
take m disjoint bit chunks of the hash and give chunk k a radius t_k, with
sum(t_k + 1) > max_distance. If two hashes differed in more than t_k bits inside every chunk k,
they would differ in at least sum(t_k + 1) > max_distance bits in all, so every pair within
`max_distance` agrees to within t_k bits on some chunk k (bits outside the chunks only add to
the distance, so the chunks need not cover all 64 bits). Each hash therefore looks up, per
chunk, the buckets of its chunk value with every pattern of at most t_k bits flipped, and the
candidates found are checked on the full hash: the search is exact, never approximate.

Long chunks with a radius keep buckets small (candidates ~ N^2 / 2^bits) at the price of more
lookups per hash (sum over k of C(b_k, 0) + ... + C(b_k, t_k)); `search_plan` picks the
chunking with the least estimated work for the number of hashes and the distance.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from math import comb

import numpy as np

BITS = 64
MAX_CHUNK_BITS = 24      # bucket table of 2^24 + 1 int64 offsets = 128 MiB at most
BLOCK = 1 << 22          # candidate pairs verified at a time, bounding memory

# Rough relative costs in the plan's estimate (one bucket lookup per hash, one candidate pair
# checked, one bucket-table slot built), checked against timings of benchmarks/bench_near.py.
LOOKUP_COST, CANDIDATE_COST, TABLE_COST = 1.0, 0.5, 0.3

# One range for every near-duplicate distance (outliers, split, check-leakage): near_pairs splits
# 64 bits into distance + 1 chunks; far beyond 16 it degenerates into comparing nearly all pairs
# and links unrelated images.
MAX_DISTANCE = 16


def hashes_to_array(hex_hashes) -> np.ndarray:
    """(N,) uint64 from 16-digit hex strings."""
    text = "".join(str(h).zfill(16) for h in hex_hashes)
    return np.frombuffer(bytes.fromhex(text), dtype=">u8").astype(np.uint64)


@dataclass(frozen=True)
class Chunk:
    """Bits [low, low + bits) of the hash, searched with up to `radius` bits flipped."""

    low: int
    bits: int
    radius: int

    @property
    def lookups(self) -> int:
        """Bucket lookups per hash: all flip patterns of at most `radius` of `bits` bits."""
        return sum(comb(self.bits, r) for r in range(self.radius + 1))


def near_pairs(
    hashes: np.ndarray, max_distance: int, chunks: list[Chunk] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All index pairs (i < j) whose hashes differ in at most `max_distance` bits.

    Returns (i, j, distance) int64 arrays sorted by (i, j). `chunks` overrides the search plan
    (for tests); it must satisfy the pigeonhole condition above.
    """
    hashes = np.asarray(hashes, dtype=np.uint64)
    n = len(hashes)
    chunks = search_plan(n, max_distance) if chunks is None else chunks
    if max_distance >= 0 and sum(c.radius + 1 for c in chunks) <= max_distance:
        raise ValueError(f"chunks {chunks} can miss pairs at distance {max_distance}: "
                         "their radius + 1 must sum to more than the distance")
    codes = [np.zeros(0, dtype=np.int64)]
    if n > 1:
        for chunk in chunks:
            codes.extend(_chunk_pairs(hashes, chunk, max_distance))
    # A pair (i, j) is the one int64 i * n + j; a pair close on several chunks is found once
    # per chunk, and np.unique both removes the repeats and sorts pairs in (i, j) order.
    found = np.unique(np.concatenate(codes))
    i, j = found // max(n, 1), found % max(n, 1)
    return i, j, popcount(hashes[i] ^ hashes[j])


def search_plan(n: int, max_distance: int) -> list[Chunk]:
    """The chunks (bits and radius each) with the least estimated work for n hashes."""
    if max_distance < 0:
        return []
    plans = [_plan(n, m, max_distance) for m in range(1, min(max_distance + 1, BITS) + 1)]
    return min((p for p in plans if p), key=lambda p: _cost(n, p))


def _plan(n: int, m: int, max_distance: int) -> list[Chunk]:
    """m chunks whose radii sum to max_distance + 1 - m (so that sum(radius + 1) exceeds
    max_distance), spread as evenly as possible, with widths tuned by local search."""
    spare = max_distance + 1 - m
    radii = [spare // m + (k < spare % m) for k in range(m)]
    widths = [min(MAX_CHUNK_BITS, BITS // m)] * m
    if any(w <= r for w, r in zip(widths, radii)):
        return []
    best = _cost(n, _chunks(widths, radii))
    improved = True
    while improved:
        improved = False
        for k, step in itertools.product(range(m), (1, -1)):
            trial = widths[:k] + [widths[k] + step] + widths[k + 1:]
            if not radii[k] < trial[k] <= MAX_CHUNK_BITS or sum(trial) > BITS:
                continue
            cost = _cost(n, _chunks(trial, radii))
            if cost < best:
                widths, best, improved = trial, cost, True
    return _chunks(widths, radii)


def _chunks(widths: list[int], radii: list[int]) -> list[Chunk]:
    lows = np.cumsum([0] + widths[:-1])
    return [Chunk(int(low), w, r) for low, w, r in zip(lows, widths, radii)]


def _cost(n: int, chunks: list[Chunk]) -> float:
    """Estimated work: lookups, candidate pairs if hashes spread evenly, table building."""
    return sum(
        n * c.lookups * (LOOKUP_COST + CANDIDATE_COST * n / 2**c.bits) + TABLE_COST * 2**c.bits
        for c in chunks
    )


def _chunk_pairs(hashes: np.ndarray, chunk: Chunk, max_distance: int) -> list[np.ndarray]:
    """Codes i * n + j (i < j, within max_distance) of pairs found through one chunk.

    The work is done on the hashes sorted by chunk value (positions in that order): a bucket is
    then a run of positions, and the probes of queries taken in order touch the bucket table in
    short ascending runs rather than at random, which keeps it in cache. Each pair of buckets is
    visited once: pairs inside one bucket from their earlier position; buckets whose values
    differ by a flip pattern f from the one whose value has the highest bit of f clear (its
    value XOR f is the larger), which halves the lookups and candidates of visiting both.
    """
    n = len(hashes)
    key = ((hashes >> np.uint64(chunk.low)) & np.uint64((1 << chunk.bits) - 1)).astype(np.int64)
    order = _stable_order(key)                    # position -> hash index
    key, hashes = key[order], hashes[order]
    index = np.int32 if n < 2**31 else np.int64   # a smaller bucket table stays in cache longer
    starts = np.zeros((1 << chunk.bits) + 1, dtype=index)
    np.cumsum(np.bincount(key, minlength=1 << chunk.bits), out=starts[1:])
    occupied = starts[1:] > starts[:-1]           # a byte per bucket: cheaper to probe
    position = np.arange(n, dtype=index)
    same = starts[key + 1] - position - 1         # later positions in the same bucket
    hit = np.flatnonzero(same)
    found = _verified(hashes, hit, hit + 1, same[hit], max_distance)
    flips = _flip_patterns(chunk.bits, chunk.radius)[1:]
    tops = np.frexp(flips.astype(np.float64))[1] - 1          # highest set bit of each pattern
    for top in np.unique(tops):
        queries = np.flatnonzero(((key >> top) & 1) == 0)
        query_key = key[queries]
        for flip in flips[tops == top]:
            probe = query_key ^ flip
            hit = np.flatnonzero(occupied[probe])
            probe = probe[hit]
            first = starts[probe]
            found += _verified(hashes, queries[hit], first, starts[probe + 1] - first,
                               max_distance)
    codes = []
    for p, q in found:
        a, b = order[p], order[q]
        codes.append(np.minimum(a, b) * n + np.maximum(a, b))
    return codes


def _stable_order(key: np.ndarray) -> np.ndarray:
    """np.argsort(key, kind="stable") of non-negative int64 keys, seven times faster at a
    million 22-bit keys: each key with its position in the low bits is one distinct int64,
    and numpy's default sort of those is much quicker than its stable argsort."""
    n = len(key)
    shift = max(int(n - 1).bit_length(), 1)
    if n and int(key.max()).bit_length() + shift > 62:
        return np.argsort(key, kind="stable")
    return np.sort((key << shift) | np.arange(n, dtype=np.int64)) & ((1 << shift) - 1)


def _verified(hashes, query, first, count, max_distance) -> list[tuple[np.ndarray, np.ndarray]]:
    """Position pairs (p, q) within max_distance, for each query position p against the
    positions first .. first + count - 1; blocks of about BLOCK candidates bound the memory."""
    ends = np.cumsum(count, dtype=np.int64)
    out = []
    lo = 0
    while lo < len(query):
        hi = max(int(np.searchsorted(ends, ends[lo] - count[lo] + BLOCK, side="right")), lo + 1)
        c = count[lo:hi].astype(np.int64)
        skip = np.cumsum(c) - c                   # where each query's candidates begin
        q = np.arange(int(c.sum()), dtype=np.int64) + np.repeat(first[lo:hi] - skip, c)
        near = popcount(np.repeat(hashes[query[lo:hi]], c) ^ hashes[q]) <= max_distance
        keep = np.flatnonzero(near)
        out.append((np.repeat(query[lo:hi], c)[keep].astype(np.int64), q[keep]))
        lo = hi
    return out


def _flip_patterns(bits: int, radius: int) -> np.ndarray:
    """(V,) int64 every `bits`-bit pattern with at most `radius` bits set, 0 first."""
    patterns = [0]
    for r in range(1, radius + 1):
        patterns += [sum(1 << b for b in c) for c in itertools.combinations(range(bits), r)]
    return np.array(patterns, dtype=np.int64)


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
