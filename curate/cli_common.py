"""What every `curate` command shares: the options that read a dataset, loading it with its
notes shown, and turning library errors into `Error: ...` and exit code 1."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Iterator, Optional

import typer

from curate.cli_show import err_console, show_notes
from curate.errors import CurateError
from curate.files_form import FilesForm

if TYPE_CHECKING:
    from curate.readers import ReadOptions

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
    "tcp://10.0.0.5:8786 (workers need this package installed; pixels are sent to them).")]

FilesOpt = Annotated[FilesForm, typer.Option(
    "--files",
    help="How images/ and masks/ are stored. encode: every pair as PNG. link: each image "
    "(PNG/JPEG) and mask (PNG) read unchanged from a folder is a hardlink to its source file "
    "(a byte copy where the file system refuses); changed pixels (label map, mode, "
    "augmentation, .npz input) are encoded. auto: link for a folder of more than 5,000 pairs "
    "or 200 MB, or a curated folder that is linked; else encode.")]


def read_options(num_classes: int | None, class_names: str | None, label_map: str | None,
                 ignore_index: int | None) -> ReadOptions:
    """ReadOptions from the shared CLI options."""
    # Imported here, not at the top: `curate --help` then starts without numpy and pandas.
    from curate.readers import ReadOptions, parse_label_map

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


def stored_files(dataset, requested: FilesForm):
    """(dataset with its source files named where linking is chosen, the FilesReport)."""
    from curate.linking import choose_files, with_source_files

    report = choose_files(requested, dataset)
    return (with_source_files(dataset) if report.form == "link" else dataset), report


def show_files(report) -> None:
    """Print which form the written files took (and once, any fallback to copying)."""
    from curate.cli_show import console

    for line in report.lines():
        console.print(line, highlight=False, soft_wrap=True)
