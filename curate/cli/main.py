"""The `curate` command line: thin commands over the library, errors become exit codes.

Each command parses its options, builds the step's config, runs the step, writes, and prints
(shared options and loading in cli_common, the result tables in cli_show, the commands
that only describe a dataset in cli_inspect).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from curate.cli.common import (
    ADVANCED_PANEL, DataArg, ForceOpt, NearDistanceOpt, OutlierArgs, ReadArgs, ScaleArgs,
    SettingsArgs, load, scan_cluster, settings_epilog, show_files, stored_files, user_errors,
    with_fixes,
)
from curate.cli.export import export_command
from curate.cli.inspect import card_command, check_leakage_command, report_command, stats
from curate.cli.review import review_command
from curate.cli.show import console, print_augment, print_outliers, print_split
from curate.errors import ConfigError
from curate.ui.cli_help import HelpCommand
from curate.ui.option_groups import grouped
from curate.ui.interrupt import InterruptibleGroup
from curate.cli.renamed import RENAMED

# `curate --help` lists the commands in the order of the pipeline, then the readers' tools.
COMMAND_ORDER = ("outliers", "stats", "split", "augment", "run", "review", "card", "report",
                 "check-leakage", "export")


class CurateGroup(InterruptibleGroup):
    renamed = RENAMED   # flags of earlier releases, still taken with a note

    def list_commands(self, ctx) -> list[str]:
        names = super().list_commands(ctx)
        rank = {name: k for k, name in enumerate(COMMAND_ORDER)}
        return sorted(names, key=lambda name: rank.get(name, len(rank)))


app = typer.Typer(
    help="Curate small, messy, imbalanced segmentation datasets: outliers, stats, splits, "
    "augmentation and data cards.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=CurateGroup,  # Ctrl-C: one line on what was written, exit 130
)
# --- commands are defined below, one block each --------------------------------------------


@app.command(epilog=settings_epilog("outliers"), cls=HelpCommand)
@grouped
def outliers(
    data: DataArg,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Folder for the cleaned dataset (kept pairs, manifest, reports).")
    ] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Report what would be removed; write nothing.")] = False,
    check: Annotated[Optional[list[str]], typer.Option(
        "--check", help="Run only these checks (repeatable). Default: all.")] = None,
    sheet: Annotated[Optional[Path], typer.Option(
        help="Also write the contact sheet of flagged pairs to this PNG (works with "
        "--dry-run).")] = None,
    flagging: OutlierArgs = OutlierArgs(),
    read: ReadArgs = ReadArgs(),
    force: ForceOpt = False,
    scale: ScaleArgs = ScaleArgs(),
    knobs: SettingsArgs = SettingsArgs(),
) -> None:
    """Find outlier pairs (duplicates, shared masks, bad labels, odd pixels) and remove them.

    Removed by default: size_mismatch, bad_labels, exact_duplicate, duplicate_image,
    shared_mask, unlabelled, blank, blurry. Reported only: near_duplicate (kept and grouped
    for `curate split`), dark, bright, low_information, odd_image (pictures unlike the rest).
    """
    from curate.checks.outliers import find_outliers, outlier_sheet, remove_outliers
    from curate.cli.step_settings import step_settings
    from curate.io.outputs import guard_output, write_bytes
    from curate.data.writers import write_dataset

    with user_errors(), scan_cluster(scale.workers, scale.scheduler, scale.threads):
        if out is None and not dry_run:
            raise ConfigError("Give an output folder with -o OUT, or --dry-run to only report.")
        inputs = [data, *flagging.inputs, knobs.config_file, *read.inputs]
        if out is not None and not dry_run:
            guard_output(out, inputs, force, "folder")
        if sheet is not None:
            guard_output(sheet, inputs, force, what="contact sheet")
        thresholds = step_settings(knobs.config_file, knobs.settings, ("outliers",))["outliers"]
        config = flagging.config(thresholds, check)
        dataset = with_fixes(load(data, read), flagging.mask_fixes)
        if dry_run:  # nothing is kept, so no kept dataset is built (a copy of the table)
            found = find_outliers(dataset, config)
            picture = outlier_sheet(found.dataset, config) if sheet is not None else b""
        else:
            dataset, stored = stored_files(dataset, scale.files)
            found, result = remove_outliers(dataset, config)
            picture = result.reports["outliers.png"]
        print_outliers(found.dataset.manifest, found.summary, config.decisions, dry_run)
        if sheet is not None:
            write_bytes(sheet, picture)
            console.print(f"Contact sheet: {sheet}")
        if dry_run:
            console.print("Dry run: nothing written.")
            return
        write_dataset(out, result.dataset, result.reports, force=force, files=stored)
        show_files(stored)
        console.print(f"Wrote {out}: {result.summary['kept']} pairs kept, "
                      f"{result.summary['removed']} removed "
                      f"(reasons in {out}/reports/outliers.csv, pictures in "
                      f"{out}/reports/outliers.png).")


app.command(cls=HelpCommand)(stats)


# --- run: the whole curation in one command --------------------------------------------------

@app.command("run", epilog=settings_epilog("outliers", "split", "augment"), cls=HelpCommand)
@grouped
def run_command(
    data: DataArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the curated dataset.")],
    target_class: Annotated[Optional[int], typer.Option(
        "--class", help="Grow this class in train (skip augmentation when not given).")
    ] = None,
    count: Annotated[Optional[int], typer.Option(
        help="Augmentation target: this many new training pairs.")] = None,
    pixel_share: Annotated[Optional[float], typer.Option(
        help="Augmentation target: class K's share of training pixels, e.g. 0.01.")] = None,
    image_share: Annotated[Optional[float], typer.Option(
        help="Augmentation target: share of training pairs containing K, e.g. 0.1. "
        "Default when --class is given and no target: 0.1.")] = None,
    copy_paste_fraction: Annotated[float, typer.Option(
        rich_help_panel=ADVANCED_PANEL,
        help="Share of new pairs made by pasting K's regions into other training pairs.")
    ] = 0.5,
    ratios: Annotated[str, typer.Option(help="Train, val and test shares.")
                      ] = "0.7,0.15,0.15",
    seed: Annotated[int, typer.Option(help="Seed of the split and the augmentation.")] = 0,
    max_group_size: Annotated[Optional[float], typer.Option(
        rich_help_panel=ADVANCED_PANEL, help="Cut groups larger than N pairs (or a fraction "
        "of all pairs, below 1) into contiguous blocks in --group-column, else dataset order "
        "(video: frame order); pairs at a cut that are near duplicates across splits are left "
        "out of every split, so nothing leaks. See `curate split --help`.")] = None,
    card: Annotated[bool, typer.Option(
        help="Write card.md, card.jsonld and report.html into the output.")] = True,
    flagging: OutlierArgs = OutlierArgs(),
    read: ReadArgs = ReadArgs(),
    force: ForceOpt = False,
    scale: ScaleArgs = ScaleArgs(),
    knobs: SettingsArgs = SettingsArgs(),
) -> None:
    """Outliers, split, augmentation of --class, card and report: one command, one folder.

    The same steps as `curate outliers`, `curate split`, `curate augment`, `curate card` and
    `curate report`, with their defaults, run in memory and written once, atomically. The
    settings of each step (e.g. split.pixel_bins, augment.recipes) are reached with --set or
    a --config file with the sections [outliers], [split] and [augment].
    """
    from curate.augment import AugmentConfig
    from curate.cli.step_settings import step_settings, with_flags
    from curate.run import PipelineConfig, run_pipeline, write_result
    from curate.split.stratify import SplitConfig, parse_ratios
    from curate.io.outputs import guard_output

    with user_errors(), scan_cluster(scale.workers, scale.scheduler, scale.threads):
        chosen = step_settings(knobs.config_file, knobs.settings, ("outliers", "split", "augment"))
        augment_config = None
        grow = with_flags(chosen["augment"], {
            "count": count, "pixel_share": pixel_share, "image_share": image_share,
            "seed": seed, "copy_paste_fraction": copy_paste_fraction})
        if target_class is not None:
            augment_config = AugmentConfig.for_run(target_class=target_class, **grow)
        elif chosen["augment"]:
            raise ConfigError("Augmentation settings were given but no --class to grow; add "
                              "--class K, or drop the [augment] settings.")
        config = PipelineConfig(
            outliers=flagging.config(chosen["outliers"]),
            split=SplitConfig(**with_flags(chosen["split"], {
                "ratios": parse_ratios(ratios), "seed": seed,
                "near_duplicate_distance": flagging.near_duplicate_distance,
                "max_group_size": max_group_size})),
            augment=augment_config)
        guard_output(out, [data, *flagging.inputs, knobs.config_file, *read.inputs], force,
                     "folder")
        dataset, stored = stored_files(with_fixes(load(data, read), flagging.mask_fixes),
                                       scale.files)
        result = run_pipeline(dataset, config)
        found, split = result.steps["outliers"], result.steps["split"]
        print_outliers(found.dataset.manifest, found.summary, config.outliers.decisions)
        print_split(split.table, split.summary)
        write_result(out, result, force, card=card, files=stored)
    show_files(stored)
    grown = result.summary.get("augment")
    if grown and grown.get("skipped"):
        console.print(f"[yellow]Note:[/] {grown['skipped']}", highlight=False)
        grown = None
    console.print(f"Wrote {out}: {len(result.dataset)} pairs "
                  f"({found.summary['removed']} outliers removed"
                  + (f", {grown['new_pairs']} augmented pairs added" if grown else "") + ").")


# --- augment ---------------------------------------------------------------------------------

@app.command("augment", epilog=settings_epilog("augment"), cls=HelpCommand)
@grouped
def augment_command(
    data: DataArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the augmented dataset.")],
    target_class: Annotated[int, typer.Option(
        "--class", help="The class K to grow (a label 0..num_classes-1).")],
    count: Annotated[Optional[int], typer.Option(
        help="Target: this many new training pairs.")] = None,
    pixel_share: Annotated[Optional[float], typer.Option(
        help="Target: class K's share of all training pixels, e.g. 0.01.")] = None,
    image_share: Annotated[Optional[float], typer.Option(
        help="Target: share of training pairs containing class K, e.g. 0.1.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the plan; same seed, same bytes.")] = 0,
    copy_paste_fraction: Annotated[float, typer.Option(
        rich_help_panel=ADVANCED_PANEL, help="Share of new pairs made by pasting K's regions "
        "into other training pairs.")] = 0.5,
    recipes: Annotated[str, typer.Option(
        rich_help_panel=ADVANCED_PANEL, help="Comma-separated recipes for the other pairs: "
        "geometric, crop_k, photometric.")] = "geometric,crop_k,photometric",
    allow_unsplit: Annotated[bool, typer.Option(
        "--allow-unsplit", help="Treat an unsplit dataset as all-train (marked split=train).")
    ] = False,
    read: ReadArgs = ReadArgs(),
    force: ForceOpt = False,
    scale: ScaleArgs = ScaleArgs(),
    knobs: SettingsArgs = SettingsArgs(),
) -> None:
    """Grow class K in the training split only (val/test untouched), with recorded provenance.

    New pairs come from flips, small rotations, crops around K, image-only photometric
    changes, and copy-paste of K's regions; every label in a new mask comes from a parent
    mask. Needs a split (run `curate split` first) unless --allow-unsplit.
    """
    from curate.augment import AugmentConfig, augment
    from curate.cli.step_settings import step_settings, with_flags
    from curate.io.outputs import guard_output
    from curate.data.writers import write_dataset

    with user_errors(), scan_cluster(scale.workers, scale.scheduler, scale.threads):
        chosen = step_settings(knobs.config_file, knobs.settings, ("augment",))["augment"]
        config = AugmentConfig(target_class=target_class, **with_flags(chosen, {
            "count": count, "pixel_share": pixel_share, "image_share": image_share,
            "seed": seed, "copy_paste_fraction": copy_paste_fraction,
            "recipes": tuple(r.strip() for r in recipes.split(",") if r.strip()),
            "allow_unsplit": allow_unsplit}))
        guard_output(out, [data, knobs.config_file, *read.inputs], force, "folder")
        dataset, stored = stored_files(load(data, read), scale.files)
        result = augment(dataset, config)
        write_dataset(out, result.dataset, result.reports, force=force, files=stored)
    print_augment(result.summary, result.dataset.class_names)
    show_files(stored)
    console.print(f"Wrote {out}: {result.summary['new_pairs']} new training pairs (preview in "
                  f"{out}/reports/augment_preview.png).")


# --- split and check-leakage -----------------------------------------------------------------

@app.command("split", epilog=settings_epilog("split"), cls=HelpCommand)
@grouped
def split_command(
    data: DataArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the split dataset.")],
    ratios: Annotated[str, typer.Option(
        help="Train, val and test shares, summing to 1; 0 leaves a split empty.")
    ] = "0.7,0.15,0.15",
    seed: Annotated[int, typer.Option(help="Seed of the assignment; same seed, same split.")
                    ] = 0,
    group_column: Annotated[Optional[str], typer.Option(
        help="Manifest column whose equal values must share a split, e.g. site or sol.")
    ] = None,
    near_duplicate_distance: NearDistanceOpt = 6,
    pixel_bins: Annotated[int, typer.Option(
        min=1, rich_help_panel=ADVANCED_PANEL, help="Pixel-count bins per class to balance "
        "pixel shares too; 1 balances only images containing each class.")] = 6,
    max_group_size: Annotated[Optional[float], typer.Option(
        help="Cut groups larger than N pairs (or a fraction of all pairs, below 1) into "
        "contiguous blocks in --group-column, else dataset order (video: frame order); pairs "
        "at a cut that are near duplicates across splits are left out of every split, so "
        "nothing leaks. For sequences where one group would fill a split.",
        rich_help_panel=ADVANCED_PANEL)] = None,
    sequences: Annotated[bool, typer.Option(
        "--sequences/--no-sequences", rich_help_panel=ADVANCED_PANEL, help="When file names "
        "carry a video clip and a frame number (0001TP_006690, seq05VD_f00120, Seq01_000123), "
        "keep each clip in one split; announced when it applies. --no-sequences splits frames "
        "freely (val then shares clips with train and scores optimistically).")] = True,
    keep_source_split: Annotated[bool, typer.Option(
        "--keep-source-split", help="Keep the split each pair came with (VOC's ImageSets "
        "lists, Cityscapes' and CamVid's split folders, Hugging Face train-/validation-/test- "
        "files); pairs without one are split by --ratios among themselves.")] = False,
    read: ReadArgs = ReadArgs(),
    force: ForceOpt = False,
    scale: ScaleArgs = ScaleArgs(),
    knobs: SettingsArgs = SettingsArgs(),
) -> None:
    """Stratified train/val/test split that keeps near-duplicate groups in one split.

    Every class, the rare one above all, lands in every split in proportion (images
    containing it and pixel share); groups (near duplicates, identical images, equal
    --group-column values) never straddle splits. The split is written into manifest.csv.

    When groups are too large for the ratios (video frames), a split that would be empty
    stops the command with the group sizes, and one far off its ratio prints a warning;
    --max-group-size cuts large groups into blocks without leakage.
    """
    from curate.cli.step_settings import step_settings, with_flags
    from curate.split.stratify import SplitConfig, parse_ratios, split_dataset
    from curate.io.outputs import guard_output
    from curate.data.writers import write_dataset

    with user_errors(), scan_cluster(scale.workers, scale.scheduler, scale.threads):
        chosen = step_settings(knobs.config_file, knobs.settings, ("split",))["split"]
        config = SplitConfig(**with_flags(chosen, {
            "ratios": parse_ratios(ratios), "seed": seed, "group_column": group_column,
            "near_duplicate_distance": near_duplicate_distance, "pixel_bins": pixel_bins,
            "max_group_size": max_group_size, "sequences": sequences,
            "keep_source_split": keep_source_split}))
        guard_output(out, [data, knobs.config_file, *read.inputs], force, "folder")
        dataset, stored = stored_files(load(data, read), scale.files)
        result = split_dataset(dataset, config)
        write_dataset(out, result.dataset, result.reports, force=force, files=stored)
    print_split(result.table, result.summary)
    show_files(stored)
    console.print(f"Wrote {out}: split in manifest.csv, table in "
                  f"{out}/reports/split_report.csv.")


app.command("check-leakage", cls=HelpCommand)(check_leakage_command)


# --- card and report -------------------------------------------------------------------------

app.command("card", cls=HelpCommand)(card_command)
app.command("review", cls=HelpCommand)(review_command)
app.command("report", cls=HelpCommand)(report_command)
app.command("export", cls=HelpCommand)(export_command)
