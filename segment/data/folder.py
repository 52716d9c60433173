"""Read a curated dataset folder (dataset.json + manifest.csv + PNGs) into arrays, with checks."""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image

from curate.io import image_files
from curate.io.contract import REQUIRED_MANIFEST_COLUMNS, SPLITS, check_format_version
from curate.io.pixels import lazy_budget
from segment.errors import InputError
from segment.data.file_stack import DEFAULT_LAZY_BYTES, LAZY_BYTES_ENV, FileStack, chunks

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

REQUIRED_COLUMNS = REQUIRED_MANIFEST_COLUMNS


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
    meta = _read_json(root / "dataset.json")
    check_format_version(meta, root / "dataset.json")
    num_classes, names, ignore = _class_fields(meta, root / "dataset.json")
    manifest_path = root / "manifest.csv"
    if not manifest_path.is_file():
        raise InputError(f"{root} has no manifest.csv; expected one row per image/mask pair")
    manifest = pd.read_csv(manifest_path, dtype={"id": str, "split": str}, keep_default_na=False)
    missing = [c for c in REQUIRED_COLUMNS if c not in manifest.columns]
    if missing:
        raise InputError(f"{manifest_path} lacks column(s) {', '.join(missing)}")
    return DatasetInfo(root, num_classes, names, ignore, manifest)


def split_command(root: str | Path) -> str:
    """How to split `root`, as a command that works when pasted: `curate split` needs -o, and
    writes a new folder beside the input (the input is never modified)."""
    import shlex

    root = Path(root)
    target = root.with_name(root.name + "-split")
    return (f"split it first with `curate split {shlex.quote(str(root))} -o "
            f"{shlex.quote(str(target))}` and use {shlex.quote(str(target))}")


def split_rows(info: DatasetInfo, split: str) -> pd.DataFrame:
    """The manifest rows of one split, or an error that says how to make the split."""
    if split not in SPLITS:
        raise InputError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    if "split" not in info.manifest.columns or not (info.manifest["split"] != "").any():
        raise InputError(
            f"{info.root} is not split yet (manifest.csv has no split values); "
            f"{split_command(info.root)}"
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


def to_mode(image: np.ndarray, mode: str | None = None) -> np.ndarray:
    """(H, W) or (H, W, 3) uint8 -> (C, H, W) in mode 'L' or 'RGB' (None: as decoded). A gray
    picture stored as RGB becomes one channel exactly (no luminance weighting)."""
    if mode == "L" and image.ndim == 3 and (image == image[..., :1]).all():
        image = image[..., 0]
    if mode is not None and (image.ndim == 2) != (mode == "L"):
        image = np.asarray(Image.fromarray(image).convert(mode))
    return image[None] if image.ndim == 2 else image.transpose(2, 0, 1)


def to_picture(image: np.ndarray) -> np.ndarray:
    """(C, H, W) uint8 -> (H, W) for one channel, else (H, W, C): the layout of curate.ui's
    picture kit (overlay, sheets). The one place segment's images become pictures."""
    return image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0)


def read_image(path: Path, mode: str | None = None) -> np.ndarray:
    """An image as (C, H, W) uint8, decoded as curate decodes it (curate.io.image_files);
    mode 'L' or 'RGB' forces the channel count."""
    return to_mode(image_files.read_image(Path(path)), mode)


def read_mask(path: Path) -> np.ndarray:
    """(H, W) uint8 labels, decoded as curate decodes masks (curate.io.image_files)."""
    return image_files.read_mask(Path(path))


def _check_one_size(shapes: set[tuple[int, int]], what: str) -> None:
    if len(shapes) > 1:
        shapes = sorted(shapes)
        raise InputError(
            f"{what} have {len(shapes)} different sizes ({', '.join(f'{h}x{w}' for h, w in shapes[:4])}); "
            "segment needs one size per dataset: resize or crop them first (e.g. with `curate`)"
        )


def _stack(arrays: list[np.ndarray], what: str) -> np.ndarray:
    _check_one_size({a.shape[-2:] for a in arrays}, what)
    return np.stack(arrays)


def recorded_mode(info: DatasetInfo) -> str | None:
    """'L' when the manifest's `channels` column (written by curate) says every image is gray:
    a linked folder may hold gray pictures as RGB JPEGs with R = G = B. None: decide by file."""
    column = info.manifest.get("channels")
    if column is None or column.empty:
        return None
    return "L" if (column.astype(str) == "1").all() else None


def load_split(info: DatasetInfo, split: str,
               mode: str | None = None) -> tuple[np.ndarray | FileStack, np.ndarray | FileStack, list[str]]:
    """Images (N, C, H, W) uint8, masks (N, H, W) uint8 and ids of one split, validated. Numpy
    arrays while the decoded split fits lazy_budget(), else FileStacks (decoded per batch)."""
    rows = split_rows(info, split)
    _check_files(info, rows)
    ids = rows["id"].tolist()
    image_paths = [info.root / p for p in rows["image"]]
    mask_paths = [info.root / p for p in rows["mask"]]
    first = read_image(image_paths[0], mode)
    mode = mode or recorded_mode(info) or ("L" if first.shape[0] == 1 else "RGB")
    channels = 1 if mode == "L" else 3
    if len(ids) * (channels + 1) * first[0].size > lazy_budget(LAZY_BYTES_ENV, DEFAULT_LAZY_BYTES):
        images, masks, tops = _by_reference(image_paths, mask_paths, mode, channels)
    else:
        images = _stack([read_image(p, mode) for p in image_paths], "images")
        masks = _stack([read_mask(p) for p in mask_paths], "masks")
        if images.shape[-2:] != masks.shape[-2:]:
            raise InputError(f"images are {images.shape[-2:]} but masks are {masks.shape[-2:]}")
        tops = masks.reshape(len(masks), -1).max(1)
    _check_labels(info, tops, ids)
    return images, masks, ids


def _by_reference(image_paths: list[Path], mask_paths: list[Path], mode: str, channels: int):
    """FileStacks of a split, with the checks of the eager path: image sizes from the file
    headers; masks decoded once, one at a time, for their sizes and (N,) largest labels."""
    image_sizes = set()
    for p in image_paths:
        with Image.open(p) as im:
            image_sizes.add(im.size[::-1])
    _check_one_size(image_sizes, "images")
    mask_sizes, tops = set(), np.empty(len(mask_paths), np.uint8)
    for i, p in enumerate(mask_paths):
        mask = read_mask(p)
        mask_sizes.add(mask.shape)
        tops[i] = mask.max()
    _check_one_size(mask_sizes, "masks")
    (h, w), (mh, mw) = image_sizes.pop(), mask_sizes.pop()
    if (h, w) != (mh, mw):
        raise InputError(f"images are {(h, w)} but masks are {(mh, mw)}")
    images = FileStack(image_paths, (channels, h, w), functools.partial(read_image, mode=mode))
    return images, FileStack(mask_paths, (h, w), read_mask), tops


def _check_labels(info: DatasetInfo, tops: np.ndarray, ids: list[str]) -> None:
    """tops (N,): each mask's largest label."""
    bad = np.flatnonzero(tops >= info.num_classes)
    if bad.size:
        raise InputError(
            f"{bad.size} mask(s) have labels >= num_classes={info.num_classes} "
            f"(first: {ids[bad[0]]}, max label {int(tops[bad[0]])}); "
            "remap the labels or fix num_classes in dataset.json"
        )


def normalization(images: np.ndarray | FileStack) -> dict[str, list[float]]:
    """Per-channel mean and std of uint8 images (N, C, H, W) on the 0..1 scale, from per-chunk
    integer sums, which are exact: a float32 mean over the whole array drifted by 1 % (red mean
    0.5400 instead of 0.5331 on 400 256x256 RGB pictures), and chunks keep a split held by
    reference from being decoded at once."""
    sums = np.zeros((2, images.shape[1]), np.int64)
    for chunk in chunks(images):
        x = chunk.astype(np.uint16)  # 255**2 fits in uint16; the sums accumulate in int64
        sums[0] += x.sum(axis=(0, 2, 3), dtype=np.int64)
        sums[1] += np.multiply(x, x, out=x).sum(axis=(0, 2, 3), dtype=np.int64)
    n = len(images) * images.shape[2] * images.shape[3]
    mean = sums[0] / n
    std = np.sqrt(np.maximum(sums[1] / n - mean**2, 0.0))
    mean, std = (mean / 255.0).astype(np.float32), (std / 255.0).astype(np.float32)
    return {"mean": mean.tolist(), "std": np.maximum(std, 1e-3).tolist()}


def class_counts(masks: np.ndarray | FileStack, num_classes: int) -> np.ndarray:
    """(K,) pixel count per label over masks (N, H, W), a chunk at a time."""
    counts = np.zeros(num_classes, np.int64)
    for chunk in chunks(masks):
        counts += np.bincount(chunk.reshape(-1), minlength=num_classes)
    return counts


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
    """Image/mask pairs, in memory or FileStacks (each item decoded when drawn, in the loader's
    workers too: a FileStack pickles as paths); augmentation is a pure function of
    (seed, epoch, index)."""

    def __init__(self, images: np.ndarray | FileStack, masks: np.ndarray | FileStack,
                 augment: bool = False, seed: int = 0):
        self.images, self.masks = images, masks
        self.transform = build_augment() if augment else None
        self.seed, self.epoch = seed, 0
        self.paste = None  # copy_paste_class (--set): a segment.data.copy_paste.CopyPaste

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.item(i, i)

    def item(self, i: int, key: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Pair i, augmented with the seed of draw `key` (= i, except for resampled draws)."""
        image, mask = self.images[i], self.masks[i]
        if self.paste is not None:  # before the augmentation, which then treats both alike
            image, mask = self.paste(image, mask, i, self.epoch, key)
        if self.transform is not None:
            # Per-sample seed: the same pair gets the same augmentation for a given epoch,
            # whatever the worker count and whether or not the run was resumed.
            self.transform.set_random_seed((self.seed * 1_000_003 + self.epoch) * 100_003 + key)
            out = self.transform(image=image.transpose(1, 2, 0), mask=mask)
            image, mask = out["image"].transpose(2, 0, 1), out["mask"]
        return torch.from_numpy(np.ascontiguousarray(image)), torch.from_numpy(np.ascontiguousarray(mask))
