"""The per-pair manifest: build it from a scan, or take the one a curated folder carries."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from curate.io.dataset import Dataset
from curate.scan.features import scan
from curate.io.contract import order_columns


def build_manifest(dataset: Dataset, features: pd.DataFrame | None = None) -> pd.DataFrame:
    """A copy of the dataset's manifest (changing it never changes the dataset's); a fresh
    scan for a Dataset built by hand without one.

    A fresh manifest has every feature column, an empty `split` and `origin` 'original'.
    """
    if dataset.manifest is not None:
        return dataset.manifest.copy(deep=not _copy_on_write())
    table = (features if features is not None else scan(dataset)).copy()
    for name, values in dataset.columns.items():   # what the layout knows (source_split)
        table[name] = values
    table["split"] = ""
    table["origin"] = "original"
    return order_columns(table)


def _copy_on_write() -> bool:
    """True where pandas copies a column that frames share before it changes it (pandas >= 3,
    or 2.x with mode.copy_on_write on). A shallow copy of the manifest is then as safe as a
    deep one, and a step does not hold the whole table twice (at a million pairs, 180 MB)."""
    if int(pd.__version__.split(".")[0]) >= 3:
        return True
    return pd.get_option("mode.copy_on_write") is True


def with_manifest(dataset: Dataset) -> Dataset:
    """The dataset itself when it has a manifest, else a new one carrying a fresh scan."""
    if dataset.manifest is not None:
        return dataset
    return replace(dataset, manifest=build_manifest(dataset))
