"""COCO annotations rasterised into one image's semantic mask (curate.io.layouts.coco).

Instances and stuff: polygons and RLE (compressed or not) through pycocotools, the
reference implementation, so that pixels match COCO's own tools. Annotations are painted
largest first (by pixel count; ties in file order), so a smaller object on a larger one stays
visible whatever order the file lists them in. Crowd regions (iscrowd) are painted with their
category like any other: their pixels are of that class. Panoptic: the PNG's segment ids
(R + 256 G + 256^2 B) are looked up in segments_info; id 0 is void.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from curate.io.errors import InputError
from curate.io.image_files import read_image


@dataclass(frozen=True)
class Index:
    """One COCO JSON, parsed once: categories by id, images by id, and the annotations of
    each image (instances / stuff: the annotation dicts; panoptic: the one entry with its
    file_name and segments_info)."""

    categories: dict[int, str]
    images: dict[int, dict]
    annotations: dict[int, list[dict]]


@functools.lru_cache(maxsize=4)
def index(file: str) -> Index:
    try:
        data = json.loads(Path(file).read_text(encoding="utf-8"))
        categories = {int(c["id"]): str(c["name"]) for c in data["categories"]}
        images = {int(i["id"]): i for i in data["images"]}
        annotations: dict[int, list[dict]] = {}
        for ann in data.get("annotations", []):
            annotations.setdefault(int(ann["image_id"]), []).append(ann)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{file} is not a COCO annotation file ({type(exc).__name__}: "
                         f"{exc}); expected 'images', 'annotations' and 'categories'.") from exc
    return Index(categories, images, annotations)


def png_folder(file: Path) -> Path:
    """Where panoptic_{split}.json keeps its PNGs: annotations/panoptic_{split}/."""
    return file.parent / file.stem


INSTALL = "pip install 'curate-segment[formats]' (or: pip install pycocotools)"


def _mask_api():
    try:
        from pycocotools import mask
    except ImportError:
        raise InputError(f"Reading COCO polygons and RLE needs pycocotools, which is not "
                         f"installed: {INSTALL}.") from None
    return mask


def decode_mask(ref: Path, kind: str, order: tuple[int, ...]) -> np.ndarray:
    """(H, W) uint8 labels of the image `ref` ('annotations/x.json#<image id>') names;
    `order` lists the category id of each label (instances: background first)."""
    file, _, image_id = str(ref).rpartition("#")
    table = index(file)
    image = table.images[int(image_id)]
    anns = table.annotations.get(int(image_id), [])
    label_of = {cat: k for k, cat in enumerate(order)}
    if kind == "panoptic":
        return _panoptic(png_folder(Path(file)), anns[0], label_of, void=len(order))
    shape = (int(image["height"]), int(image["width"]))
    return _painted(anns, shape, label_of, background=0 if kind == "instances" else len(order),
                    name=f"{Path(file).name}#{image_id}")


def _painted(anns: list[dict], shape: tuple[int, int], label_of: dict[int, int],
             background: int, name: str) -> np.ndarray:
    """The annotations painted largest first onto `background`."""
    regions = []
    for ann in anns:
        region = binary(ann.get("segmentation"), shape, f"{name} annotation {ann.get('id')}")
        regions.append((-int(region.sum()), len(regions), label_of[ann["category_id"]], region))
    mask = np.full(shape, background, np.uint8)
    for _, _, label, region in sorted(regions, key=lambda r: r[:2]):
        mask[region] = label
    return mask


def binary(segmentation, shape: tuple[int, int], name: str) -> np.ndarray:
    """(H, W) bool: a list of polygons [x1, y1, x2, y2, ...], an uncompressed RLE
    {'size', 'counts': [int, ...]} or a compressed one {'size', 'counts': str}."""
    api = _mask_api()
    h, w = shape
    if isinstance(segmentation, list):
        polygons = [p for p in segmentation if len(p) >= 6]   # fewer than 3 points: no area
        if not polygons:
            return np.zeros(shape, bool)
        rle = api.merge(api.frPyObjects(polygons, h, w))
    elif isinstance(segmentation, dict) and "counts" in segmentation:
        if list(segmentation.get("size", [])) != [h, w]:
            raise InputError(f"{name}: its RLE size {segmentation.get('size')} is not the "
                             f"image's {h}x{w} (height, width).")
        counts = segmentation["counts"]
        rle = (api.frPyObjects(segmentation, h, w) if isinstance(counts, list) else
               {"size": [h, w], "counts": counts.encode() if isinstance(counts, str) else counts})
    else:
        raise InputError(f"{name}: its segmentation is neither polygons nor RLE "
                         f"({type(segmentation).__name__}).")
    return api.decode(rle).astype(bool)


def _panoptic(folder: Path, entry: dict, label_of: dict[int, int], void: int) -> np.ndarray:
    png = folder / entry["file_name"]
    if not png.is_file():
        raise InputError(f"no panoptic PNG {png.name} in {folder.name}/")
    rgb = read_image(png).astype(np.uint32)
    if rgb.ndim != 3:
        raise InputError(f"{png.name} is not an RGB panoptic PNG (segment id = R + 256 G + "
                         "256^2 B).")
    ids = rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]   # (H, W)
    present, inverse = np.unique(ids, return_inverse=True)
    segments = {int(s["id"]): label_of[s["category_id"]] for s in entry["segments_info"]}
    unknown = [int(v) for v in present if v != 0 and int(v) not in segments]
    if unknown:
        raise InputError(f"{png.name} holds segment id(s) {unknown[:5]} that its "
                         "segments_info lacks.")
    lut = np.array([segments.get(int(v), void) for v in present], np.uint8)
    return lut[inverse.reshape(ids.shape)]
