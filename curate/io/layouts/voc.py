"""Pascal VOC: JPEGImages/ beside SegmentationClass/ (palette PNGs whose indices are the
labels, 255 the void border), with ImageSets/Segmentation/*.txt naming the split of each pair.

The class names are VOC's own (from the VOC devkit), or those of a labelmap.txt beside the
folders (Datumaro's and CVAT's name:r,g,b:: file, row k = class k, as `curate export --to voc`
writes it).
The void value 255 becomes one more class, 'void', ignored in metrics, so that labels stay
0..K-1 and an export can send it back to 255.
"""

from __future__ import annotations

from pathlib import Path

from curate.io.contract import IMAGE_SUFFIXES
from curate.io.errors import InputError
from curate.io.image_files import Problem
from curate.io.layouts import FoundPairs, LayoutOptions, stem_id
from curate.io.layouts.colours import read_table

CLASS_NAMES = ["background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car",
               "cat", "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person",
               "pottedplant", "sheep", "sofa", "train", "tvmonitor"]
VOID = 255
# The list files of ImageSets/Segmentation that name a split; trainval is their union.
SPLIT_LISTS = {"train": "train", "val": "val", "test": "test"}


def root(path: Path) -> Path | None:
    """The VOC tree at `path`, or one or two levels down (VOCdevkit/VOC2012)."""
    for candidate in (path, *sorted(path.glob("VOC*")), *sorted(path.glob("*/VOC*"))):
        if (candidate / "JPEGImages").is_dir() and (candidate / "SegmentationClass").is_dir():
            return candidate
    return None


def detect(path: Path) -> str | None:
    found = root(path) if path.is_dir() else None
    if found is None:
        return None
    where = "" if found == path else f" (in {found.relative_to(path)})"
    return f"a Pascal VOC tree{where}: JPEGImages/ beside SegmentationClass/"


def find(path: Path, options: LayoutOptions, why: str) -> FoundPairs:
    tree = root(path)
    if tree is None:
        raise InputError(f"{path} is not a Pascal VOC tree: expected JPEGImages/ and "
                         "SegmentationClass/ in it (or in VOCdevkit/VOC20xx below it).")
    images = {f.stem: f for f in sorted((tree / "JPEGImages").iterdir())
              if f.suffix.lower() in IMAGE_SUFFIXES}
    masks = {f.stem: f for f in sorted((tree / "SegmentationClass").iterdir())
             if f.suffix.lower() == ".png"}
    problems = [Problem(f"SegmentationClass/{m.name}", "no image with the same stem in "
                        "JPEGImages/") for s, m in masks.items() if s not in images]
    stems = [s for s in masks if s in images]
    split = _source_split(tree, set(images), set(masks))
    listed = sum(1 for s in stems if split.get(s))
    rel = tree.relative_to(path) if tree != path else Path()
    note = (f"{len(stems):,} images with a class mask of "
            f"{len(images):,} in JPEGImages/ (the others have no mask and are left out)"
            + (f"; {listed:,} are in the ImageSets/Segmentation lists, kept as source_split"
               if split else "")
            + ("; class names from labelmap.txt" if (tree / "labelmap.txt").is_file() else "")
            + ". Palette indices are labels; the void value 255 becomes "
            "class 'void'.")
    return FoundPairs(
        name="voc", note=note,
        files=[(images[s], masks[s]) for s in stems], ids=[stem_id(s) for s in stems],
        sources=[str(rel / "JPEGImages" / images[s].name) for s in stems],
        columns={"source_split": [split.get(s, "") for s in stems]} if split else {},
        class_names=_class_names(tree), void=VOID, problems=problems)


def _class_names(tree: Path) -> list[str]:
    table = tree / "labelmap.txt"
    return read_table(table).names if table.is_file() else CLASS_NAMES


def _source_split(tree: Path, images: set[str], masks: set[str]) -> dict[str, str]:
    """stem -> train/val/test from ImageSets/Segmentation; a list naming a pair that is not
    there is an error (the tree is incomplete, or the list belongs to another tree)."""
    lists = tree / "ImageSets" / "Segmentation"
    split: dict[str, str] = {}
    for name, label in SPLIT_LISTS.items():
        listed = lists / f"{name}.txt"
        if not listed.is_file():
            continue
        stems = [line.split()[0] for line in listed.read_text().splitlines() if line.strip()]
        missing = [s for s in stems if s not in images or (label != "test" and s not in masks)]
        if missing:
            raise InputError(
                f"{listed} names {len(missing):,} pair(s) the tree lacks (no image in "
                f"JPEGImages/ or no mask in SegmentationClass/), e.g. {', '.join(missing[:5])}."
                " Restore those files, or remove the list to read every pair without a "
                "source split; nothing was written.")
        for s in stems:
            split.setdefault(s, label)
    return split
