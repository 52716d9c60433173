"""What one pair's mask and out-of-fold probabilities say about the mask: the evidence,
dispute and pair figures of its label_quality.csv row (segment/label_quality/score.py
combines them into the table's score).

A weak model disagrees with much of every crowd-labelled mask, so the plain mean of
1 - p(given) ranks hard images, not wrong masks. Instead each pair gets evidence, mostly the
gain in mean log p(given class) that one edit of the mask would buy (a likelihood-ratio view:
how much better the model explains an edited mask):

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
  island_share is that island's share of the labelled pixels and island_touch the share of
  its rim where the mask already gives the predicted class (0: enclosed, as a swapped or
  deleted region is; near 1: the argmax spills over a border); enclosed_gain is the best
  island gain among islands with island_touch < ENCLOSED_TOUCH.

Where the pair's image is given, four figures say how that island looks in the image beside
the rest of the class the mask gives it (island_figures): a deleted rock or a swapped sand
patch usually differs from the rest of its (wrong) class in brightness or texture, while a
region the model merely misjudges often looks like the rest of its class. island_contrast:
difference in mean brightness in units of the rest's spread; island_texture: relative
difference in mean gradient magnitude (inside the island's rim); island_edge: mean gradient on the island's rim against
the labelled pixels' mean (an outline drawn along an edge in the image); island_likeness: in
-1..1, how much closer the island looks to the mask's pixels of the predicted class than to
the rest of its given class (0 when either has fewer than MIN_COMPARED pixels). They are 0
without an image. The classifier of score.py reads all four; score.py's rank_score ranks
island_contrast and island_likeness (its appearance family).

Two more figures judge the mask against the image alone, no model involved (edge_figures):
edge_align, how strong the image's edges are under the mask's class borders (against the
labelled pixels' mean), and edge_shift, how much stronger they would be were the borders
moved a few px (a border drawn off its edge, or a mask registered off its image). Neutral
(1 and 0) for a mask with (almost) no border between two classes, 0 without an image. Most
edits and most real errors need a border, so part of what they tell is only that a mask has
one. The classifier reads them, and rank_score ranks them among the geometry family, where
they count by the family's mean with the gains of moved borders and masks.

The same island tells a reviewer where to look (dispute): dispute_box, its bounding box
"row0 col0 row1 col1" (half-open), dispute_given and dispute_predicted, the class the mask
gives most of it and the class the model calls it, and dispute_pixels, its size. Beside the
evidence, softmin is the generic baseline (cleanlab.segmentation's default image score,
written from its documentation): the labelled pixels' p(given class), weighted towards the
lowest; LOWER = WORSE, unlike every other column. The classifier reads softmin, and
rank_score ranks by it twice (in the disagreement family and on its own); the dispute columns
feed neither.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, signal

from curate.io.contract import (LABEL_QUALITY_DISPUTE, LABEL_QUALITY_EDGES,
                                 LABEL_QUALITY_EVIDENCE, LABEL_QUALITY_FIGURES,
                                 LABEL_QUALITY_IMAGE)
from segment.label_quality import mask_edits

MAX_SHIFT = 8  # px, boundary moves and whole-mask shifts
MIN_REGION = 0.005  # share of the image a relabelled region must cover
LOG_FLOOR = 1e-3  # p below this counts as this (one confident pixel cannot dominate)
MIN_ISLAND = 0.01  # share of the image an island_gain region must cover
ENCLOSED_TOUCH = 0.1  # an island is enclosed when the mask gives its class less of its rim
MIN_COMPARED = 20  # px a class needs outside the island for island_figures to compare with it
# A pixel's given label is "low" when the model gives it less than this probability.
LOW_PROBABILITY = 0.1
SOFTMIN_TEMPERATURE = 0.1  # cleanlab.segmentation's default (see softmin)
# label_quality.csv's columns are part of the folder contract (curate reads the table back).
IMAGE_COLUMNS = list(LABEL_QUALITY_IMAGE)
EDGE_COLUMNS = list(LABEL_QUALITY_EDGES)  # the mask's borders against the image (edge_figures)
EVIDENCE_COLUMNS = list(LABEL_QUALITY_EVIDENCE)
FIGURE_COLUMNS = list(LABEL_QUALITY_FIGURES)
# Where in the mask the model disputes the labels: the island of island_gain (see dispute).
DISPUTE_COLUMNS = list(LABEL_QUALITY_DISPUTE)


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


def islands(logp: np.ndarray, mask: np.ndarray, labelled: np.ndarray,
            min_island: float = MIN_ISLAND) -> dict:
    """Over the connected regions of labelled pixels where the argmax is class c and the mask
    is not (each at least min_island of the image): the highest mean gain per pixel from
    relabelling one with c (island_gain), that island's share of the labelled pixels and the
    share of its rim (labelled pixels next to it) the mask gives c (island_share, island_touch),
    and the highest gain among islands whose rim share is below ENCLOSED_TOUCH (enclosed_gain).
    Also the best island itself: "island" (H, W) bool and "island_class" c, None without one."""
    given = _given(logp, mask)
    argmax = logp.argmax(0)
    out = {"island_gain": 0.0, "island_share": 0.0, "island_touch": 0.0, "enclosed_gain": 0.0,
           "island": None, "island_class": None}
    for c in np.unique(argmax[labelled]):
        regions, k = ndimage.label((argmax == c) & labelled & (mask != c))
        if not k:
            continue
        idx = regions.ravel()
        size = np.bincount(idx, minlength=k + 1)[1:]
        gain = np.bincount(idx, weights=(logp[c] - given).ravel(), minlength=k + 1)[1:]
        for r in np.flatnonzero(size >= min_island * mask.size):
            region = regions == r + 1
            rim = ndimage.binary_dilation(region) & ~region & labelled
            touch = float((mask[rim] == c).mean()) if rim.any() else 0.0
            mean_gain = float(gain[r] / size[r])
            if touch < ENCLOSED_TOUCH:
                out["enclosed_gain"] = max(out["enclosed_gain"], mean_gain)
            if mean_gain > out["island_gain"]:
                out.update(island_gain=mean_gain, island_touch=touch,
                           island_share=float(size[r] / labelled.sum()), island=region,
                           island_class=int(c))
    return out


def gray_gradient(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The image (C, H, W) or (H, W) as gray (channels averaged) and its Sobel gradient
    magnitude, both (H, W) float32."""
    gray = image.astype(np.float32)
    gray = gray.mean(0) if gray.ndim == 3 else gray
    return gray, np.hypot(ndimage.sobel(gray, 0), ndimage.sobel(gray, 1))


def island_figures(image: np.ndarray, mask: np.ndarray, labelled: np.ndarray,
                   island: np.ndarray, predicted: int) -> dict:
    """IMAGE_COLUMNS of one island (H, W bool) that the model calls `predicted`, from the
    pair's image (C, H, W) or (H, W), channels averaged; 0 where the mask's class of the
    island has fewer than MIN_COMPARED pixels elsewhere."""
    out = dict.fromkeys(IMAGE_COLUMNS, 0.0)
    gray, gradient = gray_gradient(image)
    rest = (mask == np.bincount(mask[island]).argmax()) & ~island
    if rest.sum() < MIN_COMPARED:
        return out
    core = ndimage.binary_erosion(island)
    rim = island & ~core
    core = core if core.any() else island  # its texture, not its outline
    inside = (gray[island].mean(), gradient[core].mean())
    given = (gray[rest].mean(), gradient[rest].mean())
    out["island_contrast"] = abs(inside[0] - given[0]) / (gray[rest].std() + 1.0)
    out["island_texture"] = (inside[1] - given[1]) / (given[1] + 1.0)
    out["island_edge"] = gradient[rim].mean() / (gradient[labelled].mean() + 1.0)
    other = (mask == predicted) & ~island
    if other.sum() >= MIN_COMPARED:
        seen = (gray[other].mean(), gradient[other].mean())
        to_given = abs(inside[0] - given[0]) + abs(inside[1] - given[1])
        to_other = abs(inside[0] - seen[0]) + abs(inside[1] - seen[1])
        out["island_likeness"] = (to_given - to_other) / (to_given + to_other + 1e-6)
    return {column: float(value) for column, value in out.items()}


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


def _shifts(shape: tuple[int, int], max_shift: int) -> tuple[slice, slice]:
    """The entries of a full `_correlate` of (H, W) arrays for |dy|, |dx| <= max_shift: a
    (2 max_shift + 1) square whose centre is no shift."""
    h, w = shape
    return slice(h - 1 - max_shift, h + max_shift), slice(w - 1 - max_shift, w + max_shift)


def shift_gain(logp: np.ndarray, mask: np.ndarray, labelled: np.ndarray,
               max_shift: int = MAX_SHIFT) -> float:
    """Best gain from moving the whole mask by (dy, dx), |dy|, |dx| <= max_shift, on the
    pixels labelled both in the mask and in its moved copy (at least half the labelled)."""
    n = int(labelled.sum())
    lab = labelled.astype(np.float32)
    moved = sum(_correlate(logp[c] * lab, (mask == c).astype(np.float32))
                for c in np.unique(mask[labelled]))
    now = _correlate(_given(logp, mask) * lab, lab)
    overlap = _correlate(lab, lab)
    window = _shifts(mask.shape, max_shift)
    gain = np.where(overlap[window] >= 0.5 * n, moved[window] - now[window], 0.0) / n
    return max(float(gain.max()), 0.0)


def edge_figures(image: np.ndarray, mask: np.ndarray, labelled: np.ndarray,
                 max_shift: int = MAX_SHIFT) -> dict:
    """EDGE_COLUMNS: whether the mask's class borders (labelled pixels with a 4-neighbour of
    another labelled class) lie on the image's edges. edge_align: the mean gradient magnitude
    on the border over the labelled pixels' mean; edge_shift: how much higher that ratio would
    be, at best, were the whole border moved by (dy, dx), |dy|, |dx| <= max_shift. A border
    drawn on this image sits on its edges (edge_shift near 0); one drawn elsewhere, moved or
    smoothed, fits better somewhere else. Neutral (1, 0) with fewer than MIN_COMPARED border
    pixels. The model plays no part."""
    _, gradient = gray_gradient(image)
    border = np.zeros(mask.shape, bool)
    for axis in (0, 1):
        ahead, behind = [slice(None)] * 2, [slice(None)] * 2
        ahead[axis], behind[axis] = slice(1, None), slice(None, -1)
        ahead, behind = tuple(ahead), tuple(behind)
        step = (mask[ahead] != mask[behind]) & labelled[ahead] & labelled[behind]
        border[ahead] |= step
        border[behind] |= step
    size = int(border.sum())
    if size < MIN_COMPARED:
        return {"edge_align": 1.0, "edge_shift": 0.0}
    unit = size * (float(gradient[labelled].mean()) + 1e-6)
    moved = _correlate(gradient, border.astype(np.float32))[_shifts(mask.shape, max_shift)]
    here = moved[max_shift, max_shift]
    return {"edge_align": float(here / unit), "edge_shift": float((moved.max() - here) / unit)}


def dispute(mask: np.ndarray, island: np.ndarray | None, predicted: int | None) -> dict:
    """DISPUTE_COLUMNS of the island `islands` found (H, W bool, None without one), which the
    model calls `predicted`: its bounding box as "row0 col0 row1 col1" (half-open, the island
    lies in mask[row0:row1, col0:col1]), the class the mask gives most of it, `predicted`
    and its pixel count; "", "", "" and 0 without an island. Classes are indices here."""
    if island is None:
        return {"dispute_box": "", "dispute_given": "", "dispute_predicted": "",
                "dispute_pixels": 0}
    rows, cols = np.flatnonzero(island.any(1)), np.flatnonzero(island.any(0))
    box = f"{rows[0]} {cols[0]} {rows[-1] + 1} {cols[-1] + 1}"
    return {"dispute_box": box, "dispute_given": int(np.bincount(mask[island]).argmax()),
            "dispute_predicted": int(predicted), "dispute_pixels": int(island.sum())}


def _evidence(probs: np.ndarray, mask: np.ndarray, ignore_index: int | None,
              image: np.ndarray | None, where: bool = True) -> tuple[dict, dict]:
    """(EVIDENCE_COLUMNS, DISPUTE_COLUMNS) of one pair, the island found once for both
    ({} for the second without `where`)."""
    labelled = mask_edits.labelled_of(mask, ignore_index)
    if not labelled.any():
        return dict.fromkeys(EVIDENCE_COLUMNS, 0.0), dispute(mask, None, None) if where else {}
    logp = _log_probs(probs)
    found = {"region_gain": region_gain(logp, mask, labelled),
             **islands(logp, mask, labelled),
             "boundary_gain": boundary_gain(logp, mask, labelled),
             "shift_gain": shift_gain(logp, mask, labelled)}
    found.update(dict.fromkeys(IMAGE_COLUMNS, 0.0) if image is None or found["island"] is None
                 else island_figures(image, mask, labelled, found["island"],
                                     found["island_class"]))
    found.update(dict.fromkeys(EDGE_COLUMNS, 0.0) if image is None
                 else edge_figures(image, mask, labelled))
    return ({column: round(float(found[column]), 5) for column in EVIDENCE_COLUMNS},
            dispute(mask, found["island"], found["island_class"]) if where else {})


def evidence(probs: np.ndarray, mask: np.ndarray, ignore_index: int | None,
             image: np.ndarray | None = None) -> dict:
    """The EVIDENCE_COLUMNS of one pair from its probabilities (C, H, W) and, for
    IMAGE_COLUMNS, its image; 0 with nothing labelled (IMAGE_COLUMNS: without an image or an
    island)."""
    return _evidence(probs, mask, ignore_index, image)[0]


def softmin(p_given: np.ndarray, temperature: float = SOFTMIN_TEMPERATURE) -> float:
    """cleanlab.segmentation's default image score from the self-confidence p(given class)
    of each labelled pixel (n,): their mean weighted by softmax(-p / temperature), so the
    least confident pixels dominate; in [0, 1], LOWER = WORSE. 1.0 for no pixels.

    The formula is documented with cleanlab.segmentation.rank.get_label_quality_scores
    (method="softmin", temperature 0.1) at
    https://docs.cleanlab.ai/stable/cleanlab/segmentation/rank.html; written here from that
    description (cleanlab, AGPL, is never imported)."""
    if not len(p_given):
        return 1.0
    p = p_given.astype(np.float64)
    weight = np.exp(-(p - p.min()) / temperature)  # shifted: the same weights, no underflow
    return float((p * weight).sum() / weight.sum())


def pair_figures(probs: np.ndarray, mask: np.ndarray, ignore_index: int | None,
                 low: float = LOW_PROBABILITY) -> dict:
    """Label-quality figures of one pair from its out-of-fold probabilities (C, H, W).

    low_share: share of labelled pixels (mask != ignore_index) whose given class has
    probability < `low`. The worst pair is the (given, predicted) class pair with the most
    labelled pixels where the argmax differs from the mask; pair_share is its share of labelled
    pixels and pair_confidence the mean predicted probability there. mean_disagreement = mean
    over labelled pixels of (1 - p(given class)) in [0, 1]: the share of the mask the model
    would label differently, in expectation. softmin: cleanlab's generic image score over the
    labelled pixels (see softmin; lower = worse, 1.0 with nothing labelled). Classes are
    indices here ("" for none).
    """
    labelled = mask_edits.labelled_of(mask, ignore_index)
    n = int(labelled.sum())
    out = {"labelled_pixels": n, "low_share": 0.0, "given_class": "", "predicted_class": "",
           "pair_share": 0.0, "pair_confidence": 0.0, "mean_disagreement": 0.0,
           "softmin": 1.0}
    if n == 0:
        return out
    p = probs.astype(np.float32)[:, labelled]  # (C, n)
    given = mask[labelled].astype(np.int64)
    p_given = p[given, np.arange(n)]
    predicted = p.argmax(0)
    out["low_share"] = round(float((p_given < low).mean()), 4)
    out["mean_disagreement"] = round(float(1.0 - p_given.mean()), 4)
    out["softmin"] = round(softmin(p_given), 5)
    wrong = predicted != given
    if wrong.any():
        c = p.shape[0]
        counts = np.bincount(given[wrong] * c + predicted[wrong], minlength=c * c)
        worst = int(counts.argmax())
        g, q = divmod(worst, c)
        where = wrong & (given == g) & (predicted == q)
        out.update(given_class=g, predicted_class=q, pair_share=round(counts[worst] / n, 4),
                   pair_confidence=round(float(p[q, where].mean()), 4))
    return out


def describe(probs: np.ndarray, mask: np.ndarray, ignore_index: int | None,
             image: np.ndarray | None = None, for_people: bool = True) -> dict:
    """pair_figures, evidence and dispute of one pair: every column of its table row but
    id, row, fold, edit_probability and score. for_people=False leaves out what only people
    read (DISPUTE_COLUMNS): edited copies need just what the classifier reads."""
    found, where = _evidence(probs, mask, ignore_index, image, for_people)
    return {**pair_figures(probs, mask, ignore_index), **found, **where}
