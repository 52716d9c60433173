"""COCO: images/{split}/ beside annotations/{kind}_{split}.json, one semantic mask per image
written as one annotation per class (compressed RLE, through pycocotools).

Which kind depends on the ignore class, so that curate's COCO reader gives back the same labels:
- class 0 ignored (nothing labelled, as in the Mars data): `instances`, class k as category
  id k (1..K-1); pixels of class 0 get no annotation and read back as class 0, background;
- the last class ignored (void, as VOC and Cityscapes read): `stuff`, class k as category
  id k + 1 (COCO's ids start at 1); its pixels get none and read back as void, the class after them;
- no class ignored: `stuff` with every class annotated; read back, it gains one empty class,
  void, after them (the note says so);
- another class ignored: `stuff` with every class annotated, that one too (the note gives the
  --ignore-index to read it back with).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from curate.export import ExportPlan
from curate.export.source import Source, labels, put_image
from curate.io.errors import InputError

INSTALL = "pip install 'curate-segment[formats]' (or: pip install pycocotools)"


def kind_of(source: Source) -> tuple[str, list[int]]:
    """('instances' or 'stuff', the classes written as categories 1..)."""
    k, n = source.ignore_index, source.num_classes
    if k == 0:
        return "instances", list(range(1, n))
    if k == n - 1:
        return "stuff", list(range(n - 1))
    return "stuff", list(range(n))


def plan(source: Source) -> ExportPlan:
    kind, classes = kind_of(source)
    notes = [f"COCO {kind} JSON, one annotation per class and image (compressed RLE), class k "
             f"as category id {'k' if kind == 'instances' else 'k + 1'}; images in "
             "images/<split>/."]
    k = source.ignore_index
    if k is None:
        notes.append("No class is ignored: every pixel is annotated, so curate reads the export "
                     "back with one more, empty class after them (void).")
    elif k == 0:
        notes.append(f"The ignored {source.ignored()} gets no annotation: COCO's reader gives "
                     "it back as class 0, background, which it does not ignore: read the "
                     "export back with --ignore-index 0.")
    elif k != source.num_classes - 1:
        notes.append(f"The ignored {source.ignored()} is written as a category like the others: "
                     f"read the export back with --ignore-index {k}.")
    return ExportPlan(None, notes)


def write(source: Source, plan: ExportPlan, folder: Path) -> None:
    mask_api = _mask_api()
    kind, classes = kind_of(source)
    first = 0 if kind == "instances" else 1      # COCO ids start at 1: instances' class 0 is none
    categories = [{"id": c + first, "name": source.class_names[c], "supercategory": "curate"}
                  for c in classes]
    by_split: dict[str, dict] = {}
    for pair in source.pairs:
        split = pair.split or "unsplit"
        table = by_split.setdefault(split, {"images": [], "annotations": [],
                                            "categories": categories})
        images = folder / "images" / split
        images.mkdir(parents=True, exist_ok=True)
        written = put_image(pair, images / pair.id, keep_jpeg=True)
        mask = labels(pair)
        image_id = len(table["images"]) + 1
        table["images"].append({"id": image_id, "file_name": written.name,
                                "height": int(mask.shape[0]), "width": int(mask.shape[1])})
        for c in classes:
            region = np.asfortranarray((mask == c).astype(np.uint8))
            if not region.any():
                continue
            rle = mask_api.encode(region)
            table["annotations"].append({
                "id": len(table["annotations"]) + 1, "image_id": image_id,
                "category_id": c + first, "iscrowd": 0, "area": int(region.sum()),
                "bbox": [float(v) for v in mask_api.toBbox(rle)],
                "segmentation": {"size": rle["size"], "counts": rle["counts"].decode("ascii")}})
    (folder / "annotations").mkdir()
    for split, table in by_split.items():
        (folder / "annotations" / f"{kind}_{split}.json").write_text(json.dumps(table))


def _mask_api():
    try:
        from pycocotools import mask
    except ImportError:
        raise InputError(f"Writing COCO needs pycocotools, which is not installed: {INSTALL}.") \
            from None
    return mask
