"""Raw inputs, pair by pair: an AN2DL-style .npz or an images/ + masks/ folder, read with the
same decoders, pairing and limits as `curate` reads them (`segment evaluate` and `predict`
score and predict on raw inputs through this module).

A folder's files pair by stem, the first file of a stem (in sorted order) winning; images
decode as curate decodes them (palette and 1-bit images to gray, 16-bit scaled to 8 bits,
the decompression-bomb limit); masks keep their raw values (palette indices are labels).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from curate.io.contract import IMAGE_SUFFIXES
from curate.io.errors import InputError
from curate.io.image_files import files_by_stem, safe_id, unique_ids, read_image, read_mask
from curate.io.npz import read_npz_pairs


@dataclass
class RawPairs:
    """ids; images (H, W) or (H, W, 3) uint8 as decoded; raw masks (H, W) uint8 or None."""

    ids: list[str]
    images: list[np.ndarray]
    masks: list[np.ndarray] | None
    notes: list[str] = field(default_factory=list)


def raw_kind(path: str | Path) -> str | None:
    """'an .npz file' or 'an images/ + masks/ folder' for a raw input; None otherwise."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".npz":
        return "an .npz file"
    if path.is_dir() and not (path / "dataset.json").exists() and (path / "images").is_dir():
        return "an images/ + masks/ folder"
    return None


def check_exists(path: str | Path) -> None:
    """Refuse a path that does not exist, naming the inputs that would do."""
    if not Path(path).exists():
        raise InputError(f"{path} does not exist; expected a dataset folder written by curate, "
                         "an .npz file, or a folder with images/ and masks/")


def read_raw(path: str | Path, need_masks: bool = True) -> RawPairs:
    """A raw input (see raw_kind); need_masks=False also takes images/ alone, or an npz's
    unlabelled 'test_set' (its ids are then the indices, as the course's Kaggle layout has)."""
    path = Path(path)
    if raw_kind(path) is None:
        raise InputError(f"{path} is neither an .npz file nor a folder with images/ and masks/")
    if path.is_file():
        return _read_npz(path, need_masks)
    return _read_folder(path, need_masks)


def _read_npz(path: Path, need_masks: bool) -> RawPairs:
    pairs = read_npz_pairs(path, need_masks)
    images, masks = pairs.images, pairs.masks
    if images.ndim not in (3, 4):
        raise InputError(f"{path}: images must be uint8 (N, H, W) or (N, H, W, 3), "
                         f"got {images.dtype} {images.shape}")
    if masks is not None and masks.shape != images.shape[:3]:
        raise InputError(f"{path}: masks must be uint8 (N, H, W) matching the images "
                         f"{images.shape[:3]}, got {masks.dtype} {masks.shape}")
    ids = [str(i) for i in range(len(images))]
    if pairs.names is not None:
        names = [Path(str(n)).stem for n in pairs.names]
        ids = names if len(set(names)) == len(images) else ids
    return RawPairs(ids, list(images), None if masks is None or not need_masks else list(masks))


def _read_folder(path: Path, need_masks: bool) -> RawPairs:
    image_files = files_by_stem(path / "images")
    masks_dir = path / "masks"
    mask_files = files_by_stem(masks_dir) if masks_dir.is_dir() else {}
    stems = sorted(set(image_files) & set(mask_files)) if need_masks else sorted(image_files)
    if not stems:
        raise InputError(f"{path}/images and {path}/masks hold no pairs with the same file stem "
                         f"({', '.join(IMAGE_SUFFIXES)}); expected images/a.png with masks/a.png")
    notes = []
    unpaired = sorted(set(image_files) ^ set(mask_files)) if need_masks else []
    if unpaired:
        notes.append(f"{len(unpaired)} file(s) without a partner skipped "
                     f"(e.g. {', '.join(unpaired[:3])})")
    images = [read_image(image_files[s]) for s in stems]
    masks = [read_mask(mask_files[s]) for s in stems] if need_masks else None
    for s, image, mask in zip(stems, images, masks or ()):
        if image.shape[:2] != mask.shape:
            raise InputError(f"{path}: image {s} is {image.shape[1]}x{image.shape[0]} but its "
                             f"mask is {mask.shape[1]}x{mask.shape[0]}; pairs must have one size")
    ids = unique_ids([safe_id(s) for s in stems])
    return RawPairs(ids, images, masks, notes)
