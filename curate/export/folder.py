"""Image folders: one folder of images with a folder of masks beside it per split, train/ +
train_masks/, val/ + val_masks/, test/ + test_masks/ (an unsplit dataset: images/ + masks/),
and classes.txt, one class name a line (line k = class k).

Masks are single-channel PNGs holding the labels as they are (there is no void value); images
keep their curated encoding (PNG, or JPEG copied as it is). curate reads the folder back with
its sibling-folder reader (the folder names give the source split) and takes the class names
from classes.txt.
"""

from __future__ import annotations

from pathlib import Path

from curate.export import ExportPlan
from curate.export.source import Source, kept_ignore_note, labels, png_bytes, put_image

UNSPLIT = "(in images/ + masks/)"


def plan(source: Source) -> ExportPlan:
    notes = ["Class names go to classes.txt (line k = class k)."]
    if source.ignore_index is not None:
        notes.append(kept_ignore_note(source, "plain masks have no void value",
                                      names_void=source.split))
    return ExportPlan(None, notes)


def folders(split: str, any_split: bool) -> tuple[str, str]:
    """(image folder, mask folder) of a pair of `split` ('' for none)."""
    if not any_split:
        return "images", "masks"
    name = split or "unsplit"
    return name, f"{name}_masks"


def write(source: Source, plan: ExportPlan, folder: Path) -> None:
    for pair in source.pairs:
        images, masks = (folder / f for f in folders(pair.split, source.split))
        images.mkdir(exist_ok=True)
        masks.mkdir(exist_ok=True)
        put_image(pair, images / pair.id, keep_jpeg=True)
        (masks / f"{pair.id}.png").write_bytes(png_bytes(labels(pair)))
    (folder / "classes.txt").write_text("".join(f"{n}\n" for n in source.class_names))
