"""Run with datumaro's own Python (tests/formats/test_independent_writers.py builds that
virtual environment): build a small dataset in datumaro's API and export it in the formats
named on the command line. Writes truth.npz beside the exports: each item's labels as
datumaro was given them, and the label names.

    python datumaro_export.py OUT voc_segmentation cityscapes coco_instances coco_panoptic
"""

import sys
from pathlib import Path

import numpy as np
from datumaro.components.annotation import AnnotationType, LabelCategories, Mask
from datumaro.components.dataset import Dataset
from datumaro.components.dataset_base import DatasetItem
from datumaro.components.media import Image

NAMES = ["background", "road", "car", "person", "dog"]
# item id (Cityscapes keeps a city folder in it) -> subset
ITEMS = {"aachen/aachen_000000_000019": "train", "aachen/aachen_000000_000020": "train",
         "bremen/bremen_000003_000005": "train", "lindau/lindau_000001_000007": "val"}
EXPORT_OPTIONS = {"coco_instances": {"segmentation_mode": "mask"},
                  "coco_panoptic": {}, "voc_segmentation": {}, "cityscapes": {}}


def labels(rng, h=24, w=32):
    """Blocks of every class, one small object lying on a larger one (a person on a car)."""
    mask = np.zeros((h, w), np.uint8)
    mask[int(rng.integers(12, 16)):, :] = 1                        # road
    y, x = int(rng.integers(2, 6)), int(rng.integers(2, 8))
    mask[y:y + 10, x:x + 16] = 2                                   # car
    mask[y + 3:y + 7, x + 4:x + 7] = 3                             # person, on the car
    mask[h - 5:h - 1, w - 9:w - 2] = 4                             # dog
    return mask


def main(out: Path, formats: list[str]) -> None:
    rng = np.random.default_rng(0)
    pixels = {item_id: labels(rng) for item_id in ITEMS}
    for name in formats:
        dataset(pixels, rng, city=name == "cityscapes").export(
            str(out / name), name, save_media=True, **EXPORT_OPTIONS.get(name, {}))
    np.savez(out / "truth.npz", names=np.array(NAMES),
             **{item_id.split("/")[-1]: mask for item_id, mask in pixels.items()})


def dataset(pixels: dict, rng, city: bool) -> Dataset:
    """The items with one mask per class present; ids keep their city folder only for
    Cityscapes (VOC and COCO trees are flat)."""
    items = []
    for item_id, mask in pixels.items():
        image = rng.integers(0, 256, (*mask.shape, 3), dtype=np.uint8)
        anns = [Mask(image=mask == k, label=k, id=k, group=k) for k in range(1, len(NAMES))
                if (mask == k).any()]
        items.append(DatasetItem(id=item_id if city else item_id.split("/")[-1],
                                 subset=ITEMS[item_id], media=Image.from_numpy(image),
                                 annotations=anns))
    return Dataset.from_iterable(
        items, categories={AnnotationType.label: LabelCategories.from_iterable(NAMES)})


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
