"""Cityscapes: leftImg8bit/{split}/{city}/*_leftImg8bit.png beside gtFine/ (or gtCoarse/)
{split}/{city}/*_gtFine_labelIds.png.

The label ids become the 19 train ids of the benchmark, and every other id (unlabeled, ego
vehicle, parking, guard rail, ...) becomes class 19, 'void', ignored in metrics: the table
below is the one in the Cityscapes team's cityscapesScripts (helpers/labels.py). Where a
*_labelTrainIds.png exists it is read as it is (255 = void). The colour, instance and polygon
files are not read. The split folder is the source split; city and sequence number are the
source group, so the frames of one drive stay in one split.

Datumaro writes label_colors.txt beside leftImg8bit/ ('r g b name' per line): when its names
are not Cityscapes' own 34, the label ids are its rows (row k is class k, named by it) and the
table above does not apply. Its trees may also leave out the city folder.
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
# Cityscapes' label ids 0..33 by name (spaces dropped, as Datumaro's label_colors.txt writes them)
LABEL_NAMES = ("unlabeled egovehicle rectificationborder outofroi static dynamic ground road "
               "sidewalk parking railtrack building wall fence guardrail bridge tunnel pole "
               "polegroup trafficlight trafficsign vegetation terrain sky person rider car "
               "truck bus caravan trailer train motorcycle bicycle").split()
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
    images = sorted((path / "leftImg8bit").glob(f"*/*/*{IMAGE_SUFFIX}.png")) or sorted(
        (path / "leftImg8bit").glob(f"*/*{IMAGE_SUFFIX}.png"))     # no city folder
    if not images:
        raise InputError(f"{path}/leftImg8bit holds no {{split}}/{{city}}/*{IMAGE_SUFFIX}.png "
                         "images.")
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
        folder = image.parent.relative_to(path / "leftImg8bit")     # split[/city]
        split_name = folder.parts[0]
        mask = gt / folder / f"{stem}{suffix}.png"
        if not mask.is_file():
            problems.append(Problem(str(image.relative_to(path)), f"no {mask.name} in "
                                    f"{kind}/{folder}/"))
            continue
        files.append((image, mask))
        ids.append(stem_id(stem))
        sources.append(str(image.relative_to(path)))
        split.append(SPLITS.get(split_name, split_name))
        group.append("_".join(stem.split("_")[:2]))       # city_sequence
    if not files:
        raise InputError(f"{path}: no image of leftImg8bit/ has its {suffix}.png in {kind}/.")
    found = FoundPairs(
        name="cityscapes", note="", files=files, ids=ids, sources=sources,
        columns={"source_split": split, "source_group": group}, problems=problems)
    own = _own_labels(path)
    if own is not None and not train_ids:
        found.class_names, found.num_classes = own, len(own)
        read_as = f"label ids are the {len(own)} rows of label_colors.txt, named by it"
    else:
        _cityscapes_classes(found, train_ids)
        read_as = ("train ids as they are (labelTrainIds; 255 is void)" if train_ids else
                   "label ids mapped to the 19 train ids; every other id is void")
    found.note = (f"{len(files):,} pairs from {kind}, {read_as}; the split folders give "
                  "source_split and city + sequence give source_group.")
    return found


def _own_labels(path: Path) -> list[str] | None:
    """The names of label_colors.txt (Datumaro's 'r g b name' rows) where they are not
    Cityscapes' own ids; None where there is no such file or it names Cityscapes' ids."""
    table = path / "label_colors.txt"
    if not table.is_file():
        return None
    names = []
    for line in table.read_text(encoding="utf-8").splitlines():
        words = line.split()
        if words and not words[0].startswith("#"):
            names.append(" ".join(words[3:] if len(words) > 3 and all(
                w.isdigit() for w in words[:3]) else words))
    if [n.replace(" ", "").lower() for n in names[:len(LABEL_NAMES)]] == LABEL_NAMES:
        return None
    return names


def _cityscapes_classes(found: FoundPairs, train_ids: bool) -> None:
    label_map = {255: VOID_CLASS} if train_ids else {
        raw: TRAIN_IDS.get(raw, VOID_CLASS) for raw in range(34)}
    found.class_names, found.label_map = CLASS_NAMES + ["void"], label_map
    found.num_classes, found.ignore_index = VOID_CLASS + 1, VOID_CLASS
    found.ignore_reason = (f"Class {VOID_CLASS} (void) is ignored in metrics: Cityscapes' "
                           "ids outside the 19 train classes. Pass --ignore-index -1 to score "
                           "it too.")

