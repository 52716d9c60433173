"""Image folders with a label folder beside each: CamVid's train/ + train_labels/ (masks named
<stem>_L.png, colour-coded, with class_dict.csv), images/ + labels/, img/ + ann/, and the like.

Masks pair with images by stem, or by stem plus a suffix such as _L, _mask, _label or _gt. A
split-named pair of folders (train, val or validation, test) gives each pair its source split.
Single-channel masks hold labels (named by a classes.txt beside the folders, one name a line,
where there is one); colour masks need a colour table (curate.io.layouts.colours).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from curate.io.contract import IMAGE_SUFFIXES
from curate.io.errors import InputError
from curate.io.image_files import Problem, is_gray_rgb
from curate.io.layouts.found import (
    FoundPairs, LayoutOptions, class_file_names, ignore_named_void, stem_id,
)
from curate.io.layouts.colours import find_table

MASK_SUFFIXES = ("_gtFine_labelIds", "_labelIds", "_L", "_mask", "_masks", "_label", "_labels",
                 "_gt", "_seg", "_segmentation", "_annotation", "_anno")
LABEL_FOLDER_ENDINGS = ("_labels", "_label", "_masks", "_mask", "_gt", "annot", "_annotations",
                        "_annot")
IMAGE_FOLDERS = ("images", "image", "imgs", "img", "rgb")
LABEL_FOLDERS = ("labels", "label", "masks", "mask", "annotations", "ann", "gt", "targets")
SPLIT_NAMES = {"train": "train", "training": "train", "val": "val", "valid": "val",
               "validation": "val", "test": "test", "testing": "test"}


def folder_pairs(path: Path) -> list[tuple[Path, Path]]:
    """(image folder, label folder) pairs directly in `path`."""
    if not path.is_dir():
        return []
    subs = {p.name: p for p in sorted(path.iterdir()) if p.is_dir()}
    pairs = []
    for name, folder in subs.items():
        for ending in LABEL_FOLDER_ENDINGS:
            if name + ending in subs:
                pairs.append((folder, subs[name + ending]))
                break
    if not pairs:
        images = [subs[n] for n in IMAGE_FOLDERS if n in subs]
        labels = [subs[n] for n in LABEL_FOLDERS if n in subs]
        if images and labels:
            pairs.append((images[0], labels[0]))
    return pairs


def detect(path: Path) -> str | None:
    pairs = folder_pairs(path)
    if not pairs:
        return None
    shown = ", ".join(f"{i.name}/ + {m.name}/" for i, m in pairs)
    return f"image folders with a label folder beside each ({shown})"


def find(path: Path, options: LayoutOptions, why: str) -> FoundPairs:
    pairs = folder_pairs(path)
    if not pairs:
        raise InputError(f"{path} has no image folder with a label folder beside it (e.g. "
                         "train/ + train_labels/, images/ + labels/).")
    files, ids, sources, split, problems = [], [], [], [], []
    for image_folder, mask_folder in pairs:
        found, missing = _pair_files(image_folder, mask_folder)
        problems += [Problem(str(m.relative_to(path)), f"no image in {image_folder.name}/ "
                             "with the same stem") for m in missing]
        label = SPLIT_NAMES.get(image_folder.name.lower(), "")
        for image, mask in found:
            files.append((image, mask))
            ids.append(stem_id(image.stem))
            sources.append(str(image.relative_to(path)))
            split.append(label)
    if not files:
        raise InputError(f"{path}: no mask pairs with an image ({why}); masks pair with "
                         "images by stem, or by stem plus one of " + ", ".join(MASK_SUFFIXES))
    found = FoundPairs(name="sibling", note="", files=files, ids=ids, sources=sources,
                       columns={"source_split": split} if any(split) else {},
                       problems=problems)
    colour = _is_colour(files[0][1])
    table = find_table(path, options.colors) if colour or options.colors else None
    if colour and table is None:
        raise InputError(
            f"{files[0][1]} is a colour-coded mask, and no colour table was found: put "
            f"CamVid's class_dict.csv (name,r,g,b) or a labelmap.txt (name:r,g,b::) in {path}, "
            "or pass --colors FILE.")
    if table is not None:
        found.decode_mask = table.decode
        found.class_names = table.names
        found.num_classes = len(table.names)
        ignore_named_void(found, f"the colour table {Path(table.path).name}")
    names = class_file_names(path) if table is None else None
    if names:
        found.class_names, found.num_classes = names, len(names)
        ignore_named_void(found, "classes.txt")
    kind = (f"colour masks read through {table.path} ({len(table.names)} classes)"
            if table is not None else "single-channel masks whose values are labels"
            + (f", class names from classes.txt ({len(names)} classes)" if names else ""))
    found.note = (f"{len(files):,} pairs, {kind}"
                  + ("; the folder names give the source split" if any(split) else "") + ".")
    return found


def _pair_files(images: Path, masks: Path) -> tuple[list[tuple[Path, Path]], list[Path]]:
    by_stem = {f.stem: f for f in sorted(images.iterdir())
               if f.suffix.lower() in IMAGE_SUFFIXES and not f.name.startswith(".")}
    pairs, missing = [], []
    for mask in sorted(masks.iterdir()):
        if mask.suffix.lower() not in IMAGE_SUFFIXES or mask.name.startswith("."):
            continue
        stem = mask.stem
        image = by_stem.get(stem) or next(
            (by_stem[stem[:-len(s)]] for s in MASK_SUFFIXES
             if stem.endswith(s) and stem[:-len(s)] in by_stem), None)
        if image is None:
            missing.append(mask)
        else:
            pairs.append((image, mask))
    return pairs, missing


def _is_colour(mask: Path) -> bool:
    with Image.open(mask) as im:
        if im.mode in ("L", "P", "1", "I", "I;16", "I;16B", "I;16L"):
            return False
        array = np.asarray(im.convert("RGB"))
    return not is_gray_rgb(array)
