"""CVAT: the review queue as a "Segmentation mask 1.1" export, ready to upload as annotations.

    labelmap.txt                       background:0,0,0:: then each class:r,g,b:: (our colours)
    SegmentationClass/<id>.png         RGB masks in those colours
    SegmentationObject/<id>.png        one object per class present, in VOC's colour map
    ImageSets/Segmentation/default.txt the queue, strongest score first
    JPEGImages/<id>.png                the images to create the CVAT task from
    annotations.zip                    the four above the images, to upload as annotations
    queue.csv, README.md               the order, reasons, and the import steps

CVAT treats black as unlabelled: the row `background` stands for the ignore class (or a class
named background), so those pixels come back black and read back as that class.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from curate.data.tool_fixes import BACKGROUND, background_class
from curate.export import ExportPlan
from curate.export.queue import Queue
from curate.export.source import png_bytes
from curate.export.voc import colour_map
from curate.export.writing import queue_csv, readme
from curate.ui.palette import palette

QUEUE = True
TOOL = "CVAT"
ANNOTATIONS = ("labelmap.txt", "SegmentationClass", "SegmentationObject", "ImageSets")


def labelmap_rows(names: list[str], ignore_index: int | None) -> list[tuple[str, tuple, int | None]]:
    """[(name, (r, g, b), class or None)] in labelmap.txt order: background first."""
    back = background_class(names, ignore_index)
    colours = palette(len(names))
    rows = [(BACKGROUND, (0, 0, 0), back)]
    return rows + [(n, tuple(int(v) for v in colours[k]), k)
                   for k, n in enumerate(names) if k != back]


def plan(queue: Queue) -> ExportPlan:
    source = queue.source
    back = background_class(source.class_names, source.ignore_index)
    note = (f"CVAT's unlabelled black (labelmap row 'background') stands for class {back} "
            f"({source.class_names[back]}); pixels left black come back as it."
            if back is not None else
            "No class is ignored or named background: every pixel must carry a class, and "
            "pixels left black in CVAT are refused when the masks come back.")
    return ExportPlan(None, [note])


def write(queue: Queue, plan: ExportPlan, folder: Path) -> None:
    source = queue.source
    rows = labelmap_rows(source.class_names, source.ignore_index)
    colours = np.zeros((256, 3), np.uint8)
    for _, rgb, k in rows:
        if k is not None:
            colours[k] = rgb
    for sub in ("JPEGImages", "SegmentationClass", "SegmentationObject", "ImageSets/Segmentation"):
        (folder / sub).mkdir(parents=True)
    back = rows[0][2]
    for item in queue.items:
        (folder / "JPEGImages" / f"{item.id}.png").write_bytes(png_bytes(item.image))
        (folder / "SegmentationClass" / f"{item.id}.png").write_bytes(png_bytes(colours[item.mask]))
        (folder / "SegmentationObject" / f"{item.id}.png").write_bytes(_objects(item.mask, back))
    (folder / "ImageSets/Segmentation/default.txt").write_text(
        "".join(f"{i.id}\n" for i in queue.items))
    (folder / "labelmap.txt").write_text("# label:color_rgb:parts:actions\n" + "".join(
        f"{name}:{','.join(map(str, rgb))}::\n" for name, rgb, _ in rows))
    with zipfile.ZipFile(folder / "annotations.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.relative_to(folder).parts[0] in ANNOTATIONS:
                archive.write(path, path.relative_to(folder).as_posix())
    (folder / "queue.csv").write_text(queue_csv(queue))
    (folder / "README.md").write_text(readme(queue, "cvat"))


def _objects(mask: np.ndarray, back: int | None) -> bytes:
    """A palette PNG of one object per class present (1, 2, ... in class order; 0 for the
    background class), as VOC's SegmentationObject holds instances."""
    present = [int(k) for k in np.unique(mask) if k != back]
    objects = np.zeros(256, np.uint8)
    objects[present] = np.arange(1, len(present) + 1)
    return png_bytes(objects[mask], colour_map())
