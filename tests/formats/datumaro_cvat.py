"""Run with datumaro's own Python (tests/tool_venvs.py builds that virtual environment):
read a CVAT "Segmentation mask 1.1" tree (Datumaro's voc_segmentation, which CVAT's format
is) as Datumaro reads it, write each item's labels by name to truth.npz, repaint one block of
the first item as `relabel`, and export the result as Segmentation mask 1.1 again.

    python datumaro_cvat.py TREE OUT RELABEL
"""

import sys
from pathlib import Path

import numpy as np
from datumaro.components.annotation import AnnotationType, Mask
from datumaro.components.dataset import Dataset


def labels_of(item, names) -> np.ndarray:
    """(H, W) label indices of an item's class masks; -1 where none paints."""
    out = None
    for ann in item.annotations:
        if isinstance(ann, Mask):
            if out is None:
                out = np.full(ann.image.shape, -1, np.int64)
            out[ann.image.astype(bool)] = ann.label
    return out


def main(tree: Path, out: Path, relabel: str) -> None:
    dataset = Dataset.import_from(str(tree), "voc_segmentation")
    names = [c.name for c in dataset.categories()[AnnotationType.label]]
    truth = {item.id: labels_of(item, names) for item in dataset}
    np.savez(out / "truth.npz", names=np.array(names), order=np.array(list(truth)), **truth)
    first = next(iter(dataset))
    target = names.index(relabel)
    block = np.zeros_like(truth[first.id], dtype=bool)
    block[4:20, 8:40] = True
    kept = [] if any(isinstance(a, Mask) and a.label == target for a in first.annotations) \
        else [Mask(image=block, label=target)]
    for ann in first.annotations:
        if isinstance(ann, Mask):
            image = ann.image.astype(bool) & ~block
            if ann.label == target:
                image |= block
            kept.append(Mask(image=image, label=ann.label, id=ann.id, group=ann.group))
        else:
            kept.append(ann)
    dataset.put(first.wrap(annotations=kept))
    dataset.export(str(out / "export"), "voc_segmentation", save_media=False,
                   apply_colormap=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
