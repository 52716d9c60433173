"""Leakage between splits: identical or near-duplicate images that sit in different splits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from curate.scan.neighbours import hashes_to_array, near_pairs
from curate.io.dataset import Dataset
from curate.errors import ConfigError, InputError
from curate.data.manifest import build_manifest
from curate.io.dataset import SPLITS
from curate.scan.neighbours import MAX_DISTANCE
from curate.split.stratify import with_features

LEAKAGE_COLUMNS = ["id_a", "split_a", "id_b", "split_b", "distance", "kind"]


def find_leakage(manifest: pd.DataFrame, distance: int = 6) -> pd.DataFrame:
    """Pairs of rows in different, non-empty splits whose images match.

    kind is 'exact' (same image_sha1) or 'near' (pHash within `distance` bits of 64).
    Columns: id_a, split_a, id_b, split_b, distance, kind; sorted by distance, then ids.
    """
    if not 0 <= distance <= MAX_DISTANCE:
        raise ConfigError(f"distance {distance} is outside 0..{MAX_DISTANCE} bits of 64.")
    missing = [c for c in ("id", "split", "phash", "image_sha1") if c not in manifest.columns]
    if missing:
        raise InputError(f"The manifest lacks the columns {missing} needed to find leakage.")
    split = manifest["split"].fillna("").astype(str).to_numpy()
    rows = np.flatnonzero(split != "")
    if len(rows) == 0:
        raise InputError(
            "No pair has a split, so nothing can leak. Run `curate split` first, or pass "
            "--split-file with id,split columns."
        )
    hashes = hashes_to_array(manifest["phash"].to_numpy()[rows])
    i, j, bits = near_pairs(hashes, distance)
    i, j = rows[i], rows[j]
    exact_i, exact_j = _same_value_pairs(manifest["image_sha1"].to_numpy()[rows])
    i = np.r_[i, rows[exact_i]]
    j = np.r_[j, rows[exact_j]]
    bits = np.r_[bits, np.zeros(len(exact_i), dtype=bits.dtype)]
    straddle = split[i] != split[j]
    return _leakage_table(manifest, i[straddle], j[straddle], bits[straddle])


def _same_value_pairs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All position pairs (a < b) with equal values."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, len(values)])
    a_out, b_out = [], []
    for start, size in zip(starts[sizes > 1], sizes[sizes > 1]):
        members = np.sort(order[start:start + size])
        a, b = np.triu_indices(size, k=1)
        a_out.append(members[a])
        b_out.append(members[b])
    if not a_out:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(a_out), np.concatenate(b_out)


def _leakage_table(manifest, i, j, bits) -> pd.DataFrame:
    ids = manifest["id"].astype(str).to_numpy()
    split = manifest["split"].astype(str).to_numpy()
    sha = manifest["image_sha1"].astype(str).to_numpy()
    table = pd.DataFrame({
        "id_a": ids[i], "split_a": split[i], "id_b": ids[j], "split_b": split[j],
        "distance": np.asarray(bits, dtype=np.int64),
        "kind": np.where(sha[i] == sha[j], "exact", "near"),
    }, columns=LEAKAGE_COLUMNS)
    table = table.drop_duplicates(["id_a", "id_b"])
    return table.sort_values(["distance", "id_a", "id_b"]).reset_index(drop=True)


def apply_split_file(manifest: pd.DataFrame, path: str | Path) -> pd.DataFrame:
    """The manifest with `split` taken from a CSV of id,split columns (unlisted ids: '')."""
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path} cannot be read as CSV ({exc}).") from exc
    if not {"id", "split"} <= set(table.columns):
        raise InputError(f"{path} has the columns {list(table.columns)}; expected id and split.")
    bad = sorted(set(table["split"]) - set(SPLITS) - {""})
    if bad:
        raise InputError(f"{path} holds the split names {bad[:5]}; expected {list(SPLITS)}.")
    repeated = table["id"][table["id"].duplicated()].unique().tolist()
    if repeated:
        raise InputError(f"{path} lists some ids more than once, e.g. {repeated[:5]}.")
    known = set(manifest["id"].astype(str))
    unknown = [i for i in table["id"] if i not in known]
    if unknown:
        raise InputError(
            f"{path} names {len(unknown)} ids that are not in the dataset, e.g. {unknown[:5]}; "
            "ids are the file stems (folders) or the npz 'names'."
        )
    lookup = dict(zip(table["id"], table["split"]))
    manifest = manifest.copy()
    manifest["split"] = [lookup.get(i, "") for i in manifest["id"].astype(str)]
    return manifest


def dataset_leakage(dataset: Dataset, distance: int = 6,
                    split_file: str | Path | None = None) -> pd.DataFrame:
    """find_leakage on a dataset's manifest (its own split, or one from `split_file`)."""
    manifest = build_manifest(dataset)
    if split_file is not None:
        manifest = apply_split_file(manifest, split_file)
    manifest = with_features(dataset, manifest, ["phash", "image_sha1"])
    return find_leakage(manifest, distance)
