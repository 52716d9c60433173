"""Cityscapes: leftImg8bit/{split}/{city}/<id>_leftImg8bit.png beside
gtFine/{split}/{city}/<id>_gtFine_labelTrainIds.png (train ids, 255 void).

The city folder is the pair's source_group up to its first '_' (Cityscapes' own city for a
dataset read from Cityscapes), else 'curate'. A dataset read from Cityscapes label ids (its
read map is the 19-train-id table) also gets *_gtFine_labelIds.png, the train ids mapped back
through that table; its void pixels become id 0 (unlabeled), as which of the void ids each
was is not kept. Cityscapes files carry no class names: read back, the classes are
Cityscapes' 19 and void (class 19, the one 255 reads back as).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from curate.export import ExportPlan
from curate.export.source import (
    Pair, Source, image_png, labels, png_bytes, refuse_label_255, with_void,
)
from curate.io.layouts.cityscapes import CLASS_NAMES, TRAIN_IDS, VOID_CLASS

UNSPLIT = "(in leftImg8bit/unsplit/)"
SPLIT_FOLDERS = {"train": "train", "val": "val", "test": "test", "": "unsplit"}


def label_ids_map() -> dict[int, int]:
    """The read map of a dataset read from *_labelIds.png (curate.io.layouts.cityscapes)."""
    return {raw: TRAIN_IDS.get(raw, VOID_CLASS) for raw in range(34)}


def plan(source: Source) -> ExportPlan:
    refuse_label_255(source, "Cityscapes")
    notes = []
    if source.class_names[:VOID_CLASS] != CLASS_NAMES:
        notes.append("Cityscapes files carry no class names: read back, classes 0-18 are "
                     "named as Cityscapes' (road, sidewalk, ...) and class 19 is void.")
    if source.num_classes > VOID_CLASS + 1:
        notes.append(f"Labels above {VOID_CLASS} are written as they are; Cityscapes readers "
                     f"(curate's too) know {VOID_CLASS + 1} classes and flag them.")
    if _from_label_ids(source):
        notes.append("Read from Cityscapes label ids: *_gtFine_labelIds.png are written too "
                     "(train ids mapped back; void pixels as id 0, unlabeled).")
    ignore = source.ignore_index
    if ignore == VOID_CLASS:
        notes.append(f"The ignored {source.ignored()} is written as the void value 255.")
        return ExportPlan(ignore, notes)
    if ignore is not None:
        notes.append(f"The ignored {source.ignored()} keeps its label {ignore}: Cityscapes' "
                     f"void 255 reads back as class {VOID_CLASS}. Read the export back with "
                     f"--ignore-index {ignore}.")
    return ExportPlan(None, notes)


def _from_label_ids(source: Source) -> bool:
    return source.read_map == label_ids_map()


def _city(pair: Pair) -> str:
    return pair.group.split("_")[0] if pair.group else "curate"


def write(source: Source, plan: ExportPlan, folder: Path) -> None:
    to_ids = None
    if _from_label_ids(source):
        to_ids = np.zeros(256, np.uint8)      # void (and anything else) -> 0, unlabeled
        for label_id, train_id in TRAIN_IDS.items():
            to_ids[train_id] = label_id
    for pair in source.pairs:
        where = Path(SPLIT_FOLDERS[pair.split]) / _city(pair)
        images, gt = folder / "leftImg8bit" / where, folder / "gtFine" / where
        images.mkdir(parents=True, exist_ok=True)
        gt.mkdir(parents=True, exist_ok=True)
        (images / f"{pair.id}_leftImg8bit.png").write_bytes(image_png(pair))
        mask = labels(pair)
        (gt / f"{pair.id}_gtFine_labelTrainIds.png").write_bytes(
            png_bytes(with_void(mask, plan.void_class)))
        if to_ids is not None:
            (gt / f"{pair.id}_gtFine_labelIds.png").write_bytes(png_bytes(to_ids[mask]))
