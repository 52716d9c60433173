"""The per-pair manifest: build it from a scan, or take the one a curated folder carries."""

from __future__ import annotations

import pandas as pd

from curate import __version__
from curate.dataset import Dataset
from curate.features import scan
from curate.writers import order_columns


def build_manifest(dataset: Dataset, features: pd.DataFrame | None = None) -> pd.DataFrame:
    """The dataset's manifest: its own if it came from a curated folder, else a fresh scan.

    A fresh manifest has every feature column, an empty `split` and `origin` 'original'.
    """
    if dataset.manifest is not None:
        return dataset.manifest.copy()
    table = (features if features is not None else scan(dataset)).copy()
    table["split"] = ""
    table["origin"] = "original"
    return order_columns(table)


def record(dataset: Dataset, command: str, options: dict, summary: dict) -> None:
    """Append one step to the dataset's history (written to dataset.json and the card)."""
    dataset.history.append({
        "command": command,
        "options": {k: v for k, v in options.items()},
        "tool_version": __version__,
        "input": dataset.origin_path,
        "summary": summary,
    })
