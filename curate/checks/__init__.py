"""The registry of outlier checks: each reads the feature table and returns its findings.

A check is a function `check(features, config) -> Findings`; adding one is a module plus
one line in CHECKS. Every check answers in the same shape, so the manifest gets
`is_<name>` and `<name>_score` columns for each, plus one human-readable reason.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from curate.checks import duplicates, label_issue as labels, masks, odd_image, pixel_stats as pixels
from curate.checks.findings import Findings
from curate.scan.columns import release_unused

CHECKS: dict[str, Callable[..., Findings]] = {
    "size_mismatch": masks.size_mismatch,
    "bad_labels": masks.bad_labels,
    "exact_duplicate": duplicates.exact_duplicate,
    "duplicate_image": duplicates.duplicate_image,
    "near_duplicate": duplicates.near_duplicate,
    "shared_mask": masks.shared_mask,
    "unlabelled": masks.unlabelled,
    "blank": pixels.blank,
    "dark": pixels.dark,
    "bright": pixels.bright,
    "low_information": pixels.low_information,
    "blurry": pixels.blurry,
    "odd_image": odd_image.odd_image,  # review only: not in DEFAULT_REMOVE
    "label_issue": labels.label_issue,  # runs only with a label_quality table
}

# Flags of these checks remove the pair by default; the others are reported for review:
# near duplicates stay (grouped, so that `curate split` keeps them together) and unusual
# brightness or entropy alone is common in real scenes (dark soil, shadow, haze).
DEFAULT_REMOVE = ["size_mismatch", "bad_labels", "exact_duplicate", "duplicate_image",
                  "shared_mask", "unlabelled", "blank", "blurry"]


def run_checks(features: pd.DataFrame, config, names: list[str] | None = None) -> pd.DataFrame:
    """Per-pair table: is_<check>, <check>_score for every check, then flags, reason, removed.

    A pair is removed when a check in `config.remove` flags it.
    """
    n = len(features)
    columns: dict[str, object] = {}
    flags: dict[int, list[str]] = {}     # only the flagged pairs: a list per pair would
    reasons: dict[int, list[str]] = {}   # cost 128 MB at a million pairs
    removed = np.zeros(n, dtype=bool)
    for name in names or CHECKS:
        found = CHECKS[name](features, config)
        release_unused()   # what the check's Arrow work freed, before the next one
        columns[f"is_{name}"] = found.flag
        columns[f"{name}_score"] = np.round(found.score, 4)
        for i in np.flatnonzero(found.flag):
            flags.setdefault(i, []).append(name)
            reasons.setdefault(i, []).append(found.reason[i])
        if name in config.remove:
            removed |= found.flag
        if found.extra is not None:
            for column in found.extra.columns:
                columns[column] = found.extra[column].array
    columns["flags"] = _joined(n, flags, ";")
    columns["reason"] = _joined(n, reasons, "; ")
    table = pd.DataFrame(columns, index=features.index, copy=False)   # no 2-D copy per dtype
    table["removed"] = removed
    return table


def _joined(n: int, texts: dict[int, list[str]], separator: str) -> np.ndarray:
    """(N,) the texts of each pair joined by `separator`, "" for pairs without any."""
    out = np.full(n, "", dtype=object)
    for i, parts in texts.items():
        out[i] = separator.join(parts)
    return out
