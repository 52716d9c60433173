"""Regions the model disputes, ranked by how likely the mask is wrong there: label_regions.csv.

A pair's image score (score.py) barely moves for a 100-pixel rock the mask leaves out: softmin
and the gains are spread over thousands of pixels. So the masks are also read region by region,
after Rottmann & Reese 2022 ("Automated detection of label errors in semantic segmentation
datasets via deep learning and uncertainty quantification"), who rank the model's connected
components with a meta-classifier over per-component figures (the MetaSeg line of work):

- proposals: connected components of the out-of-fold argmax of one class c where the mask
  gives another class ("disputed"), or, with an ignore class, where the mask gives the ignore
  class and the component is object-sized ("unlabelled": an object nobody labelled);
- figures (FEATURES) of each: size, the mean and lowest probability of the predicted and of
  the given class, their margin, the entropy inside and on the rim, rim length over area, what
  the mask gives around it, how its rim sits on the image's edges, whether it touches the
  frame;
- a classifier (region_classifier) learns from region edits planted into the data's own masks
  (region_edits.py: a small object painted over with its surroundings, a component relabelled,
  a border moved locally, an object unlabelled) to tell the proposals an edit made from the
  proposals of the masks as given. It is trained out of fold (a pair's regions are scored by
  a classifier that learned from the other folds' pairs and edits), monotone in the figures
  with a direction (a surer prediction, a lower probability of the given class, a larger
  margin can only raise it), and unweighted with the log loss, so its output is a probability
  of the planted mix it learned from; docs/results/label-quality.md measures it.

regions_table writes one row per proposal (the contract's LABEL_REGIONS_COLUMNS, then the
figures); the probability that at least one of a pair's regions is wrong (any_region) feeds
its score (score.rank_score). Tables of
fewer than MIN_LEARN_PAIRS pairs learn nothing: their regions are ordered by the margin alone,
which does not feed the score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage

from curate.io.contract import LABEL_REGIONS_COLUMNS
from curate.io import region_pixels
from segment.label_quality.evidence import gray_gradient
from segment.label_quality.region_edits import REGION_EDITS, edited

MIN_AREA = 8  # px a proposal needs (fewer is noise at the model's resolution)
MAX_OBJECT = 0.05  # share of the image an "unlabelled" proposal may cover at most (an object)
RING = 2  # px around a region read as its surroundings
FOLDS = 3  # out-of-fold rounds of region_classifier
MIN_LEARN_PAIRS = 100  # pairs a table needs for region_classifier (as score.py's learner)
MAX_EDITS_PER_KIND = 500  # region edits of each kind at most (what a large table costs)
EDIT_SHARE = 0.5  # share of a proposal's pixels an edit must have changed to count as made by it
ENTROPY_FLOOR = 1e-6
# Figures of a proposal and the direction each may move the probability (+1 up, -1 down, 0 either).
FEATURES = {"area_share": 0, "predicted_mean": 1, "predicted_min": 1, "given_mean": -1,
            "given_max": -1, "margin": 1, "entropy_inside": -1, "entropy_rim": 0,
            "rim_ratio": 0, "given_purity": 0, "ring_given": 0, "ring_predicted": 0,
            "ring_ignore": 0, "class_share": 0, "edge_fit": 0, "contrast": 0,
            "touches_frame": 0, "unlabelled": 0}
# How common the region's two classes are in the table's masks (their share of the labelled
# pixels): a rare class the model finds inside a common one is what a labeller skips.
PRIORS = {"predicted_prior": 0, "given_prior": 0}
LEARNED = {**FEATURES, **PRIORS}  # what region_classifier reads


def proposals(probs: np.ndarray, mask: np.ndarray, ignore_index: int | None
              ) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """(regions, [(predicted class, kind)]): an (H, W) int32 image numbering the proposals
    1..K (0 elsewhere) and, for region k at index k - 1, the class the model says and its
    kind ("disputed" or "unlabelled"). Regions are numbered in a fixed order (class, kind,
    then scipy's raster order), each at least MIN_AREA px."""
    argmax = probs.argmax(0)
    labelled = np.ones(mask.shape, bool) if ignore_index is None else mask != ignore_index
    out = np.zeros(mask.shape, np.int32)
    found: list[tuple[int, str]] = []
    limit = MAX_OBJECT * mask.size
    for c in np.unique(argmax):
        if c == ignore_index:
            continue
        here = argmax == c
        for kind, where in (("disputed", here & labelled & (mask != c)),
                            ("unlabelled", here & ~labelled)):
            if kind == "unlabelled" and ignore_index is None:
                continue
            parts, k = ndimage.label(where)
            if not k:
                continue
            size = np.bincount(parts.ravel(), minlength=k + 1)
            keep = size >= MIN_AREA
            keep[0] = False
            if kind == "unlabelled":
                keep &= size <= limit
            ids = np.flatnonzero(keep)
            if not len(ids):
                continue
            number = np.zeros(k + 1, np.int32)
            number[ids] = len(found) + 1 + np.arange(len(ids))
            taken = number[parts]
            out[taken > 0] = taken[taken > 0]
            found += [(int(c), kind)] * len(ids)
    return out, found


def _entropy(probs: np.ndarray) -> np.ndarray:
    """(H, W) entropy of the class probabilities over log(C): 0 sure, 1 uniform."""
    p = np.clip(probs.astype(np.float32), ENTROPY_FLOOR, 1.0)
    return -(p * np.log(p)).sum(0) / np.log(max(p.shape[0], 2))


COLUMNS = ["region", "predicted", "given", "kind", "area", "box", *FEATURES]


def features(probs: np.ndarray, mask: np.ndarray, ignore_index: int | None,
             image: np.ndarray | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """(figures, regions): one row of FEATURES per proposal of the pair (plus its region
    number, predicted and given class, kind, area and box), and the proposals' (H, W) image
    (see proposals). Image figures (edge_fit, contrast) are 0 without an image."""
    rows, regions = feature_rows(probs, mask, ignore_index, image)
    return pd.DataFrame(rows, columns=COLUMNS), regions


def feature_rows(probs: np.ndarray, mask: np.ndarray, ignore_index: int | None,
                 image: np.ndarray | None = None) -> tuple[list[dict], np.ndarray]:
    """features() as a list of row dicts (tables are built once, from many pairs' rows)."""
    regions, found = proposals(probs, mask, ignore_index)
    if not found:
        return [], regions
    probs = probs.astype(np.float32)
    h, w = mask.shape
    labelled = np.ones(mask.shape, bool) if ignore_index is None else mask != ignore_index
    entropy = _entropy(probs)
    gray, gradient = gray_gradient(image) if image is not None else (None, None)
    mean_gradient = float(gradient.mean()) + 1.0 if gradient is not None else 1.0
    rows = []
    for k, box in enumerate(ndimage.find_objects(regions), start=1):
        c, kind = found[k - 1]
        r0, c0 = max(box[0].start - RING, 0), max(box[1].start - RING, 0)
        r1, c1 = min(box[0].stop + RING, h), min(box[1].stop + RING, w)
        crop = (slice(r0, r1), slice(c0, c1))
        region = regions[crop] == k
        m, p, lab = mask[crop], probs[(slice(None), *crop)], labelled[crop]
        inside = ndimage.binary_erosion(region)
        rim = region & ~inside
        ring = ndimage.binary_dilation(region, iterations=RING) & ~region
        given_values = m[region]
        counts = np.bincount(given_values)
        g = int(counts.argmax())
        area = int(region.sum())
        p_pred, ent = p[c][region], entropy[crop][region]
        if kind == "unlabelled":
            p_given = np.zeros(area, np.float32)
        else:
            p_given = np.take_along_axis(p, m[None].astype(np.int64), 0)[0][region]
        ring_values = m[ring]
        ring_labelled = lab[ring]
        row = {"region": k, "predicted": c, "given": g, "kind": kind, "area": area,
               "box": (box[0].start, box[1].start, box[0].stop, box[1].stop),
               "area_share": area / mask.size,
               "predicted_mean": float(p_pred.mean()), "predicted_min": float(p_pred.min()),
               "given_mean": float(p_given.mean()), "given_max": float(p_given.max()),
               "margin": float((p_pred - p_given).mean()),
               "entropy_inside": float(entropy[crop][inside].mean() if inside.any()
                                       else ent.mean()),
               "entropy_rim": float(entropy[crop][rim].mean()),
               "rim_ratio": float(rim.sum() / area),
               "given_purity": float(counts[g] / area),
               "ring_given": float((ring_values == g).mean()) if ring.any() else 0.0,
               "ring_predicted": float((ring_values == c).mean()) if ring.any() else 0.0,
               "ring_ignore": float((~ring_labelled).mean()) if ring.any() else 0.0,
               "class_share": float(area / max(int((mask == g).sum()), 1)),
               "touches_frame": float(box[0].start == 0 or box[1].start == 0
                                      or box[0].stop == h or box[1].stop == w),
               "unlabelled": float(kind == "unlabelled"),
               "edge_fit": 0.0, "contrast": 0.0}
        if gray is not None:
            g_crop, grad_crop = gray[crop], gradient[crop]
            row["edge_fit"] = float(grad_crop[rim].mean() / mean_gradient)
            if ring.any():
                row["contrast"] = float(abs(g_crop[region].mean() - g_crop[ring].mean())
                                        / (g_crop[ring].std() + 1.0))
        rows.append(row)
    return rows, regions


def _image(images, i):
    return None if images is None else np.asarray(images[i])


def planted_regions(probs, masks, ignore_index, classes, rows, seed, images=None,
                    kinds=REGION_EDITS) -> pd.DataFrame:
    """Figures of the proposals that region edits (`kinds`, up to a quarter of the rows and
    MAX_EDITS_PER_KIND each) of the masks at `rows` made (at least EDIT_SHARE of a proposal's
    pixels changed by its edit), with columns row and kind."""
    per_kind = min(max(len(rows) // 4, 1), MAX_EDITS_PER_KIND)
    kept = []
    for row, kind, new in edited(masks, rows, ignore_index, classes, seed, per_kind, kinds):
        found, regions = feature_rows(np.asarray(probs[row]), new, ignore_index,
                                      _image(images, row))
        if not found:
            continue
        changed = new != np.asarray(masks[row])
        hit = np.bincount(regions.ravel(), weights=changed.ravel(),
                          minlength=len(found) + 1)[1:]
        for record, share in zip(found, hit / np.array([r["area"] for r in found])):
            if share >= EDIT_SHARE:
                kept.append({**record, "row": row, "kind": kind})
    return pd.DataFrame(kept, columns=[*COLUMNS, "row"]) if kept else pd.DataFrame()


def region_classifier(given: pd.DataFrame, planted: pd.DataFrame):
    """A gradient-boosted classifier of LEARNED: the proposals of masks as given (0) against
    the proposals region edits made (1), monotone as LEARNED says, unweighted."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    columns = list(LEARNED)
    x = np.concatenate([given[columns].to_numpy(float), planted[columns].to_numpy(float)])
    y = np.r_[np.zeros(len(given)), np.ones(len(planted))]
    model = HistGradientBoostingClassifier(max_depth=4, max_iter=200, learning_rate=0.1,
                                           early_stopping=False, random_state=0,
                                           monotonic_cst=list(LEARNED.values()))
    return model.fit(x, y)


def region_probability(given: pd.DataFrame, probs, masks, ignore_index, num_classes, seed=0,
                       images=None, kinds=REGION_EDITS, shares=None) -> tuple[np.ndarray, str]:
    """(probability per row of `given`, note): region edits are planted once into the
    masks; the pairs fall into FOLDS folds, and each fold's proposals are scored by a
    classifier that learned from the other folds' proposals as given and the proposals their
    edits made. `shares`: the classes' shares of the labelled pixels (with_priors). Zeros
    (and why) when no edit applies."""
    out = np.zeros(len(given))
    if given.empty:
        return out, "no proposals"
    classes = [c for c in range(num_classes) if c != ignore_index]
    pairs = np.unique(given["row"].to_numpy())
    fold = np.random.default_rng([seed, 7]).permutation(len(pairs)) % FOLDS
    fold_of = pd.Series(fold, index=pairs)
    planted = planted_regions(probs, masks, ignore_index, classes, pairs, seed, images, kinds)
    if planted.empty:
        return out, "no region edit applies to these masks"
    planted = with_priors(planted, shares if shares is not None else np.zeros(num_classes))
    given_fold = fold_of.loc[given["row"]].to_numpy()
    planted_fold = fold_of.loc[planted["row"]].to_numpy()
    for k in range(FOLDS):
        at = given_fold == k
        if at.any() and (planted_fold != k).any():
            model = region_classifier(given[~at], planted[planted_fold != k])
            out[at] = model.predict_proba(given.loc[at, list(LEARNED)].to_numpy(float))[:, 1]
    counts = ", ".join(f"{k} {n}" for k, n in planted["kind"].value_counts().items())
    return out, (f"region classifier learned out of {FOLDS} folds from {len(planted)} "
                 f"proposals of region edits ({counts}), seed {seed}")


def given_features(probs, mask, ignore_index, image=None):
    """feature_rows() of a mask as given (a name of its own, so a benchmark that scores many
    plantings of mostly the same masks can remember them)."""
    return feature_rows(probs, mask, ignore_index, image)


def regions_table(probs, masks, ids: list[str], ignore_index: int | None,
                  class_names: list[str], seed: int = 0, images=None,
                  kinds: tuple[str, ...] = REGION_EDITS) -> tuple[pd.DataFrame, str]:
    """(label_regions table, note): every proposal of every pair with its probability, best
    first within each pair; the contract's LABEL_REGIONS_COLUMNS first, then row and the
    FEATURES. `kinds`: the region edits the classifier learns from (all but in benchmarks
    that hold one out)."""
    records, pixels = [], np.zeros(len(class_names))
    for i in range(len(ids)):
        mask = np.asarray(masks[i])
        pixels += np.bincount(mask.ravel(), minlength=len(class_names))[:len(class_names)]
        found, regions = given_features(np.asarray(probs[i]), mask, ignore_index,
                                        _image(images, i))
        for record in found:
            box, runs = region_pixels.encode(regions == record["region"])
            records.append({**record, "row": i, "id": str(ids[i]), "pixels": runs, "box": box})
    columns = [*LABEL_REGIONS_COLUMNS, "row", *LEARNED]
    if not records:
        return pd.DataFrame(columns=columns), "no proposals"
    if ignore_index is not None:
        pixels[ignore_index] = 0
    shares = pixels / max(pixels.sum(), 1)
    given = with_priors(pd.DataFrame(records, columns=[*COLUMNS, "row", "id", "pixels"]),
                        shares)
    if len(ids) >= MIN_LEARN_PAIRS:
        probability, note = region_probability(given, probs, masks, ignore_index,
                                               len(class_names), seed, images, kinds, shares)
    else:  # too few pairs to learn from: the plain margin orders the regions
        probability = given["margin"].clip(0, 1).to_numpy(float)
        note = (f"{len(ids)} pairs; the region classifier needs {MIN_LEARN_PAIRS}, so a "
                "region's probability is its mean p(predicted) - p(given), clipped to 0..1")
    given["probability"] = np.round(probability, 5)
    given["given_class"] = [("" if kind == "unlabelled" else class_names[g])
                            for g, kind in zip(given["given"], given["kind"])]
    given["predicted_class"] = [class_names[c] for c in given["predicted"]]
    given["predicted_label"] = given["predicted"].astype(int)
    given = given.sort_values(["row", "probability"], ascending=[True, False], kind="stable")
    given["region"] = given.groupby("row").cumcount() + 1
    for column in LEARNED:
        given[column] = given[column].astype(float).round(5)
    return given[columns].reset_index(drop=True), note


def with_priors(table: pd.DataFrame, shares: np.ndarray) -> pd.DataFrame:
    """`table` with PRIORS: the share of the labelled pixels of the table's masks that the
    region's predicted and given class hold (given_prior 0 for an unlabelled region)."""
    given_prior = shares[table["given"].to_numpy(int)]
    given_prior[(table["kind"] == "unlabelled").to_numpy()] = 0.0
    return table.assign(predicted_prior=shares[table["predicted"].to_numpy(int)],
                        given_prior=given_prior)


def any_region(regions: pd.DataFrame, n: int) -> np.ndarray:
    """(n,) for each pair 1 - the product of (1 - p) over its regions: the probability that
    at least one of them is wrong, were they independent (0 for a pair without proposals, and
    for every pair of a table too small to learn from: the margin is no probability). A mask
    that leaves out several objects gathers the evidence of each."""
    out = np.zeros(n)
    if len(regions) and n >= MIN_LEARN_PAIRS:
        kept = -np.log1p(-regions["probability"].clip(0, 0.999).to_numpy(float))
        total = pd.Series(kept).groupby(regions["row"].to_numpy(int)).sum()
        out[total.index.to_numpy(int)] = -np.expm1(-total.to_numpy())
    return out
