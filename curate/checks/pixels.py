"""Pixel-statistics outliers: blank, dark, bright, low-information and blurry images.

Robust z-scores (median and MAD over the whole dataset) make "unusual" relative to the
dataset at hand, so a dark Mars dataset is not all flagged as dark; absolute floors catch
what is bad whatever the rest looks like (a constant image).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from curate.checks.findings import Findings, robust_z


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
    """Missing fine detail, judged two ways so that smooth but sharp scenes pass.

    fine_detail compares the Laplacian at full and half resolution (blur removes the finest
    octave first); sharpness / variance is the Laplacian energy per unit of contrast (it
    catches strong blur, where both octaves are gone). Either far below the dataset's own
    typical value flags the image.
    """
    std = features["std"].to_numpy(float)
    ratio_z = robust_z(features["fine_detail"].to_numpy(float))
    contrast_z = robust_z(np.log10(features["sharpness"].to_numpy(float) / (std ** 2 + 1.0)
                                   + 1e-3))
    z = np.minimum(ratio_z, contrast_z)
    flag = (z < -config.z_threshold) & ~blank(features, config).flag
    reason = [f"blurry: fine detail robust z {r:.1f}, detail per contrast robust z {c:.1f} "
              f"(threshold -{config.z_threshold:g})" if f else ""
              for f, r, c in zip(flag, ratio_z, contrast_z)]
    return Findings(flag, np.where(flag, -z, 0.0), reason)
