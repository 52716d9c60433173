"""Pascal VOC: JPEGImages/ beside SegmentationClass/ (palette PNGs whose indices are the
labels, 255 the void border), with ImageSets/Segmentation/*.txt naming the split of each pair.

The class names are VOC's own (from the VOC devkit) when the masks hold no label above 20, or
those of a labelmap.txt in the tree (name:r,g,b:parts:actions, as CVAT and Datumaro export
VOC; row k is class k). Masks are palette PNGs; RGB masks (Datumaro's export) are read through
the labelmap's colours, or VOC's colour map where it gives none. The void value 255 becomes
one more class, 'void', ignored in metrics, so that labels stay 0..K-1 and an export can send
it back to 255.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from PIL import Image

from curate.io.contract import IMAGE_SUFFIXES
from curate.io.errors import InputError
from curate.io.image_files import Problem, read_mask
from curate.io.layouts.colours import ColourTable
from curate.io.layouts.found import FoundPairs, LayoutOptions, stem_id

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
    names, table = colour_table(tree)
    note = (f"{len(stems):,} images with a class mask of "
            f"{len(images):,} in JPEGImages/ (the others have no mask and are left out)"
            + (f"; {listed:,} are in the ImageSets/Segmentation lists, kept as source_split"
               if split else "") + ". Palette indices are labels (RGB masks: their colour in "
            + ("labelmap.txt or " if table.path != "VOC's colour map" else "")
            + "VOC's colour map)"
            + (f", named by labelmap.txt ({len(names)} classes)" if names != CLASS_NAMES else "")
            + "; the void value 255 becomes class 'void'.")
    return FoundPairs(
        name="voc", note=note,
        files=[(images[s], masks[s]) for s in stems], ids=[stem_id(s) for s in stems],
        sources=[str(rel / "JPEGImages" / images[s].name) for s in stems],
        columns={"source_split": [split.get(s, "") for s in stems]} if split else {},
        class_names=names, void=VOID, problems=problems,
        decode_mask=functools.partial(decode_mask, table=table))


def voc_colour(k: int) -> tuple[int, int, int]:
    """Colour k of VOC's colour map (the devkit's bitget map): bits 0, 1, 2 of k go to the
    top bits of red, green, blue, the next three to the next bits, and so on."""
    rgb = [0, 0, 0]
    for shift in range(7, -1, -1):
        for channel in range(3):
            rgb[channel] |= ((k >> channel) & 1) << shift
        k >>= 3
    return rgb[0], rgb[1], rgb[2]


def colour_table(tree: Path) -> tuple[list[str], ColourTable]:
    """The class names (labelmap.txt's, else VOC's) and the colours of RGB masks: row k is
    labelmap.txt's colour of class k where it gives one, else VOC's colour k (255: void)."""
    names, given = list(CLASS_NAMES), {}
    labelmap = tree / "labelmap.txt"
    if labelmap.is_file():
        names = []
        for line in labelmap.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            name, _, rest = line.partition(":")
            colour = rest.split(":")[0].strip()
            if colour:
                try:
                    given[len(names)] = tuple(int(v) for v in colour.split(","))
                except ValueError:
                    raise InputError(f"{labelmap}: a row is not name:r,g,b:: ({line!r})."
                                     ) from None
            names.append(name.strip())
    colours = np.array([given.get(k, voc_colour(k)) for k in range(256)], np.uint8)
    return names, ColourTable([str(k) for k in range(256)], colours,
                              str(labelmap) if given else "VOC's colour map")


def decode_mask(path: Path, table: ColourTable) -> np.ndarray:
    """(H, W) uint8 labels: palette or gray masks as they are, RGB masks through `table`."""
    with Image.open(path) as im:
        colour = im.mode in ("RGB", "RGBA")
    return table.decode(path) if colour else read_mask(path)


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
