"""Find outlier pairs, explain each one, and build the cleaned dataset and its reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace

import numpy as np
import pandas as pd

from curate.checks import CHECKS, DEFAULT_REMOVE, label_issue as labels, run_checks
from curate.checks.decisions import DECISION_COLUMNS, decided, decision_counts
from curate.io.dataset import Dataset
from curate.scan.features import scan
from curate.errors import ConfigError, InputError
from curate.data.manifest import build_manifest
from curate.data.mask_fixes import fixes_by_tool
from curate.scan.neighbours import MAX_DISTANCE
from curate.ui.plots import class_legend, contact_sheet, pair_tile
from curate.step import StepResult, recorded
from curate.data.writers import CSV_FLOATS, to_json


LAYOUT_COLUMNS = ["labelled_fill", "labelled_margin",   # scan columns newer than curate 0.1
                  "embedding", "blur_keep", "edge_keep"]
# Written into outliers.csv too, so that `curate review` can show a removed pair's group
REVIEW_COLUMNS = ["image_sha1", "mask_sha1", "pair_sha1", "dup_group", "odd_image_like", "mask_fix"]

def threshold(default, help: str, low=None, high=None):
    """A check threshold: its default, what it does and its bounds, in one place (the field
    of OutlierConfig); `--set` / `--config` reach it, and the reference docs list it."""
    return field(default=default, metadata={"help": help, "low": low, "high": high})


@dataclass
class OutlierConfig:
    """How the checks run: the thresholds (settings, `threshold(...)` fields) and what the
    flags choose (checks, removal, the tables a person or a model gave)."""

    near_duplicate_distance: int = 6      # pHash bits of 64; 0 finds only identical hashes
    min_shared_mask_group: int = threshold(
        5, "Images sharing one identical detailed mask before the group is judged a set of "
        "unrelated pictures.", low=2)
    simple_mask_share: float = threshold(
        0.9, "Share of the frame one class must cover (solid box, thin straight border at "
        "most) for a mask to be a whole-frame label; repeats of those are legitimate.",
        low=0.0, high=1.0)
    z_threshold: float = threshold(
        4.5, "Robust z-score beyond which brightness, entropy or blur is an outlier.", low=0.5)
    blank_std: float = threshold(
        1.0, "Images with a pixel standard deviation below this are blank.", low=0.0)
    dark_level: float = threshold(
        5.0, "Images with a mean gray level below this are dark.", low=0.0, high=255.0)
    bright_level: float = threshold(
        250.0, "Images with a mean gray level above this are bright.", low=0.0, high=255.0)
    blur_keep: float = threshold(
        0.48, "Images that keep more than this share of their fine detail when blurred again "
        "(Gaussian sigma 1) are blurry, if also far above the dataset's own share and their "
        "sharpest edges are soft too. Sharp Mars frames keep 0.02-0.4, a blur of sigma 1.5 "
        "over 0.55.", low=0.0, high=1.0)
    checks: list[str] = field(default_factory=lambda: [c for c in CHECKS if c != "label_issue"])
    remove: list[str] = field(default_factory=lambda: list(DEFAULT_REMOVE))
    ignore_index: int | None = 0          # the checks use the dataset's (see `resolved`)
    label_quality: str | None = None      # label_quality.csv of `segment crossval`
    label_issue_share: float = threshold(
        0.1, "label_issue without a learned table: labelled share where the given class has "
        "probability below 0.1.", low=0.0, high=1.0)
    label_issue_probability: float = threshold(
        0.5, "label_issue with a learned table: edit_probability flagged.", low=0.0, high=1.0)
    odd_image_z: float = threshold(
        4.5, "Robust z of the picture-statistics distance beyond which an image does not "
        "belong (odd_image).", low=0.5)
    decisions: str | None = None          # decisions.csv of `curate review`: a person's say
    mask_fixes: str | None = None         # folder of corrected masks (applied when reading)

    def __post_init__(self) -> None:
        """Raise ConfigError for unknown checks, and for label_issue without its table."""
        if not 0 <= self.near_duplicate_distance <= MAX_DISTANCE:
            raise ConfigError(f"near_duplicate_distance {self.near_duplicate_distance} is outside "
                              f"0..{MAX_DISTANCE} (bits of a 64-bit pHash)")
        for f in fields(self):
            low, high = f.metadata.get("low"), f.metadata.get("high")
            value = getattr(self, f.name)
            if (low is not None and value < low) or (high is not None and value > high):
                allowed = f"at least {low}" if high is None else f"in {low}..{high}"
                raise ConfigError(f"{f.name} must be {allowed}, got {value}")
        unknown = [c for c in self.checks + self.remove if c not in CHECKS]
        if unknown:
            raise ConfigError(f"Unknown checks {unknown}; choose from {list(CHECKS)}.")
        if "label_issue" in self.checks + self.remove and not self.label_quality:
            raise ConfigError("the label_issue check needs the table of `segment crossval`: "
                              "pass --label-quality RUN/label_quality.csv")

    @classmethod
    def with_removal(cls, remove: list[str] | None = None, keep: list[str] | None = None,
                     **fields) -> "OutlierConfig":
        """The removal rule: remove what the default checks flag plus `remove`, minus `keep`
        (each check once); the other fields as given."""
        removal = [c for c in DEFAULT_REMOVE + list(remove or []) if c not in (keep or [])]
        return cls(remove=list(dict.fromkeys(removal)), **fields)


# What each threshold does (`--set KEY=VALUE` / `--config`, the reference docs).
SETTINGS_HELP: dict[str, str] = {f.name: f.metadata["help"] for f in fields(OutlierConfig)
                                 if "help" in f.metadata}


def resolved(config: OutlierConfig, dataset: Dataset) -> OutlierConfig:
    """A new config as the checks run it: the dataset's ignore index, and label_issue among
    the checks when a label_quality table is given."""
    checks = list(config.checks)
    if config.label_quality and "label_issue" not in checks:
        checks.append("label_issue")
    return replace(config, ignore_index=dataset.ignore_index, checks=checks)


def remove_outliers(dataset: Dataset, config: OutlierConfig,
                    sheet: bool = True) -> tuple[StepResult, StepResult]:
    """The outlier step whole, as `curate outliers` and `curate run` run it: (every input pair
    with the check columns and `removed`, as `find_outliers` gives it; the kept pairs with the
    step recorded and its reports, as `clean` gives it). `sheet` draws the contact sheet
    (reports['outliers.png']). A dry run, which keeps nothing, calls `find_outliers` (and
    `outlier_sheet` for --sheet) instead."""
    config = resolved(config, dataset)
    found = _find(dataset, config)
    return found, _clean(found.dataset, config, found.summary, sheet)


def find_outliers(dataset: Dataset, config: OutlierConfig) -> StepResult:
    """Scan once, run every configured check, and decide which pairs to remove.

    The result's dataset holds every input pair; its manifest gains the check columns
    (`is_<check>`, `<check>_score`, flags, reason) and `removed`. `clean` then drops those
    pairs. Its summary counts the pairs each check flags.
    """
    return _find(dataset, resolved(config, dataset))


def _find(dataset: Dataset, config: OutlierConfig) -> StepResult:
    manifest = build_manifest(dataset)
    manifest = manifest.drop(columns=_check_columns(manifest), errors="ignore")
    manifest = _with_layout(manifest, dataset)
    checks = run_checks(manifest, config, config.checks)
    table = pd.concat([manifest.reset_index(drop=True), checks.reset_index(drop=True)], axis=1)
    table = decided(table, config.decisions)  # a person's decisions override the defaults
    return StepResult(replace(dataset, manifest=table), summary_of(table, config.checks))


def flagged(table: pd.DataFrame) -> pd.DataFrame:
    """The rows with at least one flag or a person's decision: id, source, flags, removed,
    reason, scores, then the columns `curate review` groups and shows them by."""
    person = table.get("decision_source", pd.Series("", index=table.index)) == "person"
    score_columns = [c for c in table.columns if c.endswith("_score")]
    extra = [c for c in REVIEW_COLUMNS + DECISION_COLUMNS if c in table.columns]
    # the columns first, then the rows: filtering the whole table would copy the feature
    # columns too (the embedding alone is 350 MB at a million pairs)
    columns = table[["id", "source", "flags", "removed", "reason"] + score_columns + extra]
    return columns[(table["flags"] != "") | person]


def _with_layout(manifest: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
    """The manifest with the mask-layout columns, computed here if an older curate wrote it."""
    missing = [c for c in LAYOUT_COLUMNS if c not in manifest.columns]
    if not missing or not len(manifest):
        return manifest
    manifest = manifest.copy()
    fresh = scan(dataset)
    for column in missing:
        manifest[column] = fresh[column].to_numpy()
    return manifest


def _check_columns(manifest: pd.DataFrame) -> list[str]:
    """Columns a previous outliers run wrote, so that a re-run replaces them."""
    names = [f"is_{c}" for c in CHECKS] + [f"{c}_score" for c in CHECKS]
    return [c for c in manifest.columns if c in names or c in
            ("flags", "reason", "removed", "dup_group", "odd_image_like") + tuple(DECISION_COLUMNS)]


def clean(dataset: Dataset, config: OutlierConfig, sheet_per_check: int = 6) -> StepResult:
    """Drop the pairs `find_outliers` marked removed; record the step; build its reports.

    `dataset` is the dataset `find_outliers` returned (its manifest has `removed`);
    `remove_outliers` does both in one call.
    """
    table = dataset.manifest
    if table is None or "removed" not in table.columns:
        raise InputError("clean() takes the dataset that find_outliers() returned (its "
                         "manifest has a 'removed' column); call find_outliers(dataset, "
                         "config) first and pass its .dataset, or remove_outliers(dataset, "
                         "config) for both.")
    config = resolved(config, dataset)
    return _clean(dataset, config, summary_of(table, config.checks), True, sheet_per_check)


def _clean(dataset: Dataset, config: OutlierConfig, summary: dict, sheet: bool,
           per_check: int = 6) -> StepResult:
    table = dataset.manifest
    keep = np.flatnonzero(~table["removed"].to_numpy())
    options = asdict(config)
    if not config.label_quality:  # runs without the table record what they always did
        for key in ("label_quality", "label_issue_share", "label_issue_probability"):
            options.pop(key)
    for key in ("decisions", "mask_fixes"):
        if options[key] is None:
            options.pop(key)
    kept = dataset.subset(keep)
    kept = recorded(kept, "outliers", options, summary,
                    manifest=kept.manifest.drop(columns=["removed"]))
    reports = {
        "outliers.csv": flagged(table).to_csv(index=False, float_format=CSV_FLOATS),
        "outliers.json": to_json(summary),
    }
    if sheet:
        reports["outliers.png"] = _sheet(dataset, config, summary["flagged_by_check"], per_check)
    if dataset.problems:
        reports["skipped.csv"] = pd.DataFrame(
            [(p.source, p.reason) for p in dataset.problems],
            columns=["source", "reason"]).to_csv(index=False)
    return StepResult(kept, summary, reports)


def summary_of(table: pd.DataFrame, checks: list[str]) -> dict:
    """Pairs in, removed and kept, and the pairs each check flags."""
    removed = int(table["removed"].sum())
    summary = {"pairs_in": len(table), "removed": removed, "kept": len(table) - removed,
               "flagged_by_check": {name: int(table[f"is_{name}"].sum()) for name in checks}}
    if "decision_source" in table.columns and (table["decision_source"] == "person").any():
        summary["decisions"] = decision_counts(table)
    if "mask_fix" in table.columns and (table["mask_fix"].fillna("") != "").any():
        summary["mask_fixes"] = int((table["mask_fix"].fillna("") != "").sum())
        summary["mask_fixes_by_tool"] = fixes_by_tool(table)
    return summary


def outlier_sheet(dataset: Dataset, config: OutlierConfig, per_check: int = 6) -> bytes:
    """Contact sheet of the dataset `find_outliers` returned: up to `per_check` flagged pairs
    of each check, highest score first, with their reasons (label issues also show the
    model's predicted mask, read from beside `config.label_quality`, and the region the model
    disputes boxed, where the table names it)."""
    config = resolved(config, dataset)
    return _sheet(dataset, config, summary_of(dataset.manifest, config.checks)["flagged_by_check"],
                  per_check)


def _sheet(dataset: Dataset, config: OutlierConfig, counts: dict[str, int],
           per_check: int) -> bytes:
    table, label_quality = dataset.manifest, config.label_quality
    removed = int(table["removed"].sum())
    tiles, shown = [], set()
    for name, count in counts.items():
        rows = np.flatnonzero(table[f"is_{name}"].to_numpy())
        if f"{name}_score" in table.columns:  # the strongest cases first
            rows = rows[np.argsort(-table[f"{name}_score"].to_numpy()[rows], kind="stable")]
        rows = [r for r in rows if r not in shown][:per_check]
        shown_ids = [table["id"].iat[r] for r in rows]
        predicted = (labels.predicted_masks(label_quality, shown_ids)
                     if name == "label_issue" and label_quality else None)
        regions = (labels.disputes(label_quality, shown_ids)
                   if name == "label_issue" and label_quality else {})
        for r in rows:
            shown.add(r)
            action = "REMOVED" if table["removed"].iat[r] else "kept"
            region = regions.get(table["id"].iat[r])
            where = "" if region is None else f"boxed: {labels.dispute_caption(region)}; "
            caption = f"[{name}, {action}] {table['id'].iat[r]}: {where}{table['reason'].iat[r]}"
            if name == "odd_image":  # beside its most similar typical images
                caption += " (right: most similar typical images)"
                tiles.append((_odd_image_tile(dataset, table, r), caption))
                continue
            tile = (pair_tile(dataset.images[r], dataset.masks[r], dataset.num_classes,
                              ignore_index=dataset.ignore_index)
                    if predicted is None else labels.label_tile(
                        dataset.images[r], dataset.masks[r],
                        predicted.get(table["id"].iat[r]), dataset.num_classes,
                        dataset.ignore_index, region))
            tiles.append((tile, caption))
    title = (f"curate outliers: {removed} of {len(table)} pairs removed; "
             + ", ".join(f"{k} {v}" for k, v in counts.items() if v))
    return contact_sheet(tiles, title, columns=3, legend=class_legend(dataset.class_names, dataset.ignore_index))


def _odd_image_tile(dataset: Dataset, table: pd.DataFrame, r: int):
    from curate.checks.odd_image import neighbour_tile

    position = {k: i for i, k in enumerate(table["id"])}
    like = [position[k] for k in str(table["odd_image_like"].iat[r]).split() if k in position]
    return neighbour_tile(dataset.images[r], dataset.masks[r],
                          [dataset.images[i] for i in like], dataset.num_classes,
                          dataset.ignore_index)
