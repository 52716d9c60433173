"""Rank masks by how well one simple edit would reconcile them with out-of-fold predictions.

A weak model disagrees with much of every crowd-labelled mask, so the plain mean of
1 - p(given) ranks hard images, not wrong masks. Instead each pair gets four pieces of
evidence, each the gain in mean log p(given class) that one edit of the mask would buy (a likelihood-ratio view: how much better the model explains an edited mask):

- region_gain: relabel one connected region (of the mask or of the model's argmax, at least
  0.5 % of the image) with the class the model prefers there: a swapped or deleted region;
  per labelled pixel of the mask (as the two below).
- boundary_gain: move the border between two classes of the mask by 1-8 px (class a's pixels
  within r px of class b become b), counting only what the band gains beyond the band behind
  it, so a region the model disputes as a whole does not look like a misplaced border.
- shift_gain: move the whole mask by up to 8 px in each direction (mask registered off its
  image), compared on the pixels labelled both before and after.

- island_gain: the same relabelling of one region, measured per pixel of the region instead
  of per labelled pixel of the mask: the highest mean gain over the connected regions (at
  least 1 % of the image) where the model's argmax disagrees with the mask. A deleted object
  or a swapped region the model is sure of scores high whatever its size; region_gain, which
  weighs a region by its area, is led by whole frames of an ambiguous class in clean masks.

The evidence columns are in different typical ranges (clean masks of one dataset gain little
from a shift, often much from a region), so `score` is each pair's best percentile rank among
the table's pairs over island_gain, boundary_gain and shift_gain (SCORED_COLUMNS): 1.0 = the
largest gain of some kind in this table. region_gain is shown, not scored: with it in the
maximum, confident small islands lost their places to large clean-mask disagreements (README
"Label-quality ranking"). Computed from the probabilities alone; the 1 % floor of island_gain
was chosen among 0.5 / 1 / 2 / 4 % on plantings that the README's held-out rows do not use.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage, signal

from segment.errors import InputError

MAX_SHIFT = 8  # px, boundary moves and whole-mask shifts
MIN_REGION = 0.005  # share of the image a relabelled region must cover
LOG_FLOOR = 1e-3  # p below this counts as this (one confident pixel cannot dominate)
MIN_ISLAND = 0.01  # share of the image an island_gain region must cover
EVIDENCE_COLUMNS = ["region_gain", "island_gain", "boundary_gain", "shift_gain"]
SCORED_COLUMNS = ["island_gain", "boundary_gain", "shift_gain"]


def _log_probs(probs: np.ndarray) -> np.ndarray:
    return np.log(np.clip(probs.astype(np.float32), LOG_FLOOR, 1.0))  # (C, H, W)


def _given(logp: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.take_along_axis(logp, mask[None].astype(np.int64), 0)[0]  # (H, W)


def region_gain(logp: np.ndarray, mask: np.ndarray, labelled: np.ndarray,
                min_region: float = MIN_REGION) -> float:
    """Best gain from relabelling one connected region of the mask or of the argmax with
    the class of highest summed log p over its labelled pixels."""
    n = int(labelled.sum())
    given = _given(logp, mask)
    flat = labelled.ravel()
    best = 0.0
    for source in (mask, logp.argmax(0)):
        for c in np.unique(source[labelled]):
            regions, k = ndimage.label(source == c)
            idx = regions.ravel()[flat]
            size = np.bincount(idx, minlength=k + 1)[1:]
            keep = size >= min_region * mask.size
            if not keep.any():
                continue
            sums = np.stack([np.bincount(idx, weights=lp.ravel()[flat], minlength=k + 1)[1:]
                             for lp in logp])  # (C, k)
            now = np.bincount(idx, weights=given.ravel()[flat], minlength=k + 1)[1:]
            best = max(best, float(((sums.max(0) - now)[keep]).max()) / n)
    return best


def island_gain(logp: np.ndarray, mask: np.ndarray, labelled: np.ndarray,
                min_island: float = MIN_ISLAND) -> float:
    """Highest mean gain per pixel from relabelling one connected region of labelled pixels
    where the argmax is class c and the mask is not (at least min_island of the image) with c."""
    given = _given(logp, mask)
    argmax = logp.argmax(0)
    best = 0.0
    for c in np.unique(argmax[labelled]):
        regions, k = ndimage.label((argmax == c) & labelled & (mask != c))
        if not k:
            continue
        idx = regions.ravel()
        size = np.bincount(idx, minlength=k + 1)[1:]
        keep = size >= min_island * mask.size
        if keep.any():
            gain = np.bincount(idx, weights=(logp[c] - given).ravel(), minlength=k + 1)[1:]
            best = max(best, float((gain[keep] / size[keep]).max()))
    return best


def boundary_gain(logp: np.ndarray, mask: np.ndarray, labelled: np.ndarray,
                  max_shift: int = MAX_SHIFT) -> float:
    """Best gain from class a giving up its pixels within r px of class b (1 <= r <=
    max_shift), less what the band behind (r < d <= 2r + 2) would gain at the same rate."""
    n = int(labelled.sum())
    given = _given(logp, mask)
    present = [int(c) for c in np.unique(mask[labelled])]
    best = 0.0
    for b in present:
        distance = ndimage.distance_transform_edt(mask != b)  # (H, W) px to the nearest b
        gain_b = logp[b] - given
        for a in present:
            if a == b:
                continue
            in_a = mask == a
            for r in range(1, max_shift + 1):
                band = in_a & (distance <= r)
                behind = in_a & (distance > r) & (distance <= 2 * r + 2)
                if band.sum() < 20 or behind.sum() < 20:
                    continue
                excess = gain_b[band].mean() - max(gain_b[behind].mean(), 0.0)
                best = max(best, float(excess) * band.sum() / n)
    return best


def _correlate(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Full cross-correlation; entry (H-1+dy, W-1+dx) sums x[y, x] * kernel[y-dy, x-dx]."""
    return signal.fftconvolve(x, kernel[::-1, ::-1], mode="full")


def shift_gain(logp: np.ndarray, mask: np.ndarray, labelled: np.ndarray,
               max_shift: int = MAX_SHIFT) -> float:
    """Best gain from moving the whole mask by (dy, dx), |dy|, |dx| <= max_shift, on the
    pixels labelled both in the mask and in its moved copy (at least half the labelled)."""
    n = int(labelled.sum())
    h, w = mask.shape
    lab = labelled.astype(np.float32)
    moved = sum(_correlate(logp[c] * lab, (mask == c).astype(np.float32))
                for c in np.unique(mask[labelled]))
    now = _correlate(_given(logp, mask) * lab, lab)
    overlap = _correlate(lab, lab)
    window = (slice(h - 1 - max_shift, h + max_shift), slice(w - 1 - max_shift, w + max_shift))
    gain = np.where(overlap[window] >= 0.5 * n, moved[window] - now[window], 0.0) / n
    return max(float(gain.max()), 0.0)


def evidence(probs: np.ndarray, mask: np.ndarray, ignore_index: int | None) -> dict:
    """The four gains of one pair from its probabilities (C, H, W); 0 with nothing labelled."""
    labelled = np.ones(mask.shape, bool) if ignore_index is None else mask != ignore_index
    if not labelled.any():
        return dict.fromkeys(EVIDENCE_COLUMNS, 0.0)
    logp = _log_probs(probs)
    return {"region_gain": round(region_gain(logp, mask, labelled), 5),
            "island_gain": round(island_gain(logp, mask, labelled), 5),
            "boundary_gain": round(boundary_gain(logp, mask, labelled), 5),
            "shift_gain": round(shift_gain(logp, mask, labelled), 5)}


def rank_score(table: pd.DataFrame) -> np.ndarray:
    """(N,) best percentile rank over SCORED_COLUMNS (ties share their mean rank); 0 for a
    pair with nothing labelled."""
    ranks = np.stack([table[c].rank(pct=True).to_numpy() for c in SCORED_COLUMNS])
    score = ranks.max(0)
    score[table["labelled_pixels"].to_numpy() == 0] = 0.0
    return np.round(score, 5)


def rescore(run: str | Path, data: str | Path | None = None) -> pd.DataFrame:
    """The label-quality table of an existing `segment crossval` run, recomputed from its
    oof_probs.npy and the dataset's masks (no training). `data` defaults to the run's."""
    from segment.crossval import quality_table
    from segment.data import load_dataset, load_split

    run = Path(run)
    needed = [run / "crossval.json", run / "label_quality.csv", run / "oof_probs.npy"]
    missing = [p.name for p in needed if not p.is_file()]
    if missing:
        raise InputError(f"{run} is not a `segment crossval` run: {', '.join(missing)} missing; "
                         "pass the -o folder of `segment crossval`")
    meta = json.loads((run / "crossval.json").read_text())
    old = pd.read_csv(run / "label_quality.csv", dtype={"id": str}, keep_default_na=False)
    info = load_dataset(Path(data or meta["data"]))
    _, masks, ids = load_split(info, "train")
    if list(ids) != old["id"].tolist():
        raise InputError(f"the train pairs of {info.root} are not the ones {run} was run on; "
                         "pass --data with the dataset `segment crossval` read")
    probs = np.load(run / "oof_probs.npy", mmap_mode="r")  # (N, C, H, W) float16
    return quality_table(probs, masks, list(ids), old["fold"].to_numpy(), info.ignore_index,
                         info.class_names)
