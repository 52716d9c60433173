"""The one shape every check returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


# Below this many pairs, "unusual for this dataset" means nothing: z-scores are all 0.
MIN_PAIRS_FOR_STATISTICS = 20


@dataclass
class Findings:
    """Per-pair results of one check, aligned with the feature table.

    flag: (N,) bool, the pair has the issue; score: (N,) float, larger is more severe;
    reason: (N,) str, why, in words, for flagged pairs; extra: columns to add to the
    manifest (e.g. the near-duplicate group). Whether flagged pairs are removed is the
    configuration's choice, not the check's.
    """

    flag: np.ndarray
    score: np.ndarray
    reason: list[str]
    extra: pd.DataFrame | None = None

    @classmethod
    def none(cls, n: int) -> "Findings":
        return cls(np.zeros(n, bool), np.zeros(n), [""] * n)


def ids_at(column: pd.Series, positions) -> np.ndarray:
    """(N,) object array with the values of `column` (the ids) at `positions` and None
    elsewhere: the few ids a check's reasons name, without a Python string made for every
    pair's id (70 MB of them at a million pairs)."""
    out = np.full(len(column), None, dtype=object)
    positions = np.unique(np.asarray(positions, dtype=np.int64))
    out[positions] = column.iloc[positions].to_numpy(dtype=object)
    return out


def robust_z(values: np.ndarray) -> np.ndarray:
    """(x - median) / (1.4826 * MAD): a z-score that a few outliers cannot drag along."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) < MIN_PAIRS_FOR_STATISTICS:
        return np.zeros(len(values))  # too few pairs to say what is typical
    median = np.median(values)
    mad = 1.4826 * np.median(np.abs(values - median))
    if mad == 0:
        mad = values.std() or 1.0
    return (values - median) / mad
