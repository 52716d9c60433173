"""`curate run`: outliers -> split -> augment (optional) in memory, written once at the end."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from curate.augment import AugmentConfig, augment
from curate.dataset import Dataset
from curate.errors import InputError
from curate.manifest import build_manifest
from curate.outliers import OutlierConfig, OutlierResult, clean, find_outliers
from curate.split import SplitConfig, split_dataset, split_figure
from curate.stats import class_stats
from curate.plots import bar_chart
from curate.writers import write_dataset


@dataclass
class PipelineConfig:
    """One config per step; `augment` is None when no class is to be grown."""

    outliers: OutlierConfig = field(default_factory=OutlierConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    augment: AugmentConfig | None = None


@dataclass
class PipelineResult:
    dataset: Dataset
    manifest: pd.DataFrame
    reports: dict[str, bytes | str]
    outliers: OutlierResult
    split_report: pd.DataFrame
    split_summary: dict
    augment_summary: dict | None


def run_pipeline(dataset: Dataset, config: PipelineConfig) -> PipelineResult:
    """Remove outliers, split, and grow the rare class; nothing is written here."""
    raw = build_manifest(dataset)
    before = class_stats(raw, dataset.class_names)
    found = find_outliers(dataset, config.outliers, manifest=raw)
    kept, manifest, reports = clean(dataset, found, config.outliers)
    kept.manifest = manifest
    try:
        split_manifest, split_report = split_dataset(kept, config.split)
    except InputError as exc:
        if len(kept) == len(dataset):
            raise
        raise InputError(f"{exc} (The split saw {len(kept)} of the {len(dataset)} input pairs: "
                         "the others were removed as outliers first.)") from None
    kept.manifest = split_manifest
    split_summary = kept.history[-1]["summary"]
    reports["split_report.csv"] = split_report.to_csv(index=False)
    reports["split.png"] = split_figure(split_report)
    augment_summary = None
    final, final_manifest = kept, split_manifest
    if config.augment is not None:
        grown = augment(kept, config.augment)
        final, final_manifest = grown.dataset, grown.manifest
        reports.update(grown.reports)
        augment_summary = grown.summary
    after = class_stats(final_manifest, final.class_names)
    reports["shares_input_vs_curated.png"] = bar_chart(
        {"input": before.per_class["pixel_share_pct"].tolist(),
         "curated": after.per_class["pixel_share_pct"].tolist()},
        final.class_names, "Pixel share per class, before and after curation", "percent")
    reports["images_input_vs_curated.png"] = bar_chart(
        {"input": before.per_class["image_share_pct"].tolist(),
         "curated": after.per_class["image_share_pct"].tolist()},
        final.class_names, "Images containing each class, before and after curation",
        "percent of images")
    return PipelineResult(final, final_manifest, reports, found, split_report, split_summary,
                          augment_summary)


def write_result(out: Path, result: PipelineResult, force: bool,
                 finalize: Callable[[Path], None] | None = None) -> Path:
    """Write the curated dataset folder atomically (reports and any card included)."""
    return write_dataset(out, result.dataset, result.manifest, result.reports, force=force,
                         finalize=finalize)

