"""The `curate` command line: thin commands over the library, errors become exit codes."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated, Iterator, Optional

import typer
from rich.console import Console

from curate.errors import ConfigError, CurateError, OutputExistsError
from curate.interrupt import InterruptibleGroup
from curate.readers import ReadOptions, parse_label_map

app = typer.Typer(
    help="Curate small, messy, imbalanced segmentation datasets: outliers, stats, splits, "
    "augmentation and data cards.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=InterruptibleGroup,  # Ctrl-C: one line on what was written, exit 130
)
console = Console()
err_console = Console(stderr=True)

# Options shared by every command that reads a raw dataset.
DataArg = Annotated[Path, typer.Argument(
    help="An .npz (AN2DL layout), a folder with images/ and masks/, or a curated folder.")]
NumClassesOpt = Annotated[Optional[int], typer.Option(
    "--num-classes", min=1, max=256,
    help="Number of classes (labels 0..K-1). Default: from dataset.json, else the largest "
    "label + 1; masks that look like raw labels (e.g. 0..3 and 255) are then refused with a "
    "suggested --label-map.")]
ClassNamesOpt = Annotated[Optional[str], typer.Option(
    "--class-names", help="Comma-separated names, background first. Default: AI4Mars names "
    "for 5 classes, else 'class k'.")]
LabelMapOpt = Annotated[Optional[str], typer.Option(
    "--label-map", help="Map raw mask values to labels, RAW:LABEL,... e.g. "
    "'0:1,1:2,2:3,3:4,255:0' (raw AI4Mars: 'no label' 255 to background 0, the four terrain "
    "classes to 1..4) or '0:0,255:1' (ISBI). Raw values left out keep their value; a map that "
    "would merge one of them with a mapped value is refused (list both to merge on purpose). "
    "Masks of only 0/255 are mapped 255->1 by default.")]
IgnoreOpt = Annotated[Optional[int], typer.Option(
    "--ignore-index", help="Class left out of metrics and 'nothing labelled' checks; -1 for "
    "none. Default: 0, or none for binary 0/255 masks.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace an existing output.")]
WorkersOpt = Annotated[int, typer.Option(
    "--workers", min=0, help="Scan the pixels on a local Dask cluster of N worker processes "
    "(0: in this process).")]
SchedulerOpt = Annotated[Optional[str], typer.Option(
    "--scheduler", help="Scan the pixels on an existing Dask cluster, e.g. "
    "tcp://10.0.0.5:8786 (workers need this package installed and, for image folders, "
    "nothing else: pixels are sent to them).")]


def read_options(num_classes: int | None, class_names: str | None, label_map: str | None,
                 ignore_index: int | None) -> ReadOptions:
    """ReadOptions from the shared CLI options."""
    names = [n.strip() for n in class_names.split(",")] if class_names else None
    return ReadOptions(
        num_classes=num_classes,
        class_names=names,
        label_map=parse_label_map(label_map),
        ignore_index="auto" if ignore_index is None else (
            None if ignore_index < 0 else ignore_index),
    )


@contextlib.contextmanager
def scan_cluster(workers: int, scheduler: str | None) -> Iterator[None]:
    """Run the pixel scans inside on Dask when --workers or --scheduler asks for it."""
    from curate.cluster import ClusterOptions, connect, describe

    with connect(ClusterOptions(scheduler=scheduler, workers=workers)) as client:
        if client is not None:
            err_console.print(f"Scanning on {describe(client)}.", highlight=False)
        yield


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn library errors into 'Error: ...' on stderr and exit code 1."""
    try:
        yield
    except CurateError as exc:
        err_console.print(f"[bold red]Error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=1) from None


def load(data: Path, num_classes: int | None, class_names: str | None, label_map: str | None,
         ignore_index: int | None):
    """Read DATA with the shared read options and print what the reader noted or skipped."""
    from curate.readers import load_dataset

    dataset = load_dataset(data, read_options(num_classes, class_names, label_map, ignore_index))
    show_notes(dataset)
    return dataset


def show_notes(dataset) -> None:
    """Print what the reader inferred and which files it could not use."""
    for note in dataset.notes:
        console.print(f"[yellow]Note:[/] {note}", highlight=False)
    for problem in dataset.problems[:20]:
        err_console.print(f"[yellow]Skipped[/] {problem.source}: {problem.reason}",
                          highlight=False, soft_wrap=True)
    if len(dataset.problems) > 20:
        err_console.print(f"... and {len(dataset.problems) - 20} more skipped files.")


# --- commands are defined below, one block each --------------------------------------------


@app.command()
def outliers(
    data: DataArg,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Folder for the cleaned dataset (kept pairs, manifest, reports).")
    ] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Report what would be removed; write nothing.")] = False,
    near_duplicate_distance: Annotated[int, typer.Option(
        min=0, max=16, help="Largest pHash Hamming distance (of 64 bits) for near "
        "duplicates.")] = 6,
    remove: Annotated[Optional[list[str]], typer.Option(
        "--remove", help="Also remove the pairs this check flags (repeatable), e.g. "
        "--remove near_duplicate --remove dark.")] = None,
    keep: Annotated[Optional[list[str]], typer.Option(
        "--keep", help="Only report, never remove, what this check flags (repeatable), "
        "e.g. --keep unlabelled.")] = None,
    min_shared_mask_group: Annotated[int, typer.Option(
        min=2, help="Images sharing one identical detailed mask before the group is judged "
        "a set of unrelated pictures.")] = 5,
    simple_mask_share: Annotated[float, typer.Option(
        min=0.0, max=1.0, help="Share of the whole frame one class must cover (with a solid "
        "labelled box and at most a thin straight border) for a mask to be a whole-frame "
        "label; repeats of those are legitimate.")] = 0.9,
    z_threshold: Annotated[float, typer.Option(
        min=0.5, help="Robust z-score beyond which brightness, entropy or sharpness is an "
        "outlier.")] = 4.5,
    blank_std: Annotated[float, typer.Option(
        min=0.0, help="Images with a pixel standard deviation below this are blank.")] = 1.0,
    dark_level: Annotated[float, typer.Option(
        min=0.0, max=255.0, help="Images with a mean gray level below this are dark, "
        "whatever the rest of the dataset looks like.")] = 5.0,
    bright_level: Annotated[float, typer.Option(
        min=0.0, max=255.0, help="Images with a mean gray level above this are bright.")
    ] = 250.0,
    odd_image_z: Annotated[float, typer.Option(
        min=0.5, help="Robust z of the picture-statistics distance beyond which an image "
        "does not belong (odd_image, review only unless --remove odd_image).")] = 4.5,
    check: Annotated[Optional[list[str]], typer.Option(
        "--check", help="Run only these checks (repeatable). Default: all.")] = None,
    sheet: Annotated[Optional[Path], typer.Option(
        help="Also write the contact sheet of flagged pairs to this PNG (works with "
        "--dry-run).")] = None,
    label_quality: Annotated[Optional[Path], typer.Option(
        "--label-quality", help="label_quality.csv of `segment crossval`: flag label_issue "
        "(review only unless --remove label_issue).")] = None,
    num_classes: NumClassesOpt = None,
    class_names: ClassNamesOpt = None,
    label_map: LabelMapOpt = None,
    ignore_index: IgnoreOpt = None,
    force: ForceOpt = False,
    workers: WorkersOpt = 0,
    scheduler: SchedulerOpt = None,
) -> None:
    """Find outlier pairs (duplicates, shared masks, bad labels, odd pixels) and remove them.

    Removed by default: size_mismatch, bad_labels, exact_duplicate, duplicate_image,
    shared_mask, unlabelled, blank, blurry. Reported only: near_duplicate (kept and grouped
    for `curate split`), dark, bright, low_information, odd_image (pictures unlike the rest).
    """
    from curate.checks import DEFAULT_REMOVE
    from curate.outliers import OutlierConfig, clean, find_outliers, outlier_sheet
    from curate.writers import check_output, write_dataset, write_file_atomic

    with user_errors(), scan_cluster(workers, scheduler):
        if out is None and not dry_run:
            raise ConfigError("Give an output folder with -o OUT, or --dry-run to only report.")
        if out is not None and not dry_run:
            check_output(out, force, [data] + ([label_quality] if label_quality else []))
        removal = [c for c in DEFAULT_REMOVE + list(remove or []) if c not in (keep or [])]
        config = OutlierConfig(
            near_duplicate_distance=near_duplicate_distance,
            remove=list(dict.fromkeys(removal)),
            min_shared_mask_group=min_shared_mask_group, simple_mask_share=simple_mask_share,
            z_threshold=z_threshold, blank_std=blank_std, dark_level=dark_level,
            bright_level=bright_level, odd_image_z=odd_image_z,
            **({"checks": list(check)} if check else {}),
            label_quality=None if label_quality is None else str(label_quality))
        dataset = load(data, num_classes, class_names, label_map, ignore_index)
        result = find_outliers(dataset, config)
        _print_outliers(result)
        if dry_run:
            if sheet is not None:
                picture = outlier_sheet(dataset, result, label_quality=config.label_quality)
                write_file_atomic(sheet, lambda p: p.write_bytes(picture), force=True)
                console.print(f"Contact sheet: {sheet}")
            console.print("Dry run: nothing written.")
            return
        kept, manifest, reports = clean(dataset, result, config)  # draws the contact sheet
        if sheet is not None:
            write_file_atomic(sheet, lambda p: p.write_bytes(reports["outliers.png"]),
                              force=True)
            console.print(f"Contact sheet: {sheet}")
        write_dataset(out, kept, manifest, reports, force=force)
        console.print(f"Wrote {out}: {result.kept} pairs kept, {result.removed} removed "
                      f"(reasons in {out}/reports/outliers.csv, pictures in "
                      f"{out}/reports/outliers.png).")


def _print_outliers(result) -> None:
    from rich.table import Table

    table = Table(title=f"Outliers in {len(result.table)} pairs")
    table.add_column("check")
    table.add_column("flagged", justify="right")
    table.add_column("removed (by any check)", justify="right")
    for name, count in result.counts.items():
        removed = int((result.table[f"is_{name}"] & result.table["removed"]).sum())
        table.add_row(name, str(count), str(removed))
    table.add_row("[bold]total", str(int((result.table["flags"] != "").sum())),
                  f"[bold]{result.removed}")
    console.print(table)
    flagged = result.flagged()
    for row in flagged.head(15).itertuples(index=False):
        mark = "[red]removed[/]" if row.removed else "[yellow]kept[/]"
        console.print(f"  {mark} {row.id}: {row.reason}", highlight=False, soft_wrap=True)
    if len(flagged) > 15:
        console.print(f"  ... and {len(flagged) - 15} more (see reports/outliers.csv)")


@app.command()
def stats(
    data: DataArg,
    split: Annotated[Optional[str], typer.Option(
        help="Only this split (train, val or test) of a split dataset.")] = None,
    csv: Annotated[Optional[Path], typer.Option(
        help="Write the per-class table to this CSV (per-image table beside it).")] = None,
    json_path: Annotated[Optional[Path], typer.Option(
        "--json", help="Write per-class stats and co-occurrence to this JSON file.")] = None,
    png: Annotated[Optional[Path], typer.Option(
        help="Write a bar chart of pixel and image share per class to this PNG.")] = None,
    num_classes: NumClassesOpt = None,
    class_names: ClassNamesOpt = None,
    label_map: LabelMapOpt = None,
    ignore_index: IgnoreOpt = None,
    force: ForceOpt = False,
) -> None:
    """Class distribution: pixel share, images containing each class, co-occurrence."""
    from curate.manifest import build_manifest
    from curate.readers import read_manifest, read_meta
    from curate.stats import class_stats, stats_chart
    from curate.writers import to_json, write_file_atomic, write_text_atomic

    with user_errors():
        for path in (csv, json_path, png):
            if path is not None and path.exists() and not force:
                raise OutputExistsError(f"{path} already exists; pass --force to replace it.")
        if (data / "dataset.json").is_file():
            # A curated folder's manifest already counts every class: no pixel to decode.
            manifest, names = read_manifest(data), read_meta(data)["class_names"]
        else:
            dataset = load(data, num_classes, class_names, label_map, ignore_index)
            manifest, names = build_manifest(dataset), dataset.class_names
        if split:
            if "split" not in manifest or not (manifest["split"] == split).any():
                raise ConfigError(f"No pairs in split {split!r}; splits present: "
                                  f"{sorted(set(manifest.get('split', [])) - {''})}.")
            manifest = manifest[manifest["split"] == split]
        result = class_stats(manifest, names)
        _print_stats(result, f"{data}" + (f" [{split}]" if split else ""))
        if csv is not None:
            write_text_atomic(csv, result.per_class.to_csv(index=False))
            per_image = csv.with_name(csv.stem + "_per_image.csv")
            write_text_atomic(per_image, result.per_image.to_csv(index=False))
            console.print(f"Wrote {csv} and {per_image}")
        if json_path is not None:
            write_text_atomic(json_path, to_json(result.to_dict()))
            console.print(f"Wrote {json_path}")
        if png is not None:
            chart = stats_chart(result, f"Class distribution of {data.name}")
            write_file_atomic(png, lambda p: p.write_bytes(chart))
            console.print(f"Wrote {png}")


def _print_stats(result, title: str) -> None:
    from rich.markup import escape
    from rich.table import Table

    from curate.stats import shown_classes, shown_cooccurrence

    table = Table(title=escape(f"Classes in {title} ({len(result.per_image)} images)"))
    for column in ("class", "name", "pixel share %", "images", "image share %"):
        table.add_column(column, justify="left" if column == "name" else "right")
    rows, rows_note = shown_classes(result)
    for row in rows.itertuples(index=False):
        table.add_row(str(row[0]), row.name, f"{row.pixel_share_pct:.2f}", str(row.images),
                      f"{row.image_share_pct:.2f}")
    console.print(table)
    cooccurrence, co_note = shown_cooccurrence(result)
    co = Table(title="Co-occurrence (images containing both classes)")
    co.add_column("")
    for name in cooccurrence.columns:
        co.add_column(name, justify="right")
    for name, row in cooccurrence.iterrows():
        co.add_row(name, *(str(int(v)) for v in row))
    console.print(co)
    for note in (rows_note, co_note):
        if note:
            console.print(f"[yellow]Note:[/] {note}", highlight=False)



# --- run: the whole curation in one command --------------------------------------------------

@app.command("run")
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
        help="Share of new pairs made by pasting K's regions into other training pairs.")
    ] = 0.5,
    ratios: Annotated[str, typer.Option(help="Train, val and test shares.")
                      ] = "0.7,0.15,0.15",
    seed: Annotated[int, typer.Option(help="Seed of the split and the augmentation.")] = 0,
    near_duplicate_distance: Annotated[int, typer.Option(
        min=0, max=16, help="Largest pHash distance (of 64) for near duplicates.")] = 6,
    max_group_size: Annotated[Optional[float], typer.Option(
        help="Cut groups larger than N pairs (or a fraction of all pairs, below 1) into "
        "contiguous blocks in --group-column, else dataset order (video: frame order); pairs "
        "at a cut that are near duplicates across splits are left out of every split, so "
        "nothing leaks. See `curate split --help`.")] = None,
    remove: Annotated[Optional[list[str]], typer.Option(
        "--remove", help="Also remove what this outlier check flags (repeatable).")] = None,
    keep: Annotated[Optional[list[str]], typer.Option(
        "--keep", help="Only report what this outlier check flags (repeatable).")] = None,
    card: Annotated[bool, typer.Option(
        help="Write card.md, card.jsonld and report.html into the output.")] = True,
    label_quality: Annotated[Optional[Path], typer.Option(
        "--label-quality", help="label_quality.csv of `segment crossval` on DATA: flag "
        "label_issue (review only unless --remove label_issue).")] = None,
    num_classes: NumClassesOpt = None,
    class_names: ClassNamesOpt = None,
    label_map: LabelMapOpt = None,
    ignore_index: IgnoreOpt = None,
    force: ForceOpt = False,
    workers: WorkersOpt = 0,
    scheduler: SchedulerOpt = None,
) -> None:
    """Outliers, split, augmentation of --class, card and report: one command, one folder.

    The same steps as `curate outliers`, `curate split`, `curate augment`, `curate card` and
    `curate report`, with their defaults, run in memory and written once, atomically.
    """
    from curate.augment import AugmentConfig
    from curate.checks import DEFAULT_REMOVE
    from curate.outliers import OutlierConfig
    from curate.pipeline import PipelineConfig, run_pipeline, write_result
    from curate.split import SplitConfig, parse_ratios
    from curate.writers import check_output

    with user_errors(), scan_cluster(workers, scheduler):
        removal = [c for c in DEFAULT_REMOVE + list(remove or []) if c not in (keep or [])]
        augment_config = None
        if target_class is not None:
            if count is None and pixel_share is None and image_share is None:
                image_share = 0.1
            augment_config = AugmentConfig(target_class=target_class, count=count,
                                           pixel_share=pixel_share, image_share=image_share,
                                           seed=seed, copy_paste_fraction=copy_paste_fraction)
            augment_config.validate()
        config = PipelineConfig(
            outliers=OutlierConfig(near_duplicate_distance=near_duplicate_distance,
                                   remove=list(dict.fromkeys(removal)),
                                   label_quality=label_quality and str(label_quality)),
            split=SplitConfig(ratios=parse_ratios(ratios), seed=seed,
                              near_duplicate_distance=near_duplicate_distance,
                              max_group_size=max_group_size),
            augment=augment_config)
        check_output(out, force, [data] + ([label_quality] if label_quality else []))
        dataset = load(data, num_classes, class_names, label_map, ignore_index)
        result = run_pipeline(dataset, config)
        _print_outliers(result.outliers)
        _print_split(result.split_report, result.split_summary)
        finalize = (lambda folder: _card_and_report(folder, out.name)) if card else None
        write_result(out, result, force, finalize=finalize)
    console.print(f"Wrote {out}: {len(result.dataset)} pairs "
                  f"({result.outliers.removed} outliers removed"
                  + (f", {result.augment_summary['new_pairs']} augmented pairs added"
                     if result.augment_summary else "") + ").")


def _card_and_report(folder: Path, name: str) -> None:
    """Render card.md, card.jsonld and report.html inside a finished dataset folder."""
    from curate.card import CardOptions, write_card_in_folder
    from curate.report import render_report

    write_card_in_folder(folder, CardOptions(title=name))
    html = render_report(folder, title=f"Curated dataset {name}")
    (folder / "report.html").write_text(html, encoding="utf-8")


# --- augment ---------------------------------------------------------------------------------

@app.command("augment")
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
        help="Share of new pairs made by pasting K's regions into other training pairs.")
    ] = 0.5,
    recipes: Annotated[str, typer.Option(
        help="Comma-separated recipes for the other pairs: geometric, crop_k, photometric.")
    ] = "geometric,crop_k,photometric",
    allow_unsplit: Annotated[bool, typer.Option(
        "--allow-unsplit", help="Treat an unsplit dataset as all-train (marked split=train).")
    ] = False,
    num_classes: NumClassesOpt = None,
    class_names: ClassNamesOpt = None,
    label_map: LabelMapOpt = None,
    ignore_index: IgnoreOpt = None,
    force: ForceOpt = False,
    workers: WorkersOpt = 0,
    scheduler: SchedulerOpt = None,
) -> None:
    """Grow class K in the training split only (val/test untouched), with recorded provenance.

    New pairs come from flips, small rotations, crops around K, image-only photometric
    changes, and copy-paste of K's regions; every label in a new mask comes from a parent
    mask. Needs a split (run `curate split` first) unless --allow-unsplit.
    """
    from curate.augment import AugmentConfig, augment
    from curate.writers import check_output, write_dataset

    with user_errors(), scan_cluster(workers, scheduler):
        config = AugmentConfig(
            target_class=target_class, count=count, pixel_share=pixel_share,
            image_share=image_share, seed=seed, copy_paste_fraction=copy_paste_fraction,
            recipes=tuple(r.strip() for r in recipes.split(",") if r.strip()),
            allow_unsplit=allow_unsplit)
        config.validate()
        check_output(out, force, [data])
        dataset = load(data, num_classes, class_names, label_map, ignore_index)
        result = augment(dataset, config)
        write_dataset(out, result.dataset, result.manifest, result.reports, force=force)
    _print_augment(result.summary, result.dataset.class_names)
    console.print(f"Wrote {out}: {result.summary['new_pairs']} new training pairs (preview in "
                  f"{out}/reports/augment_preview.png).")


def _print_augment(summary: dict, class_names: list[str]) -> None:
    from rich.table import Table

    k = summary["target_class"]
    table = Table(title=f"Train share per class, before -> after (growing class {k})")
    for column in ("class", "name", "pixel % before", "pixel % after", "images % before",
                   "images % after"):
        table.add_column(column, justify="left" if column == "name" else "right")
    before, after = summary["before"], summary["after"]
    for c, name in enumerate(class_names):
        style = "bold" if c == k else None
        table.add_row(str(c), name, *(f"{100 * s[key][c]:.2f}" for key in
                                      ("pixel_share", "image_share") for s in (before, after)),
                      style=style)
    console.print(table)
    (name, value), = summary["target"].items()
    met = "met" if summary["target_met"] else "not quite met (share targets are estimated)"
    console.print(f"Target {name}={value}: {met}; class {k} now has pixel share "
                  f"{100 * summary['reached']['pixel_share']:.2f} % and image share "
                  f"{100 * summary['reached']['image_share']:.2f} %.", highlight=False)


# --- split and check-leakage -----------------------------------------------------------------

@app.command("split")
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
    near_duplicate_distance: Annotated[int, typer.Option(
        min=0, max=20, help="Largest pHash distance (of 64 bits) that makes two pairs one "
        "group. Unused when the manifest has dup_group (from `curate outliers`).")] = 6,
    pixel_bins: Annotated[int, typer.Option(
        min=1, help="Pixel-count bins per class to balance pixel shares too; 1 balances "
        "only images containing each class.")] = 6,
    max_group_size: Annotated[Optional[float], typer.Option(
        help="Cut groups larger than N pairs (or a fraction of all pairs, below 1) into "
        "contiguous blocks in --group-column, else dataset order (video: frame order); pairs "
        "at a cut that are near duplicates across splits are left out of every split, so "
        "nothing leaks. For sequences where one group would fill a split.")] = None,
    num_classes: NumClassesOpt = None,
    class_names: ClassNamesOpt = None,
    label_map: LabelMapOpt = None,
    ignore_index: IgnoreOpt = None,
    force: ForceOpt = False,
    workers: WorkersOpt = 0,
    scheduler: SchedulerOpt = None,
) -> None:
    """Stratified train/val/test split that keeps near-duplicate groups in one split.

    Every class, the rare one above all, lands in every split in proportion (images
    containing it and pixel share); groups (near duplicates, identical images, equal
    --group-column values) never straddle splits. The split is written into manifest.csv.

    When groups are too large for the ratios (video frames), a split that would be empty
    stops the command with the group sizes, and one far off its ratio prints a warning;
    --max-group-size cuts large groups into blocks without leakage.
    """
    from curate.split import (
        SplitConfig, check_config, parse_ratios, split_dataset, split_figure,
    )
    from curate.writers import check_output, write_dataset

    with user_errors(), scan_cluster(workers, scheduler):
        config = SplitConfig(ratios=parse_ratios(ratios), seed=seed, group_column=group_column,
                             near_duplicate_distance=near_duplicate_distance,
                             pixel_bins=pixel_bins, max_group_size=max_group_size)
        check_config(config)
        check_output(out, force, [data])
        dataset = load(data, num_classes, class_names, label_map, ignore_index)
        manifest, report = split_dataset(dataset, config)
        reports = {"split_report.csv": report.to_csv(index=False),
                   "split.png": split_figure(report)}
        write_dataset(out, dataset, manifest, reports, force=force)
    _print_split(report, dataset.history[-1]["summary"])
    console.print(f"Wrote {out}: split in manifest.csv, table in "
                  f"{out}/reports/split_report.csv.")


def _print_split(report, summary: dict) -> None:
    from rich.table import Table

    table = Table(title="Class shares per split (deviation from the whole, percentage points)")
    for column in ("split", "images", "class", "with class", "image %", "Δ pp", "pixel %",
                   "Δ pp"):
        table.add_column(column, justify="left" if column in ("split", "class") else "right")
    last_class = report["class_name"].iloc[-1]
    for row in report.itertuples(index=False):
        dev = (lambda v: "" if row.split == "all" else "-" if v != v else f"{v:+.2f}")
        pct = (lambda v: "-" if v != v else f"{v:.2f}")  # an empty split has no shares
        first = row.class_name == report["class_name"].iloc[0]
        table.add_row(row.split if first else "", str(row.images) if first else "",
                      row.class_name, str(row.images_with_class),
                      pct(row.image_share_pct), dev(row.image_share_dev_pp),
                      pct(row.pixel_share_pct), dev(row.pixel_share_dev_pp),
                      end_section=row.class_name == last_class)
    console.print(table)
    worst = summary["worst_deviation_pp"]
    console.print(f"Worst deviation: image share {worst['image_share_pp']:.2f} pp, pixel share "
                  f"{worst['pixel_share_pp']:.2f} pp. {summary['groups_kept_together']} groups "
                  f"({summary['pairs_in_groups']} pairs) kept within one split.",
                  highlight=False)
    cut = summary.get("cut")
    if cut:
        groups = "group" if cut["groups_cut"] == 1 else "groups"
        console.print(f"--max-group-size {cut['max_group_size']}: cut {cut['groups_cut']} "
                      f"{groups} ({cut['pairs_in_cut_groups']} pairs) into {cut['blocks']} "
                      f"blocks (split_block in manifest.csv); left {cut['gap_pairs']} pairs at "
                      "the cuts out of every split so that no near duplicate straddles "
                      "splits (split empty, reason in split_gap).", highlight=False)
    for warning in summary.get("warnings", []):
        err_console.print(f"[bold yellow]Warning:[/] {warning}", highlight=False,
                          soft_wrap=True)


@app.command("check-leakage")
def check_leakage_command(
    data: DataArg,
    distance: Annotated[int, typer.Option(
        min=0, max=20, help="Largest pHash distance (of 64 bits) counted as a near "
        "duplicate.")] = 6,
    split_file: Annotated[Optional[Path], typer.Option(
        help="CSV with id,split columns: the split to check, instead of the manifest's.")
    ] = None,
    num_classes: NumClassesOpt = None,
    class_names: ClassNamesOpt = None,
    label_map: LabelMapOpt = None,
    ignore_index: IgnoreOpt = None,
) -> None:
    """Report identical or near-duplicate images in different splits; exit 1 if any."""
    from curate.leakage import dataset_leakage

    with user_errors():
        dataset = load(data, num_classes, class_names, label_map, ignore_index)
        leaks = dataset_leakage(dataset, distance, split_file)
    if leaks.empty:
        console.print(f"No leakage: no identical or near-duplicate (distance <= {distance}) "
                      "images across splits.")
        return
    _print_leakage(leaks)
    raise typer.Exit(code=1)


def _print_leakage(leaks) -> None:
    from rich.table import Table

    exact = int((leaks["kind"] == "exact").sum())
    table = Table(title=f"{len(leaks)} image pairs straddle splits ({exact} identical)")
    for column in ("id a", "split a", "id b", "split b", "distance", "kind"):
        table.add_column(column, justify="right" if column == "distance" else "left")
    for row in leaks.head(50).itertuples(index=False):
        table.add_row(row.id_a, row.split_a, row.id_b, row.split_b, str(row.distance), row.kind)
    console.print(table)
    if len(leaks) > 50:
        console.print(f"... and {len(leaks) - 50} more pairs.")
    console.print("Fix: re-split with `curate split`, which keeps near duplicates together.")


# --- card and report -------------------------------------------------------------------------

@app.command("card")
def card_command(
    data: Annotated[Path, typer.Argument(help="A curated dataset folder (with dataset.json).")],
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Markdown card to write; its PNGs go to <stem>_files/ beside it. "
        "Default: data_cards/<folder name>.md. Must lie outside the dataset folder.")] = None,
    jsonld: Annotated[Optional[Path], typer.Option(
        "--jsonld", help="Croissant JSON-LD to write. Default: the card's path with "
        ".jsonld.")] = None,
    title: Annotated[Optional[str], typer.Option(help="Dataset name. Default: the folder "
                                                      "name.")] = None,
    source_text: Annotated[Optional[str], typer.Option(
        help="Where the data comes from, in words. Default: detected for AI4Mars-derived "
        "npz data, else 'unknown (not recorded)'.")] = None,
    license_text: Annotated[Optional[str], typer.Option(
        "--license", help="License of the data. Default: unknown.")] = None,
    force: ForceOpt = False,
) -> None:
    """Data card (Markdown + YAML front matter) and Croissant JSON-LD from the curation log."""
    from curate.card import CardOptions, write_card

    with user_errors():
        card_path = out or Path("data_cards") / f"{data.resolve().name}.md"
        jsonld_path = jsonld or card_path.with_suffix(".jsonld")
        written = write_card(data, card_path, jsonld_path,
                             CardOptions(title=title, source_text=source_text,
                                         license=license_text), force=force)
    console.print("Wrote " + ", ".join(str(p) for p in written))


@app.command("report")
def report_command(
    data: Annotated[Path, typer.Argument(help="A curated dataset folder (with dataset.json).")],
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="HTML file to write (one self-contained file, images embedded); "
        "must lie outside the dataset folder.")],
    title: Annotated[Optional[str], typer.Option(help="Page title.")] = None,
    force: ForceOpt = False,
) -> None:
    """Static HTML report: summary, classes, outliers, splits, augmentation, history."""
    from curate.report import write_report

    with user_errors():
        write_report(data, out, title=title, force=force)
    console.print(f"Wrote {out} (opens offline; sections #summary #classes #outliers "
                  "#splits #augmentation #history).")
