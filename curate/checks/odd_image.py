"""Images that do not belong to the dataset: pictures of another kind, judged without masks.

Every pair's `embedding` (curate/scan/embedding.py, from the scan) is scaled by the dataset's own
median and MAD and projected on the main axes of a seeded reference sample; distances are
k-nearest-neighbour distances to reference images only (cost N x REFERENCE, never N x N).

A plain k-NN distance misses a group of pictures from one other source: its members are
each other's nearest neighbours. So the check works in two passes:

1. against the whole reference: `near` = mean distance to the 2nd .. NEAR+1-th nearest
   images (a duplicate's twin alone does not make a group), and the
   distance to the FAR-th nearest (FAR = a tenth of the reference, more than any group of
   under a tenth of the data can fill); an image far from the bulk, or with close
   neighbours but a long way to the bulk (an island), is set aside (robust z > SET_ASIDE);
2. against the typical reference images (those not set aside): `typical` = mean distance to
   the TYPICAL nearest. An odd image is far from the typical images (robust z of `typical`)
   or much further from them than from its own close neighbours (robust z of
   typical / near: a group that pass 1 set aside as a whole).

The score is the larger robust z. An island whose close neighbours are near duplicates of
it by pHash is frames of one scene (near_duplicate reports those), not flagged. Review-only
by default; a pair that `shared_mask` flags
too is removed by that check.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from curate.checks.findings import MIN_PAIRS_FOR_STATISTICS, Findings, ids_at, robust_z
from curate.checks.robust_scale import RobustScale
from curate.scan.cluster import threads
from curate.scan.stored_vectors import HEX_BLOCK, StoredRows

REFERENCE = 2048       # reference images (seeded sample); the cost is N x REFERENCE distances
AXES = 16              # principal axes kept: the rest is mostly noise of single statistics
FAR_SHARE = 0.1        # FAR = this share of the reference: groups below it are found
NEAR = 10              # neighbours that define "close" (fewer on small datasets)
TYPICAL = 50           # typical neighbours of pass 2 (at most a quarter of FAR)
SET_ASIDE = 3.0        # robust z of pass 1 above which a reference image is not typical
SEED = 0
SHOWN_NEIGHBOURS = 3   # typical images named beside each flagged one (contact sheet)
BLOCK = 1024           # rows per block of the distance computation (~60 MB of temporaries)
assert HEX_BLOCK % BLOCK == 0, "projected blocks must line up with the blocks read"


def odd_image(features: pd.DataFrame, config) -> Findings:
    """Pairs whose image is unlike the dataset's own pictures (another domain or source)."""
    n = len(features)
    found = Findings.none(n)
    if n < MIN_PAIRS_FOR_STATISTICS or "embedding" not in features.columns:
        return found
    # The stored vectors are read a block at a time (twice: to scale, then to project), never
    # decoded whole: at a million pairs that would be 176 MB beside the projection.
    stored = StoredRows(features["embedding"])
    if not stored.width:
        return found
    scale = RobustScale(stored)
    if len(scale) < MIN_PAIRS_FOR_STATISTICS:
        return found
    rows = np.flatnonzero(scale.valid)
    # BLAS runs single-threaded here: the products are small (16 columns), and BLAS threads
    # spinning beside a busy machine's other work made this step 3.6x slower on 2 cores
    # (5.3 s against 1.5 s for 7,200 pairs at load 4.5; the same values either way).
    with threadpool_limits(limits=1, user_api="blas"):
        x, refs = project(scale)
        scores = score_images(x, refs)
    far_z, island_z, typical_d, near_d = (scores.far_z, scores.island_z, scores.typical_d,
                                          scores.near_d)
    z = np.maximum(far_z, island_z)
    flag = z > config.odd_image_z
    island = flag & (far_z <= config.odd_image_z)
    flag &= ~_same_scene(features["phash"], rows, island, scores.close, config)
    found.score[rows] = np.round(np.maximum(z, 0.0), 4)
    found.flag[rows] = flag
    like = [""] * n
    flagged = np.flatnonzero(flag)
    # A flagged image is never shown as a typical one, although pass 2 may flag a reference
    # image that pass 1 kept as typical.
    neighbours = scores.typical_neighbours(flagged, flag)
    ids = ids_at(features["id"], rows[np.concatenate([flagged, *neighbours])])
    for j, near_rows in zip(flagged, neighbours):
        i = rows[j]
        like[i] = " ".join(ids[rows[near_rows]])
        how = (f"unlike the bulk of the dataset (distance to typical images robust z "
               f"{far_z[j]:.1f})" if far_z[j] >= island_z[j] else
               f"one of a group of similar pictures apart from the bulk (distance to typical "
               f"images {typical_d[j] / max(near_d[j], 1e-9):.1f}x that to its close "
               f"neighbours, robust z {island_z[j]:.1f})")
        found.reason[i] = (f"odd image: its picture statistics (texture, detail, tone) are "
                           f"{how}, threshold {config.odd_image_z:g}; most similar typical "
                           f"images: {', '.join(ids[rows[near_rows]]) or 'none unflagged'}")
    found.extra = pd.DataFrame({"odd_image_like": like})
    return found


def _same_scene(phashes: pd.Series, rows: np.ndarray, island: np.ndarray, close,
                config) -> np.ndarray:
    """(M,) True, for the M scored pairs (at positions `rows` of the pHash column), for
    island images whose close neighbours are near duplicates of them (median pHash distance
    <= 2 x --near-duplicate-distance, as shared_mask judges a group): frames of one scene,
    which near_duplicate reports; not pictures of another kind."""
    from curate.scan.neighbours import hashes_to_array, popcount

    same = np.zeros(len(island), bool)
    islands = np.flatnonzero(island)
    if not len(islands):
        return same
    close_rows = close(islands)
    needed = np.unique(np.concatenate([islands, *close_rows]))   # only these are decoded
    hashes = np.zeros(len(island), dtype=np.uint64)
    hashes[needed] = hashes_to_array(phashes.iloc[rows[needed]])
    for i, near in zip(islands, close_rows):
        same[i] = np.median(popcount(hashes[near] ^ hashes[i])) <= 2 * config.near_duplicate_distance
    return same


@dataclass
class Scores:
    """The two robust z of pass 2 (module docstring) and the distances behind them, (N,)
    each; typical_neighbours(rows, flagged) and close(rows) give, per row, the row numbers of
    its SHOWN_NEIGHBOURS nearest typical reference images that are not `flagged` ((N,) bool)
    and of its close neighbours."""

    far_z: np.ndarray
    island_z: np.ndarray
    typical_d: np.ndarray
    near_d: np.ndarray
    typical_neighbours: Callable[[np.ndarray, np.ndarray], list[np.ndarray]]
    close: Callable[[np.ndarray], list[np.ndarray]]


def project(scale: RobustScale, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """(x, refs): the robustly scaled vectors projected on the AXES main axes of a seeded
    reference sample of them, the rows `refs`."""
    n = len(scale)
    refs = np.sort(np.random.default_rng(seed).choice(n, min(REFERENCE, n), replace=False))
    return _principal_axes(scale, refs), refs


def score_images(x: np.ndarray, refs: np.ndarray) -> Scores:
    """Scores of the projected vectors x (`project`) against the reference rows refs."""
    far = max(4, int(round(FAR_SHARE * len(refs))))
    near = max(2, min(NEAR, far // 4))
    first = _neighbours(x, refs, far, near + 1)
    # the very nearest is left out: a duplicate's twin is not a group (near would be 0)
    near_d = first.near_d
    log_far = np.log(first.last_d + 1e-9)
    log_near = np.log(near_d + 1e-9)
    first_z = np.maximum(robust_z(log_far), robust_z(log_far - log_near))
    typical = refs[first_z[refs] <= SET_ASIDE]
    if len(typical) < 2:
        typical = refs
    k = max(1, min(TYPICAL, far // 4, len(typical) - 1))
    second = _neighbours(x, typical, k, 1)
    typical_d = second.mean_d
    log_typical = np.log(typical_d + 1e-9)
    far_z = robust_z(log_typical)
    island_z = robust_z(log_typical - log_near)

    def typical_neighbours(rows: np.ndarray, flagged: np.ndarray) -> list[np.ndarray]:
        return _nearest(x, rows, typical[~flagged[typical]], SHOWN_NEIGHBOURS)

    def close_neighbours(rows: np.ndarray) -> list[np.ndarray]:
        return [refs[first.first[i, :near]] for i in rows]

    return Scores(far_z, island_z, typical_d, near_d, typical_neighbours, close_neighbours)


@dataclass
class Nearest:
    """Each row's k nearest reference rows (the row itself left out), kept only as far as the
    scores need them: the positions in `refs` of the nearest m (`first`), the mean distance
    to the 2nd .. m-th of them (`near_d`, 0 when m is 1), to all k (`mean_d`) and the
    distance to the k-th (`last_d`)."""

    first: np.ndarray
    near_d: np.ndarray
    mean_d: np.ndarray
    last_d: np.ndarray


def _neighbours(x: np.ndarray, refs: np.ndarray, k: int, m: int) -> Nearest:
    """Nearest(k, m) of every row of x against the rows x[refs] (k < len(refs)), a block of
    rows at a time on the scan's threads (numpy releases the GIL in these operations, and
    each block fills its own rows): memory stays at N x (m + 3) values plus one BLOCK x
    REFERENCE block per thread."""
    n = len(x)
    ref = x[refs]
    ref_sq = (ref * ref).sum(axis=1)
    out = Nearest(np.empty((n, m), np.int32), np.zeros(n), np.empty(n), np.empty(n))

    def fill(start: int) -> None:
        rows = np.arange(start, min(n, start + BLOCK))
        block = x[rows]
        # (a + b) - 2c as before, with two BLOCK x REFERENCE arrays alive instead of four
        # (every thread holds its own): 2c in place, then a + b, then the difference in place
        twice = block @ ref.T
        twice *= 2.0
        d2 = (block * block).sum(axis=1)[:, None] + ref_sq[None, :]
        d2 -= twice
        del twice
        # a reference row is not its own neighbour
        lo, hi = np.searchsorted(refs, [rows[0], rows[-1] + 1])
        d2[refs[lo:hi] - rows[0], np.arange(lo, hi)] = np.inf
        # a copy: the view would keep the whole BLOCK x REFERENCE index array alive
        part = np.argpartition(d2, k - 1, axis=1)[:, :k].copy()
        part_d = np.take_along_axis(d2, part, axis=1)
        del d2
        order = np.argsort(part_d, axis=1, kind="stable")
        idx = np.take_along_axis(part, order, axis=1)
        dist = np.sqrt(np.maximum(np.take_along_axis(part_d, order, axis=1), 0.0))
        out.first[rows] = idx[:, :m]
        if m > 1:
            out.near_d[rows] = dist[:, 1:m].mean(axis=1)
        out.mean_d[rows], out.last_d[rows] = dist.mean(axis=1), dist[:, -1]

    starts = range(0, n, BLOCK)
    with ThreadPoolExecutor(max_workers=max(1, min(threads(), len(starts)))) as pool:
        list(pool.map(fill, starts))
    return out


def _nearest(x: np.ndarray, rows: np.ndarray, candidates: np.ndarray, m: int) -> list[np.ndarray]:
    """Per row of x[rows], the rows of x[candidates] nearest to it (itself left out), at most
    m, nearest first; distances as `_neighbours` computes them."""
    ref = x[candidates]
    ref_sq = (ref * ref).sum(axis=1)
    out: list[np.ndarray] = []
    for start in range(0, len(rows), BLOCK):
        block_rows = rows[start:start + BLOCK]
        block = x[block_rows]
        d2 = (block * block).sum(axis=1)[:, None] + ref_sq[None, :] - 2.0 * (block @ ref.T)
        d2[candidates[None, :] == block_rows[:, None]] = np.inf
        order = np.argsort(d2, axis=1, kind="stable")[:, :m]
        out.extend(candidates[o[np.isfinite(np.take(d, o))]] for o, d in zip(order, d2))
    return out


def _principal_axes(x: RobustScale, refs: np.ndarray) -> np.ndarray:
    """x projected on the AXES main axes of the reference rows (SVD, deterministic), a block
    of stored rows read at a time and projected BLOCK rows at a time (the same products
    whatever the reading block: HEX_BLOCK is a multiple of BLOCK)."""
    ref = x[refs]
    centre = ref.mean(axis=0)
    _, _, vt = np.linalg.svd(ref - centre, full_matrices=False)
    axes = vt[:AXES].T
    out = np.empty((len(x), axes.shape[1]))
    for start, block in x.rows.blocks():
        scaled = x.scaled(block)
        for offset in range(0, len(scaled), BLOCK):
            out[start + offset:start + offset + BLOCK] = (scaled[offset:offset + BLOCK] - centre) @ axes
    return out


def neighbour_tile(image: np.ndarray, mask: np.ndarray, typical: list[np.ndarray],
                   num_classes: int, ignore_index: int | None = None):
    """The flagged pair (image + mask), a gap, then its most similar typical images."""
    from PIL import Image

    from curate.ui.plots import pair_tile

    tile = pair_tile(image, mask, num_classes, ignore_index=ignore_index)
    height = tile.height
    shown = []
    for other in typical:
        picture = Image.fromarray(other if other.ndim == 2 else other[..., :3]).convert("RGB")
        shown.append(picture.resize((max(1, round(picture.width * height / picture.height)),
                                     height), Image.NEAREST))
    gap = 8
    out = Image.new("RGB", (tile.width + sum(gap + s.width for s in shown), height), "white")
    out.paste(tile, (0, 0))
    x = tile.width
    for picture in shown:
        out.paste(picture, (x + gap, 0))
        x += gap + picture.width
    return out
