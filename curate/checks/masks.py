"""Mask integrity and mask repetition: size mismatch, bad labels, unlabelled, shared masks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from curate.checks.findings import Findings
from curate.scan.neighbours import hashes_to_array, popcount


def _class_counts(features: pd.DataFrame) -> np.ndarray:
    columns = sorted((c for c in features.columns if c.startswith("px_")),
                     key=lambda c: int(c[3:]))
    return features[columns].to_numpy(dtype=np.int64)             # (N, K)


def size_mismatch(features: pd.DataFrame, config) -> Findings:
    """Image and mask of different height or width."""
    image = features[["height", "width"]].to_numpy()
    mask = features[["mask_height", "mask_width"]].to_numpy()
    flag = (image != mask).any(axis=1)
    reason = [f"image is {h}x{w} but mask is {mh}x{mw}" if f else ""
              for f, (h, w), (mh, mw) in zip(flag, image, mask)]
    return Findings(flag, flag.astype(float), reason)


def bad_labels(features: pd.DataFrame, config) -> Findings:
    """Mask pixels with a label outside 0..num_classes-1."""
    out = features["out_of_range"].to_numpy()
    total = (features["mask_height"] * features["mask_width"]).to_numpy()
    k = _class_counts(features).shape[1]
    flag = out > 0
    reason = [f"{o} mask pixels have labels outside 0..{k - 1}" if f else ""
              for f, o in zip(flag, out)]
    return Findings(flag, np.where(flag, out / np.maximum(total, 1), 0.0), reason)


def unlabelled(features: pd.DataFrame, config) -> Findings:
    """Masks with nothing labelled: every pixel is the ignore class."""
    frac = features["labelled_frac"].to_numpy()
    flag = frac <= 0.0
    reason = ["nothing labelled: every mask pixel is the ignore class" if f else ""
              for f in flag]
    return Findings(flag, flag.astype(float), reason)


# A whole-frame label: its labelled pixels fill their bounding box (a few stray pixels
# aside), and that box leaves at most a straight border of SIMPLE_BORDER of the side
# (at least 2 px) on each edge. AI4Mars repeats such masks with a 1-2 px border.
SIMPLE_FILL = 0.99
SIMPLE_BORDER = 0.05


def shared_mask(features: pd.DataFrame, config) -> Findings:
    """Large groups of unrelated images that all carry one byte-identical mask of some layout.

    Real data repeats whole-frame labels (all soil with a one-pixel border): those groups are
    legitimate. Any other mask (see `_layout_problems`) shared by `min_shared_mask_group` or
    more pairs whose images are not near duplicates of one another cannot be a set of real
    labels: the pictures are unrelated to the mask (the course dataset's "aliens").
    """
    n = len(features)
    found = Findings.none(n)
    counts = _class_counts(features)
    frame = (features["mask_height"] * features["mask_width"]).to_numpy()
    largest = _largest_class_share(counts, config.ignore_index, frame)
    hashes = hashes_to_array(features["phash"])
    mask_sha = features["mask_sha1"].reset_index(drop=True)
    image_sha, _ = pd.factorize(features["image_sha1"])
    for members in _repeated_mask_groups(mask_sha, config.min_shared_mask_group):
        first = members[0]
        if len(np.unique(image_sha[members])) < config.min_shared_mask_group:
            continue
        if features["labelled_frac"].iat[first] <= 0:
            continue  # nothing labelled: the unlabelled check says so
        problems = _layout_problems(features.iloc[first], largest[first], config)
        if not problems:
            continue  # a whole-frame label: legitimate repeats
        spread = _median_pairwise_distance(hashes[members])
        if spread <= 2 * config.near_duplicate_distance:
            continue  # the same scene saved again: the near-duplicate check groups these
        found.flag[members] = True
        found.score[members] = min(1.0, len(members) / 20) * (1.0 - largest[first])
        for m in members:
            found.reason[m] = (
                f"one of {len(members)} pairs sharing an identical mask (as "
                f"{features['id'].iat[first]}) "
                f"that is not a whole-frame label: {'; '.join(problems)}; their images are "
                f"unrelated (median pHash distance {spread:.0f} of 64)")
    return found


def _layout_problems(row: pd.Series, largest: float, config) -> list[str]:
    """Why a mask is not a whole-frame label, in words; empty when it is one."""
    problems = []
    if largest < config.simple_mask_share:
        problems.append(f"its largest labelled class covers {largest:.0%} of the frame "
                        f"(a whole-frame label covers >= {config.simple_mask_share:.0%})")
    if row["labelled_fill"] < SIMPLE_FILL:
        problems.append(f"the labelled pixels fill {row['labelled_fill']:.0%} of their "
                        f"bounding box (irregular shape or several regions)")
    side = min(int(row["mask_height"]), int(row["mask_width"]))
    border = max(2, int(np.ceil(SIMPLE_BORDER * side)))
    if row["labelled_margin"] > border:
        problems.append(f"an unlabelled margin {int(row['labelled_margin'])} px wide "
                        f"(a straight border is <= {border} px)")
    return problems


def _repeated_mask_groups(mask_sha: pd.Series, min_size: int) -> list[np.ndarray]:
    """Positions of the pairs of each mask that occurs at least `min_size` times."""
    codes, _ = pd.factorize(mask_sha)
    sizes = np.bincount(codes)
    return [np.flatnonzero(codes == c) for c in np.flatnonzero(sizes >= min_size)]


def _largest_class_share(counts: np.ndarray, ignore_index: int | None,
                         frame: np.ndarray) -> np.ndarray:
    """(N,) share of the whole frame that the largest class other than the ignore class covers."""
    labelled_counts = counts.copy()
    if ignore_index is not None:
        labelled_counts[:, ignore_index] = 0
    return labelled_counts.max(axis=1) / np.maximum(frame, 1)


def _median_pairwise_distance(hashes: np.ndarray, limit: int = 64) -> float:
    """Median Hamming distance between the (first `limit`) hashes of a group."""
    h = hashes[:limit]
    a, b = np.triu_indices(len(h), k=1)
    return float(np.median(popcount(h[a] ^ h[b])))
