"""What every `curate` command shares: the options that read a dataset, loading it with its
notes shown, and turning library errors into `Error: ...` and exit code 1."""

from __future__ import annotations

import contextlib
from pathlib import Path
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Iterator, Optional

import typer

from curate.cli.show import console, err_console, show_notes
from curate.errors import USER_ERRORS, ConfigError
from curate.io.files_form import FilesForm
from curate.ui.cli_help import Later

if TYPE_CHECKING:
    from curate.data.readers import ReadOptions

# Help panels: the everyday options stand alone under "Options"; the rest are grouped.
READ_PANEL = "Reading raw data"
SCALE_PANEL = "Scale"
ADVANCED_PANEL = "Advanced"

# Options shared by every command that reads a raw dataset.
DataArg = Annotated[Path, typer.Argument(
    help="An .npz (AN2DL layout), a folder with images/ and masks/, or a curated folder.")]
NumClassesOpt = Annotated[Optional[int], typer.Option(
    "--num-classes", min=1, max=256, rich_help_panel=READ_PANEL,
    help="Number of classes (labels 0..K-1). Default: from dataset.json, else the largest "
    "label + 1; masks that look like raw labels (e.g. 0..3 and 255) are then refused with a "
    "suggested --label-map.")]
ClassNamesOpt = Annotated[Optional[str], typer.Option(
    "--class-names", rich_help_panel=READ_PANEL, help="Comma-separated names, background first. Default: AI4Mars names "
    "for 5 classes, else 'class k'.")]
LabelMapOpt = Annotated[Optional[str], typer.Option(
    "--label-map", rich_help_panel=READ_PANEL, help="Map raw mask values to labels, RAW:LABEL,... e.g. "
    "'0:1,1:2,2:3,3:4,255:0' (raw AI4Mars: 'no label' 255 to background 0, the four terrain "
    "classes to 1..4) or '0:0,255:1' (ISBI). Raw values left out keep their value; a map that "
    "would merge one of them with a mapped value is refused (list both to merge on purpose). "
    "Masks of only 0/255 are mapped 255->1 by default.")]
IgnoreOpt = Annotated[Optional[int], typer.Option(
    "--ignore-index", rich_help_panel=READ_PANEL, help="Class left out of metrics and 'nothing "
    "labelled' checks; -1 for none. Default for raw data: 0 for an AN2DL npz ('training_set', "
    "its convention); the class the void value 255 becomes when masks hold 255; else none. A "
    "curated folder keeps its own. Every command prints which class is ignored and why.")]
LayoutOpt = Annotated[Optional[str], typer.Option(
    "--layout", rich_help_panel=READ_PANEL, help="Read DATA as this downloaded layout: voc, "
    "cityscapes, coco (panoptic, instances or stuff JSON), parquet (Hugging Face) or sibling (train/ + train_labels/, images/ + "
    "labels/; colour masks with a colour table). Default: detected, and the note says which "
    "and why.")]
ColorsOpt = Annotated[Optional[Path], typer.Option(
    "--colors", rich_help_panel=READ_PANEL, help="Colour table of colour-coded masks: a "
    "class_dict.csv (name,r,g,b) or labelmap.txt (name:r,g,b::); row k is class k. Default: "
    "one of those files found beside the data.")]
ColumnsOpt = Annotated[Optional[str], typer.Option(
    "--columns", rich_help_panel=READ_PANEL, help="The image and mask columns of a Hugging "
    "Face table, IMAGE,MASK. Default: found by name (image, annotation, label, mask, ...).")]


# What a person decided on the review page, and the masks they corrected (outliers and run).
DecisionsOpt = Annotated[Optional[Path], typer.Option(
    "--decisions", help="decisions.csv exported by the `curate review` page: each "
    "pair's remove/keep overrides the checks' default.")]
MaskFixesOpt = Annotated[Optional[Path], typer.Option(
    "--mask-fixes", help="Folder of corrected PNG masks named <pair id>.png (or the "
    "source file's stem): they replace those masks, read exactly like the input's masks (its "
    "raw values through --label-map; labels for a curated folder). Or the export of a "
    "labelling tool, masks by class name: CVAT's Segmentation mask 1.1 (zip or folder) or "
    "Label Studio's JSON (a remove/keep chosen there counts as a decision). Or "
    "region_fixes.csv of the `curate review` page: each accepted region's pixels set to its "
    "predicted_label, a label of the dataset as read (a curated folder), not a raw value.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace an existing output.")]
WorkersOpt = Annotated[int, typer.Option(
    "--dask-workers", min=0, rich_help_panel=SCALE_PANEL, help="Scan the pixels on a local Dask cluster of N worker processes "
    "(0: in this process).")]
ThreadsOpt = Annotated[int, typer.Option(
    "--threads", min=0, rich_help_panel=SCALE_PANEL, help="Threads of the in-process pixel "
    "scan (0: every core, at most 8).")]
SchedulerOpt = Annotated[Optional[str], typer.Option(
    "--dask-scheduler", rich_help_panel=SCALE_PANEL, help="Scan the pixels on an existing Dask cluster, e.g. "
    "tcp://10.0.0.5:8786 (workers need this package installed; pixels are sent to them).")]

FilesOpt = Annotated[FilesForm, typer.Option(
    "--files", rich_help_panel=SCALE_PANEL,
    help="How images/ and masks/ are stored. encode: every pair as PNG. link: each image "
    "(PNG/JPEG) and mask (PNG) read unchanged from a folder is a hardlink to its source file "
    "(a byte copy where the file system refuses); changed pixels (label map, mode, "
    "augmentation, .npz input) are encoded. auto: link for a folder of more than 5,000 pairs "
    "or 200 MB, or a curated folder that is linked; else encode.")]

# One near-duplicate distance, one range, for every command that groups or finds near duplicates.
NEAR_MAX = 16
NearDistanceOpt = Annotated[int, typer.Option(
    "--near-duplicate-distance", min=0, max=NEAR_MAX, rich_help_panel=ADVANCED_PANEL,
    help="Largest pHash Hamming distance (of 64 bits) at which two images are near "
    "duplicates (0: identical hashes only).")]
SetOpt = Annotated[Optional[list[str]], typer.Option(
    "--set", metavar="KEY=VALUE", rich_help_panel=ADVANCED_PANEL,
    help="A setting, repeatable, e.g. --set z_threshold=5; the keys are listed below and in "
    "docs/reference.md. A flag typed on the command line wins over it.")]
ConfigOpt = Annotated[Optional[Path], typer.Option(
    "--config", metavar="FILE.toml", rich_help_panel=ADVANCED_PANEL,
    help="Settings from a TOML file of KEY = VALUE lines (--set wins over it).")]
RemoveOpt = Annotated[Optional[list[str]], typer.Option(
    "--remove", help="Also remove the pairs this check flags (repeatable), e.g. "
    "--remove near_duplicate --remove dark.")]
KeepOpt = Annotated[Optional[list[str]], typer.Option(
    "--keep", help="Only report, never remove, what this check flags (repeatable), e.g. "
    "--keep unlabelled.")]
LabelQualityOpt = Annotated[Optional[Path], typer.Option(
    "--label-quality", help="label_quality.csv of `segment crossval` on DATA: flag "
    "label_issue (review only unless --remove label_issue).")]


def settings_epilog(*sections: str) -> Later:
    """The help's closing paragraph: each step's settings with their defaults (computed when
    the help is shown, so that `curate --help` imports no config)."""
    def text() -> str:
        from curate.cli.step_settings import settings_line

        if len(sections) == 1:
            return f"Settings for --set / --config (default values): {settings_line(sections[0])}."
        return ("Settings for --set / --config, by section ([outliers] in the file, or "
                "--set outliers.KEY=VALUE; a key only one section has needs no section): "
                + "; ".join(f"[{s}] {settings_line(s)}" for s in sections) + ".")
    return Later(text)


# --- options several commands share, declared once (curate.ui.option_groups) ----------------

@dataclass
class ReadArgs:
    """How to read raw data: every command that reads it takes these."""

    num_classes: NumClassesOpt = None
    class_names: ClassNamesOpt = None
    label_map: LabelMapOpt = None
    ignore_index: IgnoreOpt = None
    layout: LayoutOpt = None
    colors: ColorsOpt = None
    columns: ColumnsOpt = None

    def options(self) -> ReadOptions:
        return read_options(self.num_classes, self.class_names, self.label_map,
                            self.ignore_index, self.layout, self.colors, self.columns)

    @property
    def inputs(self) -> list[Path | None]:
        return [self.colors]


@dataclass
class ScaleArgs:
    """How the files are stored and where the pixels are scanned."""

    files: FilesOpt = FilesForm.auto
    workers: WorkersOpt = 0
    scheduler: SchedulerOpt = None
    threads: ThreadsOpt = 0


@dataclass
class SettingsArgs:
    settings: SetOpt = None
    config_file: ConfigOpt = None


@dataclass
class OutlierArgs:
    """What `curate outliers` and `curate run` share: the removal rule, the tables a person or
    a model gave, the near-duplicate distance."""

    remove: RemoveOpt = None
    keep: KeepOpt = None
    label_quality: LabelQualityOpt = None
    decisions: DecisionsOpt = None
    mask_fixes: MaskFixesOpt = None
    near_duplicate_distance: NearDistanceOpt = 6

    @property
    def inputs(self) -> list[Path | None]:
        return [self.label_quality, self.decisions, self.mask_fixes]

    def config(self, thresholds: dict, checks: list[str] | None = None):
        """The OutlierConfig of these options and the thresholds --set / --config gave."""
        from curate.checks.outliers import OutlierConfig

        return OutlierConfig.with_removal(
            self.remove, self.keep, near_duplicate_distance=self.near_duplicate_distance,
            **thresholds, **({"checks": list(checks)} if checks else {}),
            label_quality=None if self.label_quality is None else str(self.label_quality),
            **person_inputs(self.decisions, self.mask_fixes))


def read_options(num_classes: int | None, class_names: str | None, label_map: str | None,
                 ignore_index: int | None, layout: str | None = None,
                 colors: Path | None = None, columns: str | None = None) -> ReadOptions:
    """ReadOptions from the shared CLI options."""
    # Imported here, not at the top: `curate --help` then starts without numpy and pandas.
    from curate.io.label_maps import label_words
    from curate.data.readers import ReadOptions

    names = [n.strip() for n in class_names.split(",")] if class_names else None
    words = label_words(num_classes, label_map, ignore_index)  # as `segment evaluate` reads them
    return ReadOptions(
        num_classes=words.num_classes,
        class_names=names,
        label_map=words.label_map,
        ignore_index=words.ignore_index,
        ignore_from_layout=not words.ignore_given,
        layout=layout,
        colors=None if colors is None else str(colors),
        columns=_columns(columns),
    )


def _columns(text: str | None) -> tuple[str, str] | None:
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2 or not all(parts):
        raise ConfigError(f"--columns {text!r}: expected IMAGE,MASK, two column names, e.g. "
                          "--columns image,annotation.")
    return parts[0], parts[1]


@contextlib.contextmanager
def scan_cluster(workers: int, scheduler: str | None, threads: int = 0) -> Iterator[None]:
    """Run the pixel scans inside on Dask when --dask-workers or --dask-scheduler asks for it,
    else on --threads threads; the scan's note (numpy code, no numba) printed once as a Note."""
    import warnings

    from curate.scan.cluster import ClusterOptions, connect, describe
    from curate.scan.kernels import KernelNote, fallback_note

    options = ClusterOptions(scheduler=scheduler, workers=workers, threads=threads)
    with connect(options) as client, warnings.catch_warnings():
        warnings.simplefilter("ignore", KernelNote)    # printed below as a Note instead
        if client is not None:
            err_console.print(f"Scanning on {describe(client)}.", highlight=False)
        try:
            yield
        finally:
            if fallback_note():
                err_console.print(f"[yellow]Note:[/] {fallback_note()}", highlight=False,
                                  soft_wrap=True)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn library errors into 'Error: ...' on stderr and exit code 1."""
    try:
        yield
    except USER_ERRORS as exc:
        err_console.print(f"[bold red]Error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=1) from None


def refuse_read_options(data: Path, num_classes: int | None, class_names: str | None,
                        label_map: str | None, ignore_index: int | None) -> None:
    """ConfigError when read options come with a curated folder, which would ignore them."""
    given = [flag for flag, value in (("--num-classes", num_classes),
                                      ("--class-names", class_names),
                                      ("--label-map", label_map),
                                      ("--ignore-index", ignore_index)) if value is not None]
    if given and (Path(data) / "dataset.json").is_file():
        raise ConfigError(
            f"{data} is a curated folder: its classes, label map and ignore class come from its "
            f"dataset.json, so {', '.join(given)} would be ignored. Drop "
            f"{'it' if len(given) == 1 else 'them'}, or give the raw data instead.")


def load(data: Path, read: ReadArgs):
    """Read DATA with the shared read options and print what the reader noted or skipped.

    A curated folder carries its classes, label map and ignore class in dataset.json, so read
    options given with one are refused rather than silently ignored."""
    from curate.data.readers import load_dataset

    refuse_read_options(data, read.num_classes, read.class_names, read.label_map,
                        read.ignore_index)
    dataset = load_dataset(data, read.options())
    show_notes(dataset)
    return dataset


def stored_files(dataset, requested: FilesForm):
    """(dataset with its source files named where linking is chosen, the FilesReport)."""
    from curate.data.linking import choose_files, with_source_files

    report = choose_files(requested, dataset)
    return (with_source_files(dataset) if report.form == "link" else dataset), report


def show_files(report) -> None:
    """Print which form the written files took (and once, any fallback to copying)."""
    from curate.cli.show import console

    for line in report.lines():
        console.print(line, highlight=False, soft_wrap=True)


def with_fixes(dataset, mask_fixes: Optional[Path]):
    """The dataset with the corrected masks of --mask-fixes, when given; says how many."""
    from curate.data.mask_fixes import apply_mask_fixes

    if mask_fixes is None:
        return dataset
    from curate.data.mask_fixes import PNG_FOLDER, fixes_by_tool, fixes_phrase
    from curate.data.region_fixes import REVIEW, region_counts
    from curate.data.tool_fixes import tool_of

    fixed = apply_mask_fixes(dataset, mask_fixes)
    count = int((fixed.manifest["mask_fix"] != "").sum())
    from curate.io.label_maps import format_map

    tools = fixes_by_tool(fixed.manifest)
    label_map = dataset.reading.label_map
    space = (f"raw values, through --label-map {format_map(label_map)}" if label_map
             else "labels, like the input's masks")
    if set(tools) - {PNG_FOLDER}:
        space = "labels, by class name"
    by = fixes_phrase(tools)
    choices = fixed.manifest["mask_fix_decision"].fillna("")
    chosen = (f"; {int((choices == 'remove').sum())} remove and "
              f"{int((choices == 'keep').sum())} keep chosen in the tool, applied as "
              "decisions" if (choices != "").any() else "")
    if tool_of(mask_fixes) == REVIEW:
        regions = region_counts(mask_fixes)
        space = "labels of the dataset as read (predicted_label)"
        chosen = (f"; {regions['accept']} region(s) set to the model's class, "
                  f"{regions['keep']} kept as the mask")
    console.print(f"Mask fixes: {count} mask(s) replaced by the corrected ones in "
                  f"{mask_fixes.resolve()} ({by or 'none'}; read as {space}{chosen}; manifest "
                  "columns mask_fix and mask_fix_tool say where each came from).",
                  highlight=False, soft_wrap=True)
    return fixed


def person_inputs(decisions: Optional[Path], mask_fixes: Optional[Path]) -> dict:
    """--decisions and --mask-fixes as absolute paths, for the manifest, history and card:
    a path relative to wherever the command ran would name nothing later."""
    return {"decisions": decisions and str(decisions.resolve()),
            "mask_fixes": mask_fixes and str(mask_fixes.resolve())}
