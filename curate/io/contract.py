"""The dataset-folder contract in code: what `curate` writes and `segment` reads.

A curated folder holds dataset.json (DATASET_FIELDS), manifest.csv (one row per pair, the
LEADING_COLUMNS first), images/ and masks/. `segment crossval` writes label_quality.csv
(LABEL_QUALITY_COLUMNS), which `curate outliers --label-quality` reads back. Both packages
take these names from here, so a change to the contract is one edit, seen by both.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from curate.io.errors import InputError

FORMAT = "curate-dataset"
# Raised when the folder layout changes in a way an older reader would misread; a reader
# refuses a version it does not know instead of guessing.
FORMAT_VERSION = 1
KNOWN_FORMAT_VERSIONS = (1,)

# dataset.json, in the order it is written; ignore_reason (why that class is ignored) is
# written when the reader chose the class; num_classes and class_names a reader cannot do without.
DATASET_FIELDS = ("format", "format_version", "num_classes", "class_names", "ignore_index",
                  "ignore_reason", "history")
REQUIRED_DATASET_FIELDS = ("num_classes", "class_names")

# Columns every manifest starts with, in this order; the rest follow as the commands add them.
LEADING_COLUMNS = ("id", "image", "mask", "source", "split", "origin")
REQUIRED_MANIFEST_COLUMNS = ("id", "image", "mask")
# Manifest columns read as text, whatever they look like (a hex hash can be all digits).
TEXT_COLUMNS = ("id", "image", "mask", "source", "split", "origin", "phash", "image_sha1",
                "mask_sha1", "pair_sha1", "dup_group", "flags", "reason", "parent_ids", "recipe",
                "source_split", "source_group")

SPLITS = ("train", "val", "test")   # the split names a manifest's `split` column holds

# The file types an images/ + masks/ folder (or a folder of images to predict on) may hold.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")

# label_quality.csv of `segment crossval`: one row per train pair, these columns in order.
LABEL_QUALITY_FIGURES = ("labelled_pixels", "low_share", "given_class", "predicted_class",
                         "pair_share", "pair_confidence", "mean_disagreement", "softmin")
LABEL_QUALITY_IMAGE = ("island_contrast", "island_texture", "island_edge", "island_likeness")
LABEL_QUALITY_EDGES = ("edge_align", "edge_shift")
LABEL_QUALITY_EVIDENCE = ("region_gain", "island_gain", "island_share", "island_touch",
                          "enclosed_gain", "boundary_gain", "shift_gain", *LABEL_QUALITY_IMAGE,
                          *LABEL_QUALITY_EDGES)
# Where in the mask the model disputes the labels: the bounding box "row0 col0 row1 col1"
# (half-open) of the disagreeing island the model is surest of, the class the mask gives it,
# the class the model says, its pixel count (optional for curate: older tables lack them).
LABEL_QUALITY_DISPUTE = ("dispute_box", "dispute_given", "dispute_predicted", "dispute_pixels")
LABEL_QUALITY_COLUMNS = ("id", "row", "fold", *LABEL_QUALITY_FIGURES, *LABEL_QUALITY_EVIDENCE,
                         *LABEL_QUALITY_DISPUTE, "edit_probability", "region_probability",
                         "score")
# What `curate outliers` needs of it, and the columns read as text.
LABEL_QUALITY_REQUIRED = ("id", "row", "low_share", "given_class", "predicted_class",
                          "pair_share", "pair_confidence", "score")
LABEL_QUALITY_TEXT = ("id", "given_class", "predicted_class", "dispute_box", "dispute_given",
                      "dispute_predicted")

# label_regions.csv of `segment crossval`, beside label_quality.csv: one row per region where
# the model's out-of-fold argmax disputes the mask, best first within each pair. kind is
# "disputed" (the mask gives the region another class) or "unlabelled" (the mask gives it the
# ignore class); box "row0 col0 row1 col1" (half-open); predicted_label the class index the
# model says; probability the region classifier's calibrated probability that the mask is
# wrong there; pixels the region inside its box as runs "start length start length ..."
# (0-based starts over the box's pixels in row-major order: curate.io.region_pixels).
# Further columns (the region's features) may follow.
REGION_KINDS = ("disputed", "unlabelled")
LABEL_REGIONS_COLUMNS = ("id", "region", "kind", "box", "area", "given_class",
                         "predicted_class", "predicted_label", "probability", "pixels")
LABEL_REGIONS_TEXT = ("id", "kind", "box", "given_class", "predicted_class", "pixels")


def order_columns(manifest: pd.DataFrame) -> pd.DataFrame:
    """Leading contract columns first, the rest in their existing order."""
    leading = [c for c in LEADING_COLUMNS if c in manifest.columns]
    return manifest[leading + [c for c in manifest.columns if c not in leading]]


def check_format_version(meta: dict, path: Path | str) -> None:
    """Refuse a dataset.json whose format_version this code does not know (a folder written by
    a newer curate); a folder without the field (written by hand) is read as version 1."""
    version = meta.get("format_version", FORMAT_VERSION)
    if version not in KNOWN_FORMAT_VERSIONS:
        known = ", ".join(map(str, KNOWN_FORMAT_VERSIONS))
        raise InputError(
            f"{path} has format_version {version!r}, which this version of the toolkit cannot "
            f"read (it reads format_version {known}); upgrade curate and segment, or "
            "re-curate the raw data with this version"
        )


def read_meta(path: Path) -> dict:
    """dataset.json of a curated folder, checked for the fields the contract requires."""
    try:
        meta = json.loads((path / "dataset.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}/dataset.json cannot be read as JSON ({exc}).") from exc
    missing = [k for k in REQUIRED_DATASET_FIELDS if k not in meta]
    if missing:
        raise InputError(f"{path}/dataset.json lacks {missing}; was it written by curate?")
    check_format_version(meta, path / "dataset.json")
    return meta


def read_manifest(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """manifest.csv of a curated folder, with ids as strings and empty splits as ''.

    `columns`: read only those of them the file has (a large manifest's embedding column is
    most of its bytes); the required columns are checked either way."""
    usecols = None if columns is None else (
        lambda c: c in set(columns) | set(REQUIRED_MANIFEST_COLUMNS))
    try:
        manifest = pd.read_csv(path / "manifest.csv", dtype=dict.fromkeys(TEXT_COLUMNS, str),
                               keep_default_na=False, na_values=[""], usecols=usecols)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}/manifest.csv cannot be read ({exc}).") from exc
    missing = [c for c in REQUIRED_MANIFEST_COLUMNS if c not in manifest.columns]
    if missing:
        raise InputError(f"{path}/manifest.csv lacks the columns {missing}.")
    for column in TEXT_COLUMNS:
        if column in manifest.columns:
            manifest[column] = manifest[column].fillna("")
    return manifest
