"""`curate run`: outliers -> split -> augment (optional) in memory, written once at the end."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from curate.augment import AugmentConfig, augment
from curate.augment.plan import TargetMet
from curate.io.dataset import Dataset
from curate.errors import InputError
from curate.data.manifest import with_manifest
from curate.checks.outliers import OutlierConfig, remove_outliers
from curate.ui.plots import bar_chart
from curate.split.stratify import SplitConfig, split_dataset
from curate.stats.distribution import class_stats
from curate.step import StepResult, recorded
from curate.data.writers import write_dataset


@dataclass
class PipelineConfig:
    """One config per step; `augment` is None when no class is to be grown."""

    outliers: OutlierConfig = field(default_factory=OutlierConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    augment: AugmentConfig | None = None


def run_pipeline(dataset: Dataset, config: PipelineConfig) -> StepResult:
    """Remove outliers, split, and grow the rare class; nothing is written here.

    The result's `steps` holds each step's result by name ('outliers': every input pair with
    its flags; 'clean', 'split', 'augment'); its reports are all of theirs plus
    the before/after share charts.
    """
    dataset = with_manifest(dataset)
    found, kept = remove_outliers(dataset, config.outliers)
    split = _split(kept.dataset, config.split, len(dataset))
    steps = {"outliers": found, "clean": kept, "split": split}
    final = split
    if config.augment is not None:
        final = steps["augment"] = _augment(split.dataset, config.augment)
    reports = {name: content for step in steps.values() for name, content in
               step.reports.items()}
    reports.update(_share_charts(dataset, final.dataset))
    summary = {name: step.summary for name, step in steps.items() if name != "outliers"}
    return StepResult(final.dataset, summary, reports, steps=steps)


def _augment(dataset: Dataset, config: AugmentConfig) -> StepResult:
    """Grow the class; when it already reaches the share asked for, keep the split dataset
    as it is and record why (a run on data where every class is common still writes)."""
    try:
        return augment(dataset, config)
    except TargetMet as exc:
        reason = (f"{exc} ".replace(" Give a higher target or --count.", "")
                  + f"Augmentation was skipped; --count N adds N pairs of class "
                  f"{config.target_class} regardless, or give a higher share target.")
        summary = {"target_class": config.target_class, "new_pairs": 0, "skipped": reason}
        return StepResult(recorded(dataset, "augment", asdict(config), summary), summary, {})


def _split(kept: Dataset, config: SplitConfig, pairs_in: int) -> StepResult:
    try:
        return split_dataset(kept, config)
    except InputError as exc:
        if len(kept) == pairs_in:
            raise
        raise InputError(f"{exc} (The split saw {len(kept)} of the {pairs_in} input pairs: "
                         "the others were removed as outliers first.)") from None


def _share_charts(before: Dataset, after: Dataset) -> dict[str, bytes]:
    """Pixel and image share per class of the input and the curated dataset."""
    old = class_stats(before.manifest, before.class_names).per_class
    new = class_stats(after.manifest, after.class_names).per_class
    return {
        "shares_input_vs_curated.png": bar_chart(
            {"input": old["pixel_share_pct"].tolist(), "curated": new["pixel_share_pct"].tolist()},
            after.class_names, "Pixel share per class, before and after curation", "percent"),
        "images_input_vs_curated.png": bar_chart(
            {"input": old["image_share_pct"].tolist(), "curated": new["image_share_pct"].tolist()},
            after.class_names, "Images containing each class, before and after curation",
            "percent of images"),
    }


def write_result(out: Path, result: StepResult, force: bool = False, card: bool = True,
                 title: str | None = None, files=None) -> Path:
    """Write the curated dataset folder atomically, with its reports and, when `card`, its
    card.md, card.jsonld and report.html (titled `title`, default the folder's name);
    `files`: how images/ and masks/ are stored (see `write_dataset`)."""
    name = title or Path(out).name
    finalize = (lambda folder: write_card_and_report(folder, name)) if card else None
    return write_dataset(out, result.dataset, result.reports, force=force, finalize=finalize,
                         files=files)


def write_card_and_report(folder: Path, name: str) -> None:
    """Render card.md, card.jsonld and report.html inside a finished dataset folder."""
    from curate.cards import CardOptions, write_card_in_folder
    from curate.report.html import render_report

    write_card_in_folder(folder, CardOptions(title=name))
    html = render_report(folder, title=f"Curated dataset {name}")
    (folder / "report.html").write_text(html, encoding="utf-8")
