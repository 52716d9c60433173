"""label_regions.csv of `segment crossval`, beside label_quality.csv: every region of a pair
where the model disputes the mask, best first (columns: curate.io.contract). The review page
outlines them on a label issue's pictures, and a person accepts the model's class there or
keeps the mask, region by region (curate.data.region_fixes applies the choices).

A run without the file (an older `segment crossval`) has no regions: the page then shows the
single dispute box of label_quality.csv, as before.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from curate.errors import InputError
from curate.io.contract import LABEL_REGIONS_COLUMNS, REGION_KINDS
from curate.io.region_pixels import parse_box

FILE = "label_regions.csv"


def regions_path(label_quality: str | Path) -> Path:
    """Where label_regions.csv lies for a label_quality.csv: beside it."""
    return Path(label_quality).with_name(FILE)


def read_label_regions(label_quality: str | Path) -> pd.DataFrame:
    """The regions beside `label_quality` (an empty table when there is no such file),
    checked column by column; InputError names the file, the column and the first bad row."""
    path = regions_path(label_quality)
    if not path.is_file():
        return pd.DataFrame(columns=list(LABEL_REGIONS_COLUMNS))
    try:
        # every column as text, so that a refusal quotes the file's own words
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not a readable CSV: {exc}") from exc
    missing = [c for c in LABEL_REGIONS_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"{path} lacks column(s) {', '.join(missing)}; expected the "
                         f"{FILE} written by `segment crossval` (columns "
                         f"{', '.join(LABEL_REGIONS_COLUMNS)})")
    for column in ("region", "area", "predicted_label"):
        table[column] = _whole(table[column], path, column)
    table["probability"] = _probability(table["probability"], path)
    bad = ~table["kind"].isin(REGION_KINDS)
    if bad.any():
        raise InputError(f"{path}: column kind is {table['kind'][bad].iloc[0]!r} in row "
                         f"{int(np.flatnonzero(bad)[0]) + 2}; expected one of "
                         f"{', '.join(REGION_KINDS)}")
    for n, box in enumerate(table["box"]):
        parse_box(box, f"{path}: column box, row {n + 2}")
    return table


def _whole(values: pd.Series, path: Path, column: str) -> pd.Series:
    """`values` as int, each at least 0 (region at least 1); InputError naming the row."""
    numbers = pd.to_numeric(values, errors="coerce")
    least = 1 if column == "region" else 0
    bad = numbers.isna() | (numbers != numbers.round()) | (numbers < least)
    if bad.any():
        raise InputError(f"{path}: column {column} is {values[bad].iloc[0]!r} in row "
                         f"{int(np.flatnonzero(bad)[0]) + 2}; expected a whole number of at "
                         f"least {least}")
    return numbers.astype(int)


def _probability(values: pd.Series, path: Path) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() | (numbers < 0) | (numbers > 1)
    if bad.any():
        raise InputError(f"{path}: column probability is {values[bad].iloc[0]!r} in row "
                         f"{int(np.flatnonzero(bad)[0]) + 2}; expected a number from 0 to 1")
    return numbers.astype(float)


def regions_by_pair(label_quality: str | Path, ids: list[str]) -> dict[str, list[dict]]:
    """{id: [{"region", "kind", "box": (row0, col0, row1, col1), "box_text", "area",
    "given", "predicted", "predicted_label", "probability", "pixels"}]} of the given ids,
    regions in their number's order ({} without label_regions.csv)."""
    table = read_label_regions(label_quality)
    table = table[table["id"].isin(set(ids))].sort_values(["id", "region"], kind="stable")
    out: dict[str, list[dict]] = {}
    for row in table.itertuples(index=False):
        out.setdefault(row.id, []).append({
            "region": int(row.region), "kind": row.kind, "box": parse_box(row.box),
            "box_text": row.box, "area": int(row.area), "given": row.given_class,
            "predicted": row.predicted_class, "predicted_label": int(row.predicted_label),
            "probability": float(row.probability), "pixels": row.pixels})
    return out


def region_caption(region: dict) -> str:
    """'region 2: given sand, model says big rock, 87 px, p 0.81' ('unlabelled, model says
    ...' for a region the mask gives the ignore class)."""
    given = "unlabelled" if region["kind"] == "unlabelled" else f"given {region['given']}"
    return (f"region {region['region']}: {given}, model says {region['predicted']}, "
            f"{region['area']} px, p {region['probability']:.2f}")
