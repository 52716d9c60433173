"""`curate export`: a curated folder written back in a downloaded layout (registered on the
app in main.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

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
        "train_masks/, ... and classes.txt); or the review queue for a labelling tool: cvat "
        "(Segmentation mask 1.1) or labelstudio (label config and tasks JSON).")],
    only: Annotated[str, typer.Option(
        "--only", help="cvat/labelstudio: which flagged pairs go: review (those still in "
        "DATA), removed (read from the input), label_issue, or all.")] = "review",
    predictions: Annotated[Optional[Path], typer.Option(
        "--predictions", help="cvat/labelstudio: the model's masks as a second "
        "pre-annotation (Label Studio): a `segment crossval` run (label_quality.csv, "
        "oof_probs.npy) or a folder of <pair id>.png masks.")] = None,
    input_data: Annotated[Optional[Path], typer.Option(
        "--input", help="cvat/labelstudio: the input `curate outliers` read, for the pairs it "
        "removed. Default: the input recorded in DATA/dataset.json.")] = None,
    force: ForceOpt = False,
) -> None:
    """Write a curated folder back in a downloaded layout, splits included.

    The split column becomes the format's splits (VOC's ImageSets lists, Cityscapes' split
    folders, Hugging Face's train/validation/test files, folder names); curate reads an
    export back with the same labels, and `curate split --keep-source-split` restores the
    split. The ignore class is written as the void value 255 where the format has one and
    reads it back as that class; the output says what happened to it.

    --to cvat or labelstudio writes the review queue instead (reports/outliers.csv, strongest
    score first) with a README of the import steps; the corrected masks come back with
    `curate outliers DATA -o OUT --mask-fixes EXPORT` (docs/fixing-masks.md).
    """
    from curate.export import export_dataset
    from curate.io.outputs import guard_output

    with user_errors():
        guard_output(out, [data] + [p for p in (predictions, input_data) if p], force,
                     "folder")
        result = export_dataset(data, out, to, force=force, queue={
            "only": only, "predictions": predictions, "input_data": input_data})
    for note in result.notes:
        console.print(f"[yellow]Note:[/] {note}", highlight=False, soft_wrap=True)
    if "queue" in result.counts:
        console.print(f"Wrote {out} ({result.fmt}): the review queue, "
                      f"{result.counts['queue']} pairs (--only {only}), strongest score first; "
                      f"import steps in {out / 'README.md'}.", highlight=False, soft_wrap=True)
        return
    counts = ", ".join(f"{n} {s or 'unsplit'}" for s, n in result.counts.items())
    console.print(f"Wrote {out} ({result.fmt}): {sum(result.counts.values())} pairs "
                  f"({counts}).", highlight=False, soft_wrap=True)
