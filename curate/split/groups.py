"""Which pairs of a split must stay together: the groups `curate split` assigns as units.

Pairs are linked by near-duplicate group (or pHash distance), identical image bytes, a user's
--group-column, and the video sequence read from the ids (curate/split/sequences.py); the linked
pairs form one group (connected components). `curate.split.stratify` assigns the groups.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from curate.scan.neighbours import MAX_DISTANCE, connected_groups, hashes_to_array, near_pairs
from curate.split.sequences import find_sequences
from curate.io.dataset import Dataset
from curate.errors import ConfigError, InputError

if TYPE_CHECKING:
    from curate.split.config import SplitConfig


def split_groups(manifest: pd.DataFrame, config: SplitConfig) -> np.ndarray:
    """(N,) group label per pair (the position of its first member); a group shares a split.

    Pairs are linked when they share a non-empty `dup_group` (written by `curate outliers`;
    without that column, near duplicates are found here from `phash`), the same `image_sha1`,
    or the same non-empty value of `config.group_column`, of `sequence` (the video clip
    that `split_dataset` read from the names; curate/split/sequences.py), or of
    `source_group` (what a downloaded layout groups, e.g. a Cityscapes drive).
    """
    n = len(manifest)
    links = []
    if "dup_group" in manifest.columns:
        links.append(_same_value_links(manifest["dup_group"]))
    else:
        _require(manifest, ["phash"], "to find near duplicates")
        i, j, _ = near_pairs(hashes_to_array(manifest["phash"]), config.near_duplicate_distance)
        links.append((i, j))
    if "image_sha1" in manifest.columns:
        links.append(_same_value_links(manifest["image_sha1"]))
    if config.group_column:
        if config.group_column not in manifest.columns:
            raise ConfigError(
                f"Group column {config.group_column!r} is not in the manifest; its columns "
                f"are {list(manifest.columns)}."
            )
        links.append(_same_value_links(manifest[config.group_column]))
    if config.sequences and "sequence" in manifest.columns:
        links.append(_same_value_links(manifest["sequence"]))
    if "source_group" in manifest.columns:   # what the layout groups (a Cityscapes drive)
        links.append(_same_value_links(manifest["source_group"]))
    i = np.concatenate([a for a, _ in links]).astype(np.int64)
    j = np.concatenate([b for _, b in links]).astype(np.int64)
    return connected_groups(n, i, j)


def _same_value_links(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Link each pair to the first pair with the same non-empty value."""
    values = values.reset_index(drop=True)
    filled = values.notna() & (values.astype(str).str.strip() != "")
    codes, _ = pd.factorize(values.where(filled))          # -1 for empty
    rows = np.flatnonzero(codes >= 0)
    if len(rows) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    _, first = np.unique(codes[rows], return_index=True)
    first_row = rows[first]                                 # indexed by code
    return first_row[codes[rows]], rows


def _require(manifest: pd.DataFrame, columns: list[str], why: str) -> None:
    missing = [c for c in columns if c not in manifest.columns]
    if missing:
        raise InputError(
            f"The manifest lacks the columns {missing} {why}; build it with "
            "curate.data.manifest.build_manifest(dataset), which scans the pixels."
        )


def with_sequences(manifest: pd.DataFrame, config: SplitConfig) -> tuple[pd.DataFrame, str]:
    """The manifest with a `sequence` column when the ids name video clips, and what was done.

    The note is "" when the names carry no clips; it says the frames were grouped, or (with
    `config.sequences` off) that val and test scores will be optimistic.
    """
    manifest = manifest.drop(columns=["sequence"], errors="ignore")
    found = find_sequences(manifest["id"].astype(str).tolist())
    if found is None:
        return manifest, ""
    if not config.sequences:
        return manifest, (f"Not grouped by sequence: {found.describe()}. Val and test frames "
                          "have neighbours of the same clip in train, so their scores are "
                          "optimistic; drop --no-sequences to keep each clip in one split.")
    manifest = manifest.copy()
    manifest["sequence"] = found.names
    return manifest, (f"Grouped by sequence: {found.describe()}; each stays in one split, so "
                      "val and test score clips that train never saw (column 'sequence'). "
                      "--no-sequences splits frames freely (optimistic val).")


def grouping_distance(dataset: Dataset, manifest: pd.DataFrame, config: SplitConfig) -> int:
    """The pHash distance that made the groups: dup_group may come from `curate outliers`."""
    distance = config.near_duplicate_distance
    if "dup_group" in manifest.columns:
        for step in dataset.history:
            if step.get("command") in ("outliers", "run"):
                found = (step.get("options") or {}).get("near_duplicate_distance")
                if isinstance(found, int):
                    distance = max(distance, min(found, MAX_DISTANCE))
    return distance
