"""region_fixes.csv of the review page: on a label issue's disputed regions a person accepted
the model's class (accept) or kept the mask (keep). A pair's corrected mask is its mask as
read, in labels of the dataset, with every accepted region's pixels set to the region's
predicted_label; keep rows change nothing and are only counted.

The file is self-contained: each row carries the region's box and pixels (the runs of
curate.io.region_pixels), so applying it needs the dataset and nothing of `segment crossval`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from curate.errors import InputError
from curate.io.dataset import Dataset
from curate.io.region_pixels import decode

REVIEW = "review"                          # mask_fix_tool of a mask these fixes replaced
NOTE = "model region accepted on review"
COLUMNS = ("id", "region", "decision", "predicted_label", "box", "pixels")
CHOICES = ("accept", "keep")


def is_region_fixes(path: Path) -> bool:
    """A CSV file: the only CSV --mask-fixes reads is the review page's region_fixes.csv."""
    return path.is_file() and path.suffix.lower() == ".csv"


def read_region_table(path: Path) -> pd.DataFrame:
    """The rows of region_fixes.csv, checked for its columns, choices and whole numbers."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"--mask-fixes {path} is not a readable CSV ({exc}); expected the "
                         "region_fixes.csv the review page exports; nothing was written.") from exc
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        hint = (" (decisions.csv goes to --decisions)" if "decision" in table.columns
                and "region" not in table.columns else "")
        raise InputError(f"--mask-fixes {path} lacks column(s) {', '.join(missing)}; expected "
                         f"the review page's region_fixes.csv ({', '.join(COLUMNS)}){hint}; "
                         "nothing was written.")
    for column in ("region", "predicted_label"):
        bad = ~table[column].str.fullmatch(r"\d+")
        if bad.any():
            raise InputError(f"--mask-fixes {path}: column {column} is "
                             f"{table[column][bad].iloc[0]!r} in row "
                             f"{int(np.flatnonzero(bad)[0]) + 2}; expected a whole number; "
                             "nothing was written.")
        table[column] = table[column].astype(int)
    bad = ~table["decision"].isin(CHOICES)
    if bad.any():
        raise InputError(f"--mask-fixes {path}: column decision is "
                         f"{table['decision'][bad].iloc[0]!r} in row "
                         f"{int(np.flatnonzero(bad)[0]) + 2}; expected accept or keep; nothing "
                         "was written.")
    twice = table.duplicated(["id", "region"])
    if twice.any():
        first = table[twice].iloc[0]
        raise InputError(f"--mask-fixes {path} decides region {first['region']} of "
                         f"{first['id']} twice; export the page again; nothing was written.")
    return table


def read_region_fixes(dataset: Dataset, path: Path) -> tuple[dict, dict]:
    """({pair position: corrected (H, W) labels}, {pair position: provenance}) of
    region_fixes.csv: a mask for each pair with an accepted region, its task "regions 1 3"
    (the accepted ones). InputError, nothing applied, for an id not in the dataset, a box or
    pixels outside the mask, or a predicted_label outside the classes."""
    table = read_region_table(path)
    position = {str(i): n for n, i in enumerate(dataset.ids)}
    masks, provenance, problems = {}, {}, []
    for id_, rows in table.groupby("id", sort=False):
        if id_ not in position:
            problems.append(f"id {id_!r} is not a pair of this dataset")
            continue
        mask = np.array(dataset.masks[position[id_]], copy=True)          # (H, W) labels
        accepted = []
        for row in rows.itertuples(index=False):
            where = f"{id_} region {row.region}"
            if row.predicted_label >= dataset.num_classes:
                problems.append(f"{where}: predicted_label {row.predicted_label} is outside "
                                f"the classes 0..{dataset.num_classes - 1}")
                continue
            try:
                region = decode(row.box, row.pixels, mask.shape[:2], where)
            except InputError as exc:
                problems.append(str(exc))
                continue
            if row.decision == "accept":
                mask[region] = row.predicted_label
                accepted.append(row.region)
        if accepted:
            masks[position[id_]] = mask
            provenance[position[id_]] = {"task": "regions " + " ".join(map(str, sorted(accepted))),
                                         "annotator": "", "time": ""}
    if problems:
        shown = "; ".join(p.rstrip(".") for p in problems[:5]) + (
            f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise InputError(f"{len(problems)} region(s) in {path} cannot be applied: {shown}. The "
                         "file holds labels of the dataset it was reviewed on (the curated "
                         "folder); pass that folder as DATA. Nothing was written.")
    return masks, provenance


def region_counts(path: Path) -> dict[str, int]:
    """{'accept': n, 'keep': n} rows of region_fixes.csv (for the summary line)."""
    decisions = read_region_table(path)["decision"]
    return {c: int((decisions == c).sum()) for c in CHOICES}
