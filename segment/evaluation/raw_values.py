"""Predicted labels written back as the raw mask values they were read from (e.g. 0/255 for a
binary dataset read as 0/1): the inverse of the label map a dataset folder was read with, which
its dataset.json keeps in the history's 'read' entry."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from segment.errors import InputError
from segment.model.checkpoints import Checkpoint


def read_label_map(root: Path) -> dict[int, int]:
    """RAW -> LABEL of the dataset folder `root` ({} when it was read without a map)."""
    meta = json.loads((root / "dataset.json").read_text())
    found: dict[int, int] = {}
    for entry in meta.get("history", []):
        if entry.get("command") == "read":
            found.update({int(raw): int(label) for raw, label in
                          (entry.get("options", {}).get("label_map") or {}).items()})
    return found


def inverse_lut(label_map: dict[int, int], num_classes: int, where: Path) -> np.ndarray:
    """(256,) uint8: label -> the one raw value read as it; values the map left out kept their
    number. Refused when a label came from several raw values (a merge) or from none."""
    lut = np.arange(256, dtype=np.uint8)
    for label in range(num_classes):
        sources = sorted(raw for raw, target in label_map.items() if target == label)
        if len(sources) > 1:
            raise InputError(
                f"--raw-values: class {label} was read from raw values {', '.join(map(str, sources))} "
                f"(merged by the label map of {where}), so its raw value is ambiguous; write "
                "class labels (leave out --raw-values)")
        if sources:
            lut[label] = sources[0]
        elif label in label_map:
            raise InputError(
                f"--raw-values: no raw value was read as class {label} (the label map of {where} "
                f"sends raw {label} to {label_map[label]}), so it has none to write back; write "
                "class labels (leave out --raw-values)")
    return lut


def raw_value_lut(source: Path, saved: Checkpoint) -> np.ndarray:
    """The inverse map of `source` when it is a dataset folder, else of the dataset the
    checkpoint was trained on."""
    root = source if (source / "dataset.json").is_file() else Path(saved.config["data"])
    if not (root / "dataset.json").is_file():
        raise InputError(
            f"--raw-values needs the label map of a dataset folder: {source} is not one and the "
            f"checkpoint's training dataset {root} is not there; predict a dataset folder")
    return inverse_lut(read_label_map(root), saved.meta.num_classes, root)
