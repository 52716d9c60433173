"""Write a curated folder back in the layouts datasets are shipped in (Pascal VOC, Cityscapes,
Hugging Face parquet, an image folder), splits included, so that the result goes back into
the user's own pipeline and reads back through curate's own readers with the same labels.

One module per format, each with `plan(source) -> ExportPlan` (what the export will do with
the ignore class, the class names and the splits, decided before any file is written) and
`write(source, plan, folder)`; `WRITERS` is the registry `curate export --to` chooses from.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

from curate.io.errors import ConfigError
from curate.io.outputs import atomic_dir

# --to name -> module of curate.export, in the order --help lists them.
WRITERS = {
    "voc": "voc",
    "cityscapes": "cityscapes",
    "hf": "hf",
    "folder": "folder",
    # "coco": not written yet (COCO is read: curate/io/layouts/coco.py)
}


@dataclass
class ExportPlan:
    """What a writer will do: the class written as the format's void value 255 (None: every
    label as it is), and one line per decision the user should know about."""

    void_class: int | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class ExportResult:
    out: Path
    fmt: str
    counts: dict[str, int]     # pairs per split ('' for unsplit pairs)
    notes: list[str]


def writer(fmt: str):
    """The writer module for --to `fmt`; an unknown name lists the choices."""
    if fmt not in WRITERS:
        raise ConfigError(f"--to {fmt!r} is not a format curate exports; choose one of: "
                          f"{', '.join(WRITERS)}.")
    return importlib.import_module(f"curate.export.{WRITERS[fmt]}")


def export_dataset(data: Path, out: Path, fmt: str, force: bool = False) -> ExportResult:
    """Write the curated folder `data` to `out` in the layout `fmt`, atomically: the plan is
    made (and any refusal raised) before the output folder is created."""
    from curate.export.source import read_source

    module = writer(fmt)
    source = read_source(Path(data))
    plan = module.plan(source)
    if not source.split:
        plan.notes.append("The dataset is not split: its pairs are written without a split "
                          + module.UNSPLIT + "; run `curate split` first to export one.")
    with atomic_dir(out, force) as tmp:
        module.write(source, plan, tmp)
    return ExportResult(Path(out), fmt, source.counts(), plan.notes)
