"""`curate export`: a curated folder written back in a downloaded layout (registered on the
app in main.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from curate.cli.common import ForceOpt, user_errors
from curate.cli.show import console

ExportData = Annotated[Path, typer.Argument(
    help="A curated folder (with dataset.json), e.g. what `curate split` wrote.")]


def export_command(
    data: ExportData,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the exported dataset.")],
    to: Annotated[str, typer.Option(
        "--to", help="The layout to write: voc (JPEGImages/, SegmentationClass/ palette PNGs, "
        "ImageSets lists), cityscapes (leftImg8bit/ + gtFine/ *_labelTrainIds.png), hf "
        "(Hugging Face parquet: data/train-00000-of-00001.parquet, ...) or folder (train/ + "
        "train_masks/, ... and classes.txt).")],
    force: ForceOpt = False,
) -> None:
    """Write a curated folder back in a downloaded layout, splits included.

    The split column becomes the format's splits (VOC's ImageSets lists, Cityscapes' split
    folders, Hugging Face's train/validation/test files, folder names); curate reads an
    export back with the same labels, and `curate split --keep-source-split` restores the
    split. The ignore class is written as the void value 255 where the format has one and
    reads it back as that class; the output says what happened to it.
    """
    from curate.export import export_dataset
    from curate.io.outputs import guard_output

    with user_errors():
        guard_output(out, [data], force, "folder")
        result = export_dataset(data, out, to, force=force)
    for note in result.notes:
        console.print(f"[yellow]Note:[/] {note}", highlight=False, soft_wrap=True)
    counts = ", ".join(f"{n} {s or 'unsplit'}" for s, n in result.counts.items())
    console.print(f"Wrote {out} ({result.fmt}): {sum(result.counts.values())} pairs "
                  f"({counts}).", highlight=False, soft_wrap=True)
