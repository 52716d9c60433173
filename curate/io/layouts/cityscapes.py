"""Cityscapes: leftImg8bit/{split}/{city}/*_leftImg8bit.png beside gtFine/ (or gtCoarse/)
{split}/{city}/*_gtFine_labelIds.png.

The label ids become the 19 train ids of the benchmark, and every other id (unlabeled, ego
vehicle, parking, guard rail, ...) becomes class 19, 'void', ignored in metrics: the table
below is the one in the Cityscapes team's cityscapesScripts (helpers/labels.py). Where a
*_labelTrainIds.png exists it is read as it is (255 = void). The colour, instance and polygon
files are not read. The split folder is the source split; city and sequence number are the
source group, so the frames of one drive stay in one split.
"""

from __future__ import annotations

from pathlib import Path

from curate.io.errors import InputError
from curate.io.image_files import Problem
from curate.io.layouts.found import FoundPairs, LayoutOptions, stem_id

CLASS_NAMES = ["road", "sidewalk", "building", "wall", "fence", "pole", "traffic light",
               "traffic sign", "vegetation", "terrain", "sky", "person", "rider", "car", "truck",
               "bus", "train", "motorcycle", "bicycle"]
VOID_CLASS = len(CLASS_NAMES)  # 19
# label id -> train id (cityscapesScripts helpers/labels.py); ids not listed are void
TRAIN_IDS = {7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10,
             24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18}
IMAGE_SUFFIX = "_leftImg8bit"
SPLITS = {"train": "train", "val": "val", "test": "test", "train_extra": "train"}


def detect(path: Path) -> str | None:
    if (path / "leftImg8bit").is_dir():
        return "a Cityscapes tree: leftImg8bit/" + (
            " beside gtFine/" if (path / "gtFine").is_dir() else
            " beside gtCoarse/" if (path / "gtCoarse").is_dir() else "")
    return None


def find(path: Path, options: LayoutOptions, why: str) -> FoundPairs:
    gt = next((path / n for n in ("gtFine", "gtCoarse") if (path / n).is_dir()), None)
    images = sorted((path / "leftImg8bit").glob(f"*/*/*{IMAGE_SUFFIX}.png"))
    if not images:
        raise InputError(f"{path}/leftImg8bit holds no */*/*{IMAGE_SUFFIX}.png images.")
    if gt is None:
        raise InputError(f"{path} holds leftImg8bit/ ({len(images):,} images) but neither "
                         "gtFine/ nor gtCoarse/: there are no masks to read. Unpack "
                         "gtFine_trainvaltest.zip beside leftImg8bit/.")
    kind = gt.name
    train_ids = any(gt.glob(f"*/*/*_{kind}_labelTrainIds.png"))
    suffix = f"_{kind}_labelTrainIds" if train_ids else f"_{kind}_labelIds"
    files, ids, sources, split, group, problems = [], [], [], [], [], []
    for image in images:
        stem = image.name[:-len(f"{IMAGE_SUFFIX}.png")]
        split_name, city = image.parent.parent.name, image.parent.name
        mask = gt / split_name / city / f"{stem}{suffix}.png"
        if not mask.is_file():
            problems.append(Problem(str(image.relative_to(path)), f"no {mask.name} in "
                                    f"{kind}/{split_name}/{city}/"))
            continue
        files.append((image, mask))
        ids.append(stem_id(stem))
        sources.append(str(image.relative_to(path)))
        split.append(SPLITS.get(split_name, split_name))
        group.append("_".join(stem.split("_")[:2]))       # city_sequence
    if not files:
        raise InputError(f"{path}: no image of leftImg8bit/ has its {suffix}.png in {kind}/.")
    label_map = {255: VOID_CLASS} if train_ids else {
        raw: TRAIN_IDS.get(raw, VOID_CLASS) for raw in range(34)}
    read_as = ("train ids as they are (labelTrainIds; 255 is void)" if train_ids else
               "label ids mapped to the 19 train ids; every other id is void")
    return FoundPairs(
        name="cityscapes",
        note=(f"{len(files):,} pairs from {kind}, {read_as}; the "
              "split folders give source_split and city + sequence give source_group."),
        files=files, ids=ids, sources=sources,
        columns={"source_split": split, "source_group": group},
        class_names=CLASS_NAMES + ["void"], label_map=label_map, num_classes=VOID_CLASS + 1,
        ignore_index=VOID_CLASS,
        ignore_reason=(f"Class {VOID_CLASS} (void) is ignored in metrics: Cityscapes' ids "
                       "outside the 19 train classes. Pass --ignore-index -1 to score it too."),
        problems=problems)
