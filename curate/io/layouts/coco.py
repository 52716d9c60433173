"""COCO: annotations/{panoptic,instances,stuff}_{split}.json beside the image folders
(train2017/, val2017/, or images/{split}/), read into semantic masks.

One kind is read, the first present of: panoptic (with its PNG folder), instances, stuff.
Category ids are numbered in sorted order. Instances: label 0 is 'background' (pixels no
annotation covers, and a category named 'background' if there is one), the categories are
1..K. Panoptic and stuff label every pixel by design,
so the categories are 0..K-1 and uncovered pixels (panoptic id 0) are one more class, 'void',
ignored in metrics. The rasterising is in curate.io.layouts.coco_masks; masks are decoded
from 'annotations/<file>.json#<image id>' when a step needs them, from a cached index.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from curate.io.errors import InputError
from curate.io.image_files import Problem
from curate.io.layouts.coco_masks import Index, decode_mask, index, png_folder
from curate.io.layouts.found import FoundPairs, LayoutOptions, stem_id

KINDS = ("panoptic", "instances", "stuff")
JSON_NAME = re.compile(r"^(panoptic|instances|stuff)_(.+)\.json$")
SPLIT_WORDS = {"train": "train", "val": "val", "validation": "val", "valid": "val",
               "test": "test"}
MAX_CLASSES = 255   # masks are uint8


def json_files(path: Path) -> dict[str, list[Path]]:
    """kind -> its JSON files: `path` itself (one JSON), or annotations/ in `path`."""
    if path.is_file():
        files = [path]
    elif (path / "annotations").is_dir():
        files = sorted((path / "annotations").glob("*.json"))
    else:
        return {}
    found: dict[str, list[Path]] = {}
    for file in files:
        match = JSON_NAME.match(file.name)
        if match:
            found.setdefault(match.group(1), []).append(file)
    return found


def detect(path: Path) -> str | None:
    found = json_files(path)
    if not found:
        return None
    names = ", ".join(f.name for files in found.values() for f in files)
    return f"a COCO tree: {names}"


def find(path: Path, options: LayoutOptions, why: str) -> FoundPairs:
    found = json_files(path)
    kind, left_out = _kind(path, found)
    files = found[kind]
    categories = _categories(files)
    order = label_order(kind, categories)
    if len(order) + 1 > MAX_CLASSES:
        raise InputError(f"{files[0].name} has {len(order)} categories; curate's masks hold at "
                         f"most {MAX_CLASSES - 1} classes plus background or void.")
    base = path if path.is_dir() else tree_root(path)
    refs, ids, sources, split, problems, folders = [], [], [], [], [], []
    for file in files:
        table = index(str(file))
        _check_references(file, kind, table, categories)
        folder = image_folder(file, table)
        folders.append(f"{folder.relative_to(base) if folder.is_relative_to(base) else folder}/")
        for image_id, image in table.images.items():
            image_file = folder / image["file_name"]
            if not image_file.is_file():
                problems.append(Problem(str(image_file.relative_to(base)), "no such image "
                                        f"file, named in {file.name}"))
                continue
            if kind == "panoptic" and image_id not in table.annotations:
                problems.append(Problem(str(image_file.relative_to(base)), f"{file.name} has "
                                        "no panoptic annotation for it"))
                continue
            refs.append((image_file, Path(f"{file}#{image_id}")))
            ids.append(stem_id(Path(image["file_name"]).stem))
            sources.append(str(image_file.relative_to(base)))
            split.append(split_of(file))
    if not refs:
        raise InputError(f"{path}: no image named in {', '.join(f.name for f in files)} is "
                         "there to read.")
    named = "" if why.startswith("a COCO tree") else f" of {', '.join(f.name for f in files)}"
    return _found(kind, refs, ids, sources, split, problems, categories, order,
                  f"{named} (images from {', '.join(folders)})", left_out)


def _found(kind, refs, ids, sources, split, problems, categories, order, where,
           left_out) -> FoundPairs:
    names = [categories.get(c, "background") for c in order]
    if kind == "instances":
        class_names, ignore, reason = names, None, ""
        numbering = (f"{len(order) - 1} categories, sorted by id, are labels 1..{len(order) - 1}"
                     ", 0 is background (no annotation" + (", or a category named background"
                                                           if order[0] >= 0 else "")
                     + "); overlaps are painted largest first, so smaller objects stay on top, "
                     "crowd regions with their category")
    else:
        class_names, ignore = [*names, "void"], len(names)
        reason = (f"Class {ignore} (void) is ignored in metrics: pixels no COCO {kind} "
                  "segment covers. Pass --ignore-index -1 to score it too.")
        numbering = (f"{len(order)} categories, sorted by id, are labels 0..{len(order) - 1}; "
                     f"pixels no segment covers are class {ignore}, void")
    note = (f"{len(refs):,} images{where}; {numbering}"
            + ("; the file names give source_split" if any(split) else "")
            + (f"; {left_out}" if left_out else "") + ".")
    return FoundPairs(
        name="coco", note=note, files=refs, ids=ids, sources=sources,
        columns={"source_split": split} if any(split) else {},
        class_names=class_names, num_classes=len(class_names), ignore_index=ignore,
        ignore_reason=reason, problems=problems,
        decode_mask=functools.partial(decode_mask, kind=kind, order=order))


def label_order(kind: str, categories: dict[int, str]) -> tuple[int, ...]:
    """The category id of each label, k -> order[k]: sorted ids; instances put background
    first (a category named 'background', as CVAT and Datumaro add, or -1 for none)."""
    if kind != "instances":
        return tuple(sorted(categories))
    background = [c for c in sorted(categories) if categories[c].lower() == "background"][:1]
    return (*(background or [-1]), *(c for c in sorted(categories) if c not in background))


def _kind(path: Path, found: dict[str, list[Path]]) -> tuple[str, str]:
    """The kind to read, and what was left out and why ('' if nothing)."""
    if not found:
        raise InputError(f"{path} holds no COCO annotation file: expected annotations/"
                         "{panoptic,instances,stuff}_{split}.json (e.g. instances_val2017.json).")
    missing = [f for f in found.get("panoptic", []) if not png_folder(f).is_dir()]
    if missing and len(missing) == len(found.get("panoptic", [])):
        others = [k for k in KINDS[1:] if k in found]
        folder = png_folder(missing[0])
        if not others:
            raise InputError(f"{missing[0].name} has no PNG folder {folder.name}/ beside it: "
                             f"unzip {folder.name}.zip into {folder.parent}/.")
        return others[0], (f"{', '.join(f.name for f in missing)} left out: no PNG folder "
                           f"{folder.name}/ beside it")
    kind = next(k for k in KINDS if k in found)
    others = [f.name for k in KINDS if k != kind for f in found.get(k, [])]
    return kind, (f"{', '.join(others)} not read (one kind at a time: panoptic, then "
                  "instances, then stuff)" if others else "")


def _categories(files: list[Path]) -> dict[int, str]:
    """id -> name over all the JSONs of a kind; one id with two names is an error."""
    merged: dict[int, str] = {}
    for file in files:
        for cat_id, name in index(str(file)).categories.items():
            if merged.setdefault(cat_id, name) != name:
                raise InputError(f"{file.name} names category {cat_id} {name!r}, another JSON "
                                 f"of the tree {merged[cat_id]!r}; the splits must share their "
                                 "categories.")
    return merged


def _check_references(file: Path, kind: str, table: Index, categories: dict[int, str]):
    """Every annotation names an image and a category the JSON has; else nothing is read."""
    for image_id, anns in table.annotations.items():
        for ann in anns:
            where = (f"{file.name}: the annotation of image {image_id}" if kind == "panoptic"
                     else f"{file.name}: annotation {ann.get('id')} (image {image_id})")
            if image_id not in table.images:
                raise InputError(f"{where} names image_id {image_id}, which the JSON's "
                                 "'images' lack. Fix the annotation or add the image; nothing "
                                 "was written.")
            cats = ([s.get("category_id") for s in ann.get("segments_info", [])]
                    if kind == "panoptic" else [ann.get("category_id")])
            unknown = [c for c in cats if c not in categories]
            if unknown:
                raise InputError(f"{where} has category_id {unknown[0]}, which the JSON's "
                                 f"'categories' lack (ids {_ranges(sorted(categories))}). Fix "
                                 "the annotation or add the category; nothing was written.")


def image_folder(file: Path, table: Index) -> Path:
    """The folder holding the images `file` names: COCO's {split}2017/ beside annotations/,
    images/{split}/, images/, or the JSON's own folder; the first holding its first images."""
    root = tree_root(file)
    split = JSON_NAME.match(file.name).group(2) if JSON_NAME.match(file.name) else file.stem
    candidates = [root / split, root / "images" / split, root / "images", file.parent / split,
                  file.parent, root]
    names = [image["file_name"] for image in list(table.images.values())[:5]]
    for folder in candidates:
        if names and any((folder / name).is_file() for name in names):
            return folder
    looked = ", ".join(f"{c}/" for c in dict.fromkeys(candidates))
    raise InputError(f"The images of {file.name} are not found: looked for "
                     f"{names[0] if names else 'its images'} in {looked}. Put the image folder "
                     f"({split}/) beside annotations/.")


def tree_root(file: Path) -> Path:
    """The folder of a COCO tree a JSON belongs to: above annotations/, else its own."""
    return file.parent.parent if file.parent.name == "annotations" else file.parent


def split_of(file: Path) -> str:
    match = JSON_NAME.match(file.name)
    word = re.match(r"[a-z]+", match.group(2).lower()) if match else None
    return SPLIT_WORDS.get(word.group(0), "") if word else ""


def _ranges(ids: list[int]) -> str:
    if len(ids) > 8:
        return f"{', '.join(map(str, ids[:4]))}, ..., {ids[-1]}"
    return ", ".join(map(str, ids))
