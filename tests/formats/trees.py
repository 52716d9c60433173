"""Small datasets in the layouts people download, written here file by file as those projects
lay them out, with the label arrays they stand for, so a reader's pixels can be checked exactly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

# Pascal VOC's palette for the first classes (as the VOC devkit's bitget colour map draws it)
# and its void border colour; any palette works, the indices are the labels.
VOC_PALETTE = [0, 0, 0, 128, 0, 0, 0, 128, 0, 128, 128, 0, 0, 0, 128] + [0] * (3 * 251)
VOC_PALETTE[3 * 255:3 * 256] = [224, 224, 192]


def labels(rng: np.random.Generator, shape, values, void=None) -> np.ndarray:
    """A mask of blocks of `values`, with a one-pixel `void` border around one block."""
    h, w = shape
    mask = np.full(shape, values[0], np.uint8)
    for k, value in enumerate(values[1:]):
        r, c = rng.integers(0, h - 8), rng.integers(0, w - 10)
        mask[r:r + 6 + k, c:c + 8] = value
        if void is not None:
            mask[max(r - 1, 0), c:c + 8] = void
    return mask


def voc_tree(root: Path, n: int = 10, seed: int = 0) -> dict[str, np.ndarray]:
    """VOCdevkit/VOC2012 with JPEGImages, palette SegmentationClass PNGs (255 void) and
    train/val lists; returns stem -> the raw mask written."""
    rng = np.random.default_rng(seed)
    tree = root / "VOCdevkit" / "VOC2012"
    for sub in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (tree / sub).mkdir(parents=True, exist_ok=True)
    written = {}
    for i in range(n):
        stem = f"2007_{i:06d}"
        Image.fromarray(rng.integers(0, 256, (36, 48, 3), dtype=np.uint8)).save(
            tree / "JPEGImages" / f"{stem}.jpg", quality=95)
        mask = labels(rng, (36, 48), [0, 1 + i % 4, 15], void=255)
        image = Image.fromarray(mask, "P")
        image.putpalette(VOC_PALETTE)
        image.save(tree / "SegmentationClass" / f"{stem}.png")
        written[stem] = mask
    Image.fromarray(np.zeros((36, 48, 3), np.uint8)).save(tree / "JPEGImages" / "2012_9.jpg")
    stems = sorted(written)
    (tree / "ImageSets/Segmentation/train.txt").write_text("\n".join(stems[:7]) + "\n")
    (tree / "ImageSets/Segmentation/val.txt").write_text("\n".join(stems[7:]) + "\n")
    return written


def cityscapes_tree(root: Path, seed: int = 0, train_ids: bool = False) -> dict[str, np.ndarray]:
    """leftImg8bit/{split}/{city}/ beside gtFine/ with *_gtFine_labelIds.png (ids 0..33), plus
    the colour and instance files a reader must leave alone; returns stem -> label ids."""
    rng = np.random.default_rng(seed)
    written = {}
    frames = [("train", "aachen", 0, 19), ("train", "aachen", 0, 20), ("train", "bremen", 3, 5),
              ("val", "lindau", 1, 7), ("val", "lindau", 2, 8), ("test", "bonn", 4, 9)]
    for split, city, seq, frame in frames:
        stem = f"{city}_{seq:06d}_{frame:06d}"
        for top in ("leftImg8bit", "gtFine"):
            (root / top / split / city).mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (32, 64, 3), dtype=np.uint8)).save(
            root / "leftImg8bit" / split / city / f"{stem}_leftImg8bit.png")
        ids = labels(rng, (32, 64), [7, 26, 24, 0, 11, 4])   # road, car, person, unlabeled, ...
        gt = root / "gtFine" / split / city
        Image.fromarray(ids).save(gt / f"{stem}_gtFine_labelIds.png")
        Image.fromarray(np.stack([ids] * 3, -1) * 7).save(gt / f"{stem}_gtFine_color.png")
        Image.fromarray(ids.astype(np.uint16) * 1000).save(gt / f"{stem}_gtFine_instanceIds.png")
        (gt / f"{stem}_gtFine_polygons.json").write_text("{}")
        written[stem] = ids
    return written


CAMVID_TABLE = [("Sky", (128, 128, 128)), ("Building", (128, 0, 0)), ("Pole", (192, 192, 128)),
                ("Road", (128, 64, 128)), ("Pedestrian", (64, 64, 0)), ("Void", (0, 0, 0))]


def camvid_tree(root: Path, seed: int = 0) -> dict[str, np.ndarray]:
    """Kaggle's CamVid: train/ val/ test/ with *_labels/ folders of RGB masks named
    <stem>_L.png, and class_dict.csv; returns stem -> class labels (table row order)."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "class_dict.csv").write_text(
        "name,r,g,b\n" + "".join(f"{n},{r},{g},{b}\n" for n, (r, g, b) in CAMVID_TABLE))
    colours = np.array([c for _, c in CAMVID_TABLE], np.uint8)
    written = {}
    for split, count in (("train", 4), ("val", 2), ("test", 2)):
        (root / split).mkdir(exist_ok=True)
        (root / f"{split}_labels").mkdir(exist_ok=True)
        for k in range(count):
            stem = f"0001TP_{split}_{k:04d}"
            Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)).save(
                root / split / f"{stem}.png")
            classes = labels(rng, (30, 40), [0, 3, 1, 4, 5])
            Image.fromarray(colours[classes]).save(root / f"{split}_labels" / f"{stem}_L.png")
            written[stem] = classes
    return written


def hf_rows(n: int = 9, seed: int = 0) -> tuple[list[dict], list[np.ndarray]]:
    """Rows of a Hugging Face semantic-segmentation table: PNG bytes of image and annotation
    (the Image feature's storage: bytes and path), and the masks they hold."""
    import io

    rng = np.random.default_rng(seed)
    rows, masks = [], []
    for i in range(n):
        image = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
        mask = labels(rng, (24, 32), [0, 1 + i % 3, 4])
        encoded = []
        for array in (image, mask):
            buffer = io.BytesIO()
            Image.fromarray(array).save(buffer, format="PNG")
            encoded.append(buffer.getvalue())
        rows.append({"image": {"bytes": encoded[0], "path": f"img_{i}.png"},
                     "annotation": {"bytes": encoded[1], "path": f"ann_{i}.png"},
                     "scene": f"s{i}"})
        masks.append(mask)
    return rows, masks


# COCO categories, listed out of id order as a file may list them; labels follow sorted ids.
COCO_CATEGORIES = [{"id": 18, "name": "dog", "isthing": 1}, {"id": 1, "name": "person",
                   "isthing": 1}, {"id": 3, "name": "car", "isthing": 1},
                   {"id": 149, "name": "grass", "isthing": 0}]
COCO_LABEL = {1: 0, 3: 1, 18: 2, 149: 3}    # category id -> position in sorted order


def uncompressed_rle(region: np.ndarray) -> dict:
    """COCO's uncompressed RLE: run lengths over the column-major pixels, zeros first."""
    flat = region.ravel(order="F").astype(np.int8)
    edges = np.flatnonzero(np.diff(flat)) + 1
    runs = np.diff(np.concatenate([[0], edges, [flat.size]]))
    counts = ([0] if flat[0] else []) + runs.tolist()
    return {"size": list(region.shape), "counts": counts}


def _coco_regions(rng: np.random.Generator, h: int, w: int) -> list[tuple[int, str, np.ndarray]]:
    """(category id, how it is written, region) of one image, in file order: a small person
    (compressed RLE) listed before the large car polygon it sits on, a crowd of dogs
    (uncompressed RLE) and grass (polygon)."""
    car = np.zeros((h, w), bool)
    y, x = int(rng.integers(2, 6)), int(rng.integers(2, 8))
    car[y:y + 16, x:x + 24] = True
    person = np.zeros((h, w), bool)
    person[y + 4:y + 10, x + 5:x + 9] = True
    person[y + 6, x + 3:x + 11] = True                    # not a rectangle: RLE only
    dogs = np.zeros((h, w), bool)
    dogs[h - 5:h - 1, w - 12:w - 2:2] = True              # several bits: a crowd
    grass = np.zeros((h, w), bool)
    grass[h - 4:h, 0:10] = True
    return [(1, "rle", person), (3, "polygon", car), (18, "crowd", dogs), (149, "polygon", grass)]


def coco_tree(root: Path, kind: str = "instances", seed: int = 0) -> dict[str, np.ndarray]:
    """annotations/{kind}_{train,val}2017.json beside train2017/ and val2017/ (panoptic: and
    the PNG folders); returns image stem -> the labels the rule of curate.io.layouts.coco
    gives (instances: 0 background, categories 1..K; panoptic and stuff: 0..K-1, void K)."""
    from pycocotools import mask as coco_mask

    rng = np.random.default_rng(seed)
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    written, h, w, next_id = {}, 30, 40, 1
    void = len(COCO_LABEL)
    for split, count in (("train2017", 4), ("val2017", 2)):
        images, anns = [], []
        (root / split).mkdir(exist_ok=True)
        if kind == "panoptic":
            (root / "annotations" / f"panoptic_{split}").mkdir(exist_ok=True)
        for k in range(count):
            image_id = 100 * (split == "val2017") + k + 7
            stem = f"{image_id:012d}"
            Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(
                root / split / f"{stem}.jpg", quality=95)
            images.append({"id": image_id, "file_name": f"{stem}.jpg", "height": h, "width": w})
            regions = _coco_regions(rng, h, w) if k < count - 1 else []   # last: none
            expected = np.full((h, w), 0 if kind == "instances" else void, np.uint8)
            offset = 1 if kind == "instances" else 0
            for _, _, region, cat in sorted(
                    ((-r.sum(), i, r, c) for i, (c, _, r) in enumerate(regions)),
                    key=lambda t: t[:2]):
                expected[region] = COCO_LABEL[cat] + offset
            written[stem] = expected
            if kind == "panoptic":
                ids = np.zeros((h, w), np.uint32)
                labels_ = np.full((h, w), void, np.uint8)
                segments = []
                for cat, _, region in regions:        # panoptic segments do not overlap
                    free = region & (ids == 0)
                    ids[free], labels_[free] = next_id, COCO_LABEL[cat]
                    segments.append({"id": next_id, "category_id": cat,
                                     "iscrowd": int(cat == 18), "area": int(free.sum())})
                    next_id += 1 + 300                # ids past 255 use G and B too
                written[stem] = labels_
                rgb = np.stack([ids % 256, ids // 256 % 256, ids // 65536], -1).astype(np.uint8)
                Image.fromarray(rgb).save(root / "annotations" / f"panoptic_{split}" /
                                          f"{stem}.png")
                anns.append({"image_id": image_id, "file_name": f"{stem}.png",
                             "segments_info": segments})
                continue
            for cat, how, region in regions:
                if how == "polygon":
                    ys, xs = np.nonzero(region)
                    x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
                    segmentation = [[int(v) for v in (x0, y0, x1, y0, x1, y1, x0, y1)]]
                elif how == "rle":
                    encoded = coco_mask.encode(np.asfortranarray(region.astype(np.uint8)))
                    segmentation = {"size": [h, w], "counts": encoded["counts"].decode()}
                else:
                    segmentation = uncompressed_rle(region)
                anns.append({"id": next_id, "image_id": image_id, "category_id": cat,
                             "segmentation": segmentation, "iscrowd": int(how == "crowd"),
                             "area": int(region.sum()), "bbox": [0, 0, 1, 1]})
                next_id += 1
        (root / "annotations" / f"{kind}_{split}.json").write_text(json.dumps(
            {"images": images, "annotations": anns, "categories": COCO_CATEGORIES}))
    return written
