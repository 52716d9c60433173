"""Pixel-statistics outliers: blank, dark, bright, low-information and blurry images.

Robust z-scores (median and MAD over the whole dataset) make "unusual" relative to the
dataset at hand, so a dark Mars dataset is not all flagged as dark; absolute floors catch
what is bad whatever the rest looks like (a constant image).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from curate.checks.findings import MIN_PAIRS_FOR_STATISTICS, Findings, robust_z

# Below this pixel standard deviation (gray levels) rounding, not focus, decides how much
# fine detail is left (an image divided by 16 keeps 60 % under a re-blur): such frames are
# blank, dark or low information, which say so; blurry does not judge them.
BLUR_MIN_STD = 2.0
# Above this share of their height kept by a re-blur, an image's sharpest edges are soft
# (curate/scan/features.py `blur_measures`): sharp frames keep 0.05-0.40 of it, a defocus
# of sigma 1.5 over 0.66. A smooth frame whose few edges are sharp is not blurry.
BLUR_EDGE_KEEP = 0.55


def _low(values: np.ndarray, threshold: float, what: str, unit: str, fmt: str = ".1f"):
    z = robust_z(values)
    flag = z < -threshold
    reason = [f"{what}: {unit} {v:{fmt}} (robust z {zz:.1f}, threshold -{threshold:g})"
              if f else "" for f, v, zz in zip(flag, values, z)]
    return flag, np.where(flag, -z, 0.0), reason


def blank(features: pd.DataFrame, config) -> Findings:
    """Almost constant images: pixel standard deviation below `blank_std` gray levels."""
    std = features["std"].to_numpy(dtype=float)
    flag = std < config.blank_std
    reason = [f"blank: pixel standard deviation {s:.2f} < {config.blank_std:g}" if f else ""
              for f, s in zip(flag, std)]
    return Findings(flag, np.where(flag, 1.0 - std / max(config.blank_std, 1e-9), 0.0),
                    reason)


def dark(features: pd.DataFrame, config) -> Findings:
    """Mean brightness far below the dataset's own, or below `dark_level` whatever the rest.

    The floor matters for dark datasets: Mars images spread so widely (median 54, MAD 17 gray
    levels) that even an all-but-black image is only about 3 robust z below the median.
    """
    mean = features["mean"].to_numpy(float)
    flag, score, reason = _low(mean, config.z_threshold, "dark", "mean brightness")
    floor = (mean < config.dark_level) & ~flag
    for i in np.flatnonzero(floor):
        reason[i] = f"dark: mean brightness {mean[i]:.1f} < {config.dark_level:g}"
    return Findings(flag | floor, np.maximum(score, floor * 1.0), reason)


def bright(features: pd.DataFrame, config) -> Findings:
    """Mean brightness far above the dataset's own, or above `bright_level`."""
    mean = features["mean"].to_numpy(float)
    flag, score, _ = _low(-mean, config.z_threshold, "bright", "mean brightness")
    reason = [f"bright: mean brightness {m:.1f} (robust z {s:.1f}, threshold "
              f"{config.z_threshold:g})" if f else "" for f, m, s in zip(flag, mean, score)]
    ceiling = (mean > config.bright_level) & ~flag
    for i in np.flatnonzero(ceiling):
        reason[i] = f"bright: mean brightness {mean[i]:.1f} > {config.bright_level:g}"
    return Findings(flag | ceiling, np.maximum(score, ceiling * 1.0), reason)


def low_information(features: pd.DataFrame, config) -> Findings:
    flag, score, reason = _low(features["entropy"].to_numpy(float), config.z_threshold,
                               "low information", "entropy (bits)", ".2f")
    flag &= ~blank(features, config).flag  # blank says it more precisely
    return Findings(flag, np.where(flag, score, 0.0),
                    [r if f else "" for f, r in zip(flag, reason)])


def blurry(features: pd.DataFrame, config) -> Findings:
    """Defocused images: a re-blur leaves most of their fine detail in place.

    `blur_keep` (curate/scan/features.py) is the share of the Laplacian energy a Gaussian re-blur
    of sigma 1 keeps. It ignores contrast and brightness, so hazy, dark and shadowed frames
    that are sharp keep little, like every sharp frame. An image is blurry when it keeps
    more than `blur_keep` (absolute: a blur of sigma 1.5 or more, whatever the scene) AND
    its share is far above the dataset's own (robust z): a dataset that is soft throughout
    (upsampled, say) is not emptied, and an image with more detail than the median never
    qualifies. Near-flat images (std under BLUR_MIN_STD) are not judged, nor images whose
    sharpest edges are still steep (edge_keep at most BLUR_EDGE_KEEP): smooth is not blurry.
    """
    keep = features["blur_keep"].to_numpy(float)
    edges = features["edge_keep"].to_numpy(float)
    z = robust_z(np.log10(np.nan_to_num(keep, nan=0.0) + 1e-6))
    median = float(np.nanmedian(keep)) if np.isfinite(keep).any() else float("nan")
    unusual = z > config.z_threshold if len(keep) >= MIN_PAIRS_FOR_STATISTICS else True
    flag = ((keep > config.blur_keep) & unusual & (np.nan_to_num(edges, nan=1.0) > BLUR_EDGE_KEEP)
            & (features["std"].to_numpy(float) >= BLUR_MIN_STD))
    reason = [f"blurry: a re-blur keeps {k:.0%} of its fine detail (sharp images keep "
              f"under {config.blur_keep:.0%}; this dataset's median {median:.0%}, robust z "
              f"{zz:.1f}) and {e:.0%} of its sharpest edges' height (sharp edges keep under "
              f"{BLUR_EDGE_KEEP:.0%})" if f else "" for f, k, zz, e in zip(flag, keep, z, edges)]
    return Findings(flag, np.where(flag, keep, 0.0), reason)
