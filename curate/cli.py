"""The `curate` command line: thin commands over the library, errors become exit codes."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated, Iterator, Optional

import typer
from rich.console import Console

from curate.errors import CurateError
from curate.readers import ReadOptions, parse_label_map

app = typer.Typer(
    help="Curate small, messy, imbalanced segmentation datasets: outliers, stats, splits, "
    "augmentation and data cards.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

# Options shared by every command that reads a raw dataset.
DataArg = Annotated[Path, typer.Argument(
    help="An .npz (AN2DL layout), a folder with images/ and masks/, or a curated folder.")]
NumClassesOpt = Annotated[Optional[int], typer.Option(
    "--num-classes", min=1, max=256,
    help="Number of classes (labels 0..K-1). Default: from dataset.json, else the largest "
    "label + 1.")]
ClassNamesOpt = Annotated[Optional[str], typer.Option(
    "--class-names", help="Comma-separated names, background first. Default: AI4Mars names "
    "for 5 classes, else 'class k'.")]
LabelMapOpt = Annotated[Optional[str], typer.Option(
    "--label-map", help="Map raw mask values to labels, e.g. '0:0,255:1' (ISBI) or '255:0' "
    "(AI4Mars 'no label' to background). Masks of only 0/255 are mapped 255->1 by default.")]
IgnoreOpt = Annotated[int, typer.Option(
    "--ignore-index", help="Class left out of metrics and 'nothing labelled' checks; -1 for "
    "none.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace an existing output.")]


def read_options(num_classes: int | None, class_names: str | None, label_map: str | None,
                 ignore_index: int) -> ReadOptions:
    """ReadOptions from the shared CLI options."""
    names = [n.strip() for n in class_names.split(",")] if class_names else None
    return ReadOptions(
        num_classes=num_classes,
        class_names=names,
        label_map=parse_label_map(label_map),
        ignore_index=None if ignore_index < 0 else ignore_index,
    )


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn library errors into 'Error: ...' on stderr and exit code 1."""
    try:
        yield
    except CurateError as exc:
        err_console.print(f"[bold red]Error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=1) from None


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
