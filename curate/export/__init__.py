"""Write a curated folder back in the layouts datasets are shipped in (Pascal VOC, Cityscapes,
Hugging Face parquet, an image folder, COCO), splits included, so that the result goes back into
the user's own pipeline and reads back through curate's own readers with the same labels;
or write its review queue for a labelling tool (CVAT, Label Studio), whose corrected masks
come back through --mask-fixes.

One module per format, each with `plan(source) -> ExportPlan` (what the export will do with
the ignore class, the class names and the splits, decided before any file is written) and
`write(source, plan, folder)`; `WRITERS` is the registry `curate export --to` chooses from.
A module with `QUEUE = True` writes the review queue instead: its plan and write take the
`Queue` (curate.export.queue) in place of the source.
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
    "coco": "coco",
    "cvat": "cvat",                # the review queue, for a labelling tool
    "labelstudio": "labelstudio",
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


def export_dataset(data: Path, out: Path, fmt: str, force: bool = False,
                   queue: dict | None = None) -> ExportResult:
    """Write the curated folder `data` to `out` in the layout `fmt`, atomically: the plan is
    made (and any refusal raised) before the output folder is created.

    `queue` (only, predictions, input_data of `read_queue`) is for the labelling tools'
    formats, which write the review queue; the layouts refuse it."""
    from curate.export.source import read_source

    module = writer(fmt)
    if getattr(module, "QUEUE", False):
        from curate.export.queue import read_queue

        chosen = read_queue(Path(data), **(queue or {}))
        plan = module.plan(chosen)
        with atomic_dir(out, force) as tmp:
            module.write(chosen, plan, tmp)
        return ExportResult(Path(out), fmt, {"queue": len(chosen.items)}, plan.notes)
    given = [f"--{k.replace('_data', '').replace('_', '-')}" for k, v in (queue or {}).items()
             if v not in (None, "review")]
    if given:
        queue_formats = [k for k in WRITERS if getattr(writer(k), "QUEUE", False)]
        raise ConfigError(f"{', '.join(given)} choose(s) what goes to a labelling tool; "
                          f"--to {fmt} writes the whole dataset. Drop them, or export to "
                          f"{' or '.join(queue_formats)}.")
    source = read_source(Path(data))
    plan = module.plan(source)
    if not source.split:
        plan.notes.append("The dataset is not split: its pairs are written without a split "
                          + module.UNSPLIT + "; run `curate split` first to export one.")
    with atomic_dir(out, force) as tmp:
        module.write(source, plan, tmp)
    return ExportResult(Path(out), fmt, source.counts(), plan.notes)
