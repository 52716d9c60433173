"""Read a curated dataset folder (dataset.json + manifest.csv + PNGs) into arrays, with checks."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image

from segment.errors import InputError

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

SPLITS = ("train", "val", "test")
REQUIRED_COLUMNS = ("id", "image", "mask")


@dataclass
class DatasetInfo:
    """What dataset.json and manifest.csv say about a dataset folder."""

    root: Path
    num_classes: int
    class_names: list[str]
    ignore_index: int | None
    manifest: pd.DataFrame


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise InputError(
            f"{path.parent} is not a dataset folder: {path.name} is missing; "
            "expected the folder written by `curate` (dataset.json, manifest.csv, images/, masks/)"
        )
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not valid JSON: {exc}") from exc


def _class_fields(meta: dict, path: Path) -> tuple[int, list[str], int | None]:
    try:
        num_classes = int(meta["num_classes"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{path} must give num_classes as an integer") from exc
    names = list(meta.get("class_names") or [f"class_{c}" for c in range(num_classes)])
    if len(names) != num_classes:
        raise InputError(f"{path}: class_names has {len(names)} names, num_classes is {num_classes}")
    ignore = meta.get("ignore_index")
    if ignore is not None and not 0 <= int(ignore) < num_classes:
        raise InputError(f"{path}: ignore_index {ignore} is not a class in 0..{num_classes - 1}")
    return num_classes, names, None if ignore is None else int(ignore)


def load_dataset(root: str | Path) -> DatasetInfo:
    """Read dataset.json and manifest.csv of a dataset folder; file contents are read later."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"dataset folder {root} does not exist")
    num_classes, names, ignore = _class_fields(_read_json(root / "dataset.json"), root / "dataset.json")
    manifest_path = root / "manifest.csv"
    if not manifest_path.is_file():
        raise InputError(f"{root} has no manifest.csv; expected one row per image/mask pair")
    manifest = pd.read_csv(manifest_path, dtype={"id": str, "split": str}, keep_default_na=False)
    missing = [c for c in REQUIRED_COLUMNS if c not in manifest.columns]
    if missing:
        raise InputError(f"{manifest_path} lacks column(s) {', '.join(missing)}")
    return DatasetInfo(root, num_classes, names, ignore, manifest)


def split_rows(info: DatasetInfo, split: str) -> pd.DataFrame:
    """The manifest rows of one split, or an error that says how to make the split."""
    if split not in SPLITS:
        raise InputError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    if "split" not in info.manifest.columns or not (info.manifest["split"] != "").any():
        raise InputError(
            f"{info.root} is not split yet (manifest.csv has no split values); "
            f"run `curate split {info.root}` first"
        )
    rows = info.manifest[info.manifest["split"] == split]
    if rows.empty:
        found = sorted(set(info.manifest["split"]) - {""})
        raise InputError(
            f"{info.root} has no rows in split {split!r} (found: {', '.join(found)}); "
            "run `curate split` with a non-zero fraction for it"
        )
    return rows


def _check_files(info: DatasetInfo, rows: pd.DataFrame) -> None:
    missing = [p for col in ("image", "mask") for p in rows[col] if not (info.root / p).is_file()]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise InputError(f"{len(missing)} file(s) listed in manifest.csv are missing: {shown}")


def read_image(path: Path, mode: str | None = None) -> np.ndarray:
    """An image as (C, H, W) uint8; mode 'L' or 'RGB' forces the channel count."""
    with Image.open(path) as im:
        if mode is None:
            mode = "L" if im.mode in ("L", "I;16", "I", "1") else "RGB"
        arr = np.asarray(im.convert(mode))
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


def read_mask(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        if im.mode not in ("L", "P"):
            raise InputError(f"mask {path} has mode {im.mode}; expected a single-channel label PNG")
        return np.asarray(im)


def _stack(arrays: list[np.ndarray], what: str) -> np.ndarray:
    shapes = sorted({a.shape[-2:] for a in arrays})
    if len(shapes) > 1:
        raise InputError(
            f"{what} have {len(shapes)} different sizes ({', '.join(f'{h}x{w}' for h, w in shapes[:4])}); "
            "segment needs one size per dataset: resize or crop them first (e.g. with `curate`)"
        )
    return np.stack(arrays)


def recorded_mode(info: DatasetInfo) -> str | None:
    """'L' when the manifest's `channels` column (written by curate) says every image is gray:
    a linked folder may hold gray pictures as RGB JPEGs with R = G = B. None: decide by file."""
    column = info.manifest.get("channels")
    if column is None or column.empty:
        return None
    return "L" if (column.astype(str) == "1").all() else None


def load_split(info: DatasetInfo, split: str, mode: str | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Images (N, C, H, W) uint8, masks (N, H, W) uint8 and ids of one split, validated."""
    rows = split_rows(info, split)
    _check_files(info, rows)
    ids = rows["id"].tolist()
    first = read_image(info.root / rows["image"].iloc[0], mode)
    mode = mode or recorded_mode(info) or ("L" if first.shape[0] == 1 else "RGB")
    images = _stack([read_image(info.root / p, mode) for p in rows["image"]], "images")
    masks = _stack([read_mask(info.root / p) for p in rows["mask"]], "masks")
    if images.shape[-2:] != masks.shape[-2:]:
        raise InputError(f"images are {images.shape[-2:]} but masks are {masks.shape[-2:]}")
    bad = np.flatnonzero(masks.reshape(len(masks), -1).max(1) >= info.num_classes)
    if bad.size:
        raise InputError(
            f"{bad.size} mask(s) have labels >= num_classes={info.num_classes} "
            f"(first: {ids[bad[0]]}, max label {int(masks[bad[0]].max())}); "
            "remap the labels or fix num_classes in dataset.json"
        )
    return images, masks, ids


def normalization(images: np.ndarray) -> dict[str, list[float]]:
    """Per-channel mean and std of uint8 images (N, C, H, W) on the 0..1 scale."""
    x = images.astype(np.float32) / 255.0
    std = x.std(axis=(0, 2, 3))
    return {"mean": x.mean(axis=(0, 2, 3)).tolist(), "std": np.maximum(std, 1e-3).tolist()}


def to_input(images: torch.Tensor, norm: dict[str, list[float]]) -> torch.Tensor:
    """uint8 (B, C, H, W) -> normalised float32 (B, C, H, W)."""
    mean = torch.tensor(norm["mean"], device=images.device).view(1, -1, 1, 1)
    std = torch.tensor(norm["std"], device=images.device).view(1, -1, 1, 1)
    return (images.float() / 255.0 - mean) / std


def build_augment():
    """The on-the-fly training augmentation: horizontal flip and mild brightness/contrast."""
    import albumentations as A

    return A.Compose([A.HorizontalFlip(p=0.5), A.RandomBrightnessContrast(0.1, 0.1, p=0.5)])


class PairDataset(torch.utils.data.Dataset):
    """In-memory image/mask pairs; augmentation is a pure function of (seed, epoch, index)."""

    def __init__(self, images: np.ndarray, masks: np.ndarray, augment: bool = False, seed: int = 0):
        self.images, self.masks = images, masks
        self.transform = build_augment() if augment else None
        self.seed, self.epoch = seed, 0

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.item(i, i)

    def item(self, i: int, key: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Pair i, augmented with the seed of draw `key` (= i, except for resampled draws)."""
        image, mask = self.images[i], self.masks[i]
        if self.transform is not None:
            # Per-sample seed: the same pair gets the same augmentation for a given epoch,
            # whatever the worker count and whether or not the run was resumed.
            self.transform.set_random_seed((self.seed * 1_000_003 + self.epoch) * 100_003 + key)
            out = self.transform(image=image.transpose(1, 2, 0), mask=mask)
            image, mask = out["image"].transpose(2, 0, 1), out["mask"]
        return torch.from_numpy(np.ascontiguousarray(image)), torch.from_numpy(np.ascontiguousarray(mask))
