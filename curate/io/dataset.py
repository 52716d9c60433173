"""The in-memory dataset: image/mask pairs, their ids and sources, and what could not be read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from curate.io.contract import FORMAT, FORMAT_VERSION, SPLITS  # noqa: F401  (SPLITS: here too)
from curate.io.image_files import Problem
from curate.io.label_maps import MaskReading
from curate.io.pixels import take
from curate.io.spill import taken

AI4MARS_CLASS_NAMES = ["background", "soil", "bedrock", "sand", "big rock"]


@dataclass(frozen=True)
class Dataset:
    """Image/mask pairs.

    `images` and `masks` are lists of arrays, or for a folder too large for memory
    LazyPixels that decode a file at each access (curate.io.pixels). images[i] is (H, W) or
    (H, W, 3) uint8; masks[i] is (H, W) uint8 holding class labels
    after any label map was applied. `manifest` is the per-pair table, one row per pair in
    this order: `load_dataset` always sets it (a curated folder's own, with split, origin and
    provenance columns, else a pixel scan); it is None only for a Dataset built by hand.
    Steps return new datasets and never change one they are given: the dataclass is frozen,
    so rebinding a field raises (dataclasses.replace makes the changed copy).
    """

    ids: list[str]
    images: Sequence[np.ndarray]     # a list, or a LazyPixels
    masks: Sequence[np.ndarray]
    sources: list[str]
    num_classes: int
    class_names: list[str]
    ignore_index: int | None = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    manifest: pd.DataFrame | None = None
    history: list[dict] = field(default_factory=list)
    origin_path: str = ""
    # (image PNG, mask PNG) per pair when its pixels are exactly those files of a curated
    # folder, so a writer may copy the bytes instead of encoding again; else None. For a
    # raw folder, curate.data.linking.with_source_files fills it for --files link, with None for
    # the image or mask whose pixels reading changed.
    files: list[tuple[str, str] | None] | None = None
    # Why ignore_index is what it is (curate/io/ignore_class.py), for dataset.json and the card.
    ignore_reason: str = ""
    # How this read made labels of the input's raw mask values; corrected masks read later
    # (--mask-fixes) go through the same map and checks. The default: values are labels.
    reading: MaskReading = field(default_factory=MaskReading)
    # Per-pair columns a layout knows beyond the pixels (source_split, source_group), one
    # list per column in pair order; a fresh manifest carries them (curate.io.layouts).
    columns: dict[str, list] = field(default_factory=dict)

    def file_pair(self, i: int) -> tuple[str, str] | None:
        return self.files[i] if self.files is not None else None

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, keep: np.ndarray | list[int]) -> "Dataset":
        """A new Dataset with only the pairs at positions `keep` (in that order)."""
        keep = [int(i) for i in keep]
        manifest = None
        if self.manifest is not None:
            manifest = taken(self.manifest, keep)     # iloc, large digests kept on disk
        return Dataset(
            ids=[self.ids[i] for i in keep],
            images=take(self.images, keep),
            masks=take(self.masks, keep),
            sources=[self.sources[i] for i in keep],
            num_classes=self.num_classes,
            class_names=list(self.class_names),
            ignore_index=self.ignore_index,
            problems=list(self.problems),
            notes=list(self.notes),
            manifest=manifest,
            history=list(self.history),
            origin_path=self.origin_path,
            files=[self.file_pair(i) for i in keep],
            ignore_reason=self.ignore_reason,
            reading=self.reading,
            columns={name: [values[i] for i in keep] for name, values in self.columns.items()},
        )

    def meta(self) -> dict:
        """The dataset.json content for this dataset (docs/contract.md, the folder contract)."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "num_classes": self.num_classes,
            "class_names": list(self.class_names),
            "ignore_index": self.ignore_index,
            **({"ignore_reason": self.ignore_reason} if self.ignore_reason else {}),
            "history": list(self.history),
        }


def default_class_names(num_classes: int) -> list[str]:
    """AI4Mars names when there are five classes, else 'class 0', 'class 1', ..."""
    if num_classes == len(AI4MARS_CLASS_NAMES):
        return list(AI4MARS_CLASS_NAMES)
    return [f"class {k}" for k in range(num_classes)]


def to_gray(image: np.ndarray) -> np.ndarray:
    """(H, W) uint8 luminance of an (H, W) or (H, W, 3) uint8 image (ITU-R 601 weights)."""
    if image.ndim == 2:
        return image
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.clip(image[..., :3].astype(np.float32) @ weights + 0.5, 0, 255).astype(np.uint8)
