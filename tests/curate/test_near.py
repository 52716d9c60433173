"""The near-duplicate search's chunk plans: exact against brute force, whatever the plan."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.scan.neighbours import BITS, MAX_CHUNK_BITS, Chunk, near_pairs, search_plan
from test_features import brute_near_pairs


@st.composite
def plans(draw):
    """A distance and chunks (widths, radii) that satisfy the pigeonhole condition."""
    distance = draw(st.integers(0, 10))
    m = draw(st.integers(1, min(distance + 1, 6)))
    spare = distance + 1 - m
    cuts = sorted(draw(st.lists(st.integers(0, spare), min_size=m - 1, max_size=m - 1)))
    radii = [b - a for a, b in zip([0] + cuts, cuts + [spare])]
    widths = [draw(st.integers(r + 1, min(12, BITS // m))) for r in radii]
    lows = np.cumsum([0] + widths[:-1])
    return distance, [Chunk(int(lo), w, r) for lo, w, r in zip(lows, widths, radii)]


@settings(max_examples=120, deadline=None)
@given(plans(), st.integers(0, 2**32), st.integers(2, 60))
def test_any_valid_plan_finds_exactly_the_brute_force_pairs(plan, seed, n):
    distance, chunks = plan
    rng = np.random.default_rng(seed)
    # Copies of a few centres with 0..distance+2 bits flipped, mostly inside the chunks (where
    # a missed flip pattern would show): pairs just inside and just outside the distance.
    centres = rng.integers(0, 2**64, 4, dtype=np.uint64, endpoint=False)
    covered = max(chunks[-1].low + chunks[-1].bits, distance + 3)
    hashes = []
    for _ in range(n):
        bits = rng.choice(covered, size=rng.integers(0, distance + 3), replace=False)
        hashes.append(int(rng.choice(centres)) ^ sum(1 << int(b) for b in bits))
    i, j, d = near_pairs(np.array(hashes, dtype=np.uint64), distance, chunks)
    assert list(zip(i.tolist(), j.tolist(), d.tolist())) == brute_near_pairs(hashes, distance)


def test_large_set_with_radius_chunks_matches_brute_force():
    # 3,000 random hashes plus copies within 0..8 bits: the chosen plan for this size uses
    # chunks searched with flipped bits, and numpy brute force is still quick.
    rng = np.random.default_rng(1)
    hashes = rng.integers(0, 2**64, 3000, dtype=np.uint64, endpoint=False)
    for k in range(0, 3000, 7):
        bits = rng.choice(64, size=k % 9, replace=False)
        hashes[k] = hashes[(k * 13 + 1) % 3000] ^ np.uint64(sum(1 << int(b) for b in bits))
    chunks = [Chunk(0, 20, 2), Chunk(20, 20, 1), Chunk(40, 20, 1)]
    i, j, d = near_pairs(hashes, 6, chunks)
    bits = np.bitwise_count(hashes[:, None] ^ hashes[None, :])
    ei, ej = np.nonzero(np.triu(bits <= 6, k=1))
    assert (i.tolist(), j.tolist()) == (ei.tolist(), ej.tolist())
    assert d.tolist() == bits[ei, ej].tolist()
    assert len(i) > 300                         # the planted copies are there to be found


@pytest.mark.parametrize("n", [2, 40, 5_000, 100_000, 1_000_000, 10_000_000])
@pytest.mark.parametrize("distance", [0, 1, 6, 12, 20])
def test_search_plan_is_a_valid_pigeonhole_cover(n, distance):
    chunks = search_plan(n, distance)
    assert sum(c.radius + 1 for c in chunks) > distance
    assert sum(c.bits for c in chunks) <= BITS
    assert all(c.radius < c.bits <= MAX_CHUNK_BITS for c in chunks)
    ends = [c.low + c.bits for c in chunks]
    assert [c.low for c in chunks[1:]] == ends[:-1]      # disjoint, side by side


def test_plan_that_could_miss_pairs_is_refused():
    with pytest.raises(ValueError, match="can miss pairs"):
        near_pairs(np.zeros(3, dtype=np.uint64), 6, [Chunk(0, 16, 1), Chunk(16, 16, 1)])


@pytest.mark.parametrize("n, high", [(0, 1), (1, 1), (1000, 16), (5000, 1 << 24), (300, 1 << 60)])
def test_stable_order_is_the_stable_argsort(n, high):
    # keys with many repeats (ties keep their positions' order); keys too wide to share an
    # int64 with their position take numpy's own stable argsort
    from curate.scan.neighbours import _stable_order

    key = np.random.default_rng(n).integers(0, high, n, dtype=np.int64)
    assert np.array_equal(_stable_order(key), np.argsort(key, kind="stable"))
