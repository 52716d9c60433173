"""Run with datumaro's own Python (tests/tool_venvs.py builds that virtual environment): import
a tree curate exported, in the format named, and write what datumaro reads: per item, the
class name of every pixel (its masks painted in file order; '' where none lies).

    python datumaro_import.py TREE FORMAT OUT.npz
"""

import sys

import numpy as np
from datumaro.components.annotation import AnnotationType, Mask
from datumaro.components.dataset import Dataset


def main(tree: str, fmt: str, out: str) -> None:
    dataset = Dataset.import_from(tree, fmt)
    names = [c.name for c in dataset.categories()[AnnotationType.label]]
    pixels = {}
    for item in dataset:
        masks = [a for a in item.annotations if isinstance(a, Mask)]
        if not masks:
            continue
        shape = masks[0].image.shape
        painted = np.full(shape, "", dtype=object)
        for mask in masks:
            painted[mask.image.astype(bool)] = names[mask.label]
        pixels[item.id.split("/")[-1]] = painted.astype(str)
    np.savez(out, **pixels)


if __name__ == "__main__":
    main(*sys.argv[1:])
