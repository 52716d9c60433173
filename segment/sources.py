"""Raw inputs for evaluate and predict: an AN2DL .npz, or a folder of images/ + masks/.

A compact reader for the inputs `curate` reads before curation (segment never imports
curate). Label maps mean what they mean in curate: RAW:LABEL pairs, raw values left out keep
their number, masks of only 0 and 255 read as 0:0,255:1, and a map that would silently merge
a raw value into another present, unmapped one is refused.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from segment.errors import InputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
NPZ_PAIR_KEYS = (("images", "masks"), ("image", "mask"), ("x", "y"), ("X", "Y"))


@dataclass
class RawSet:
    """Images (C, H, W) uint8 in the checkpoint's mode; masks (H, W) uint8 or None; ids."""

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
    if not Path(path).exists():
        raise InputError(f"{path} does not exist; expected a dataset folder written by curate, "
                         "an .npz file, or a folder with images/ and masks/")


def parse_label_map(text: str | None) -> dict[int, int] | None:
    """'255:1' or '0:0,255:1' -> {0: 0, 255: 1}; None or '' stays None."""
    if not text:
        return None
    mapping = {}
    for item in text.split(","):
        parts = [p.strip() for p in item.split(":")]
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise InputError(f"bad --label-map entry {item!r}: expected RAW:LABEL pairs of "
                             "integers, e.g. '0:0,255:1'")
        raw, label = int(parts[0]), int(parts[1])
        if raw > 255 or label > 255:
            raise InputError(f"bad --label-map entry {item!r}: values must be in 0..255")
        mapping[raw] = label
    return mapping


# --- reading ---------------------------------------------------------------------------------

def _to_mode(image: np.ndarray, mode: str) -> np.ndarray:
    """(H, W) or (H, W, 3) uint8 -> (C, H, W) in mode 'L' or 'RGB'; gray stays one channel."""
    if image.ndim == 3 and mode == "L" and (image == image[..., :1]).all():
        image = image[..., 0]  # gray stored as RGB: exact, no luminance weighting
    arr = np.asarray(Image.fromarray(image).convert(mode))
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


def _npz_arrays(path: Path) -> tuple[np.ndarray, np.ndarray | None, list[str] | None]:
    """(images, masks or None, pair names or None) from the arrays an AN2DL-style npz holds."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"{path} cannot be read as an .npz archive ({exc}); it may be "
                         "truncated or not an npz: re-download or re-save it") from exc
    names = [Path(str(n)).stem for n in arrays["names"]] if "names" in arrays else None
    if "training_set" in arrays:
        pairs = arrays["training_set"]
        if pairs.ndim != 4 or pairs.shape[1] != 2:
            raise InputError(f"{path}: training_set has shape {pairs.shape}; expected (N, 2, H, W)")
        return pairs[:, 0], pairs[:, 1], names
    for image_key, mask_key in NPZ_PAIR_KEYS:
        if image_key in arrays and mask_key in arrays:
            return arrays[image_key], arrays[mask_key], names
    if "test_set" in arrays:
        # The course's Kaggle layout numbers test_set images by their index.
        return arrays["test_set"], None, None
    raise InputError(
        f"{path} holds the arrays {', '.join(sorted(arrays)) or 'none'}; expected 'training_set' "
        f"(N, 2, H, W), an image/mask pair named one of {', '.join('/'.join(k) for k in NPZ_PAIR_KEYS)}, "
        "or the course's unlabelled 'test_set' (N, H, W)"
    )


def read_npz(path: Path, mode: str) -> RawSet:
    images, masks, names = _npz_arrays(path)
    if images.dtype != np.uint8 or images.ndim not in (3, 4):
        raise InputError(f"{path}: images must be uint8 (N, H, W) or (N, H, W, 3), "
                         f"got {images.dtype} {images.shape}")
    if masks is not None and (masks.dtype != np.uint8 or masks.shape != images.shape[:3]):
        raise InputError(f"{path}: masks must be uint8 (N, H, W) matching the images "
                         f"{images.shape[:3]}, got {masks.dtype} {masks.shape}")
    ids = [str(i) for i in range(len(images))]
    if names is not None and len(set(names)) == len(images):
        ids = names
    return RawSet(ids, [_to_mode(im, mode) for im in images],
                  None if masks is None else list(masks))


def _files_by_stem(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.iterdir())
            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")}


def _open(path: Path) -> Image.Image:
    try:
        im = Image.open(path)
        im.load()
        return im
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InputError(f"{path} cannot be read as an image ({type(exc).__name__}: {exc}); "
                         "it may be truncated or not an image: replace or remove it") from exc


def _read_image_file(path: Path) -> np.ndarray:
    """(H, W) or (H, W, 3) uint8; 16-bit images scaled down to 8 bits, as curate does."""
    with _open(path) as im:
        if im.mode.startswith("I"):
            arr = np.asarray(im, dtype=np.uint32)
            return (arr >> 8 if arr.max(initial=0) > 255 else arr).astype(np.uint8)
        return np.asarray(im if im.mode in ("L", "RGB") else im.convert("RGB"))


def read_mask_file(path: Path) -> np.ndarray:
    """(H, W) uint8 raw values: mode L/P/1 as stored, 16-bit up to 255, gray RGB; not colours."""
    with _open(path) as im:
        arr, mode = np.asarray(im), im.mode
    if arr.ndim == 2:
        if arr.max(initial=0) > 255:
            raise InputError(f"mask {path} is 16-bit with values up to {arr.max()}; expected "
                             "class labels 0..255")
        return arr.astype(np.uint8)
    if (arr[..., :3] == arr[..., :1]).all():
        return arr[..., 0].astype(np.uint8)
    raise InputError(f"mask {path} is a colour ({mode}) image; expected one class number per "
                     "pixel (mode L, or P with the colours as palette): convert colours to labels first")


def read_folder(path: Path, mode: str, need_masks: bool) -> RawSet:
    """Pairs of images/<stem>.* and masks/<stem>.*; with need_masks=False, images/ alone."""
    image_files, mask_files = _files_by_stem(path / "images"), _files_by_stem(path / "masks")
    stems = sorted(set(image_files) & set(mask_files)) if need_masks else sorted(image_files)
    if not stems:
        raise InputError(f"{path}/images and {path}/masks hold no pairs with the same file stem "
                         f"({', '.join(IMAGE_SUFFIXES)}); expected images/a.png with masks/a.png")
    notes = []
    unpaired = sorted(set(image_files) ^ set(mask_files)) if need_masks else []
    if unpaired:
        notes.append(f"{len(unpaired)} file(s) without a partner skipped "
                     f"(e.g. {', '.join(unpaired[:3])})")
    images = [_to_mode(_read_image_file(image_files[s]), mode) for s in stems]
    masks = [read_mask_file(mask_files[s]) for s in stems] if need_masks else None
    if masks is not None:
        for s, im, m in zip(stems, images, masks):
            if im.shape[1:] != m.shape:
                raise InputError(f"{path}: image {s} is {im.shape[2]}x{im.shape[1]} but its "
                                 f"mask is {m.shape[1]}x{m.shape[0]}; pairs must have one size")
    return RawSet(stems, images, masks, notes)


def read_raw(path: str | Path, mode: str, need_masks: bool = True) -> RawSet:
    """A raw input (see raw_kind) as images in `mode` ('L' or 'RGB') and raw masks."""
    path = Path(path)
    if raw_kind(path) is None:
        raise InputError(f"{path} is neither an .npz file nor a folder with images/ and masks/")
    raw = read_npz(path, mode) if path.is_file() else read_folder(path, mode, need_masks)
    if need_masks and raw.masks is None:
        raise InputError(f"{path} holds only the unlabelled 'test_set'; scoring needs masks "
                         "('training_set' (N, 2, H, W) or image/mask arrays)")
    return raw


# --- labels ----------------------------------------------------------------------------------

def _check_collisions(label_map: dict[int, int], present: set[int]) -> None:
    clashes = [(s, t) for s, t in sorted(label_map.items())
               if s != t and s in present and t in present and t not in label_map]
    if clashes:
        s, t = clashes[0]
        raise InputError(
            f"--label-map sends raw {s} to {t}, but raw {t} also occurs in the masks and is not "
            f"in the map, so both would become label {t}; give raw {t} its own label "
            f"(e.g. add {t}:{max(label_map.values()) + 1}), or list {t}:{t} to merge on purpose"
        )


def apply_labels(masks: list[np.ndarray], label_map: dict[int, int] | None,
                 num_classes: int) -> tuple[list[np.ndarray], list[str]]:
    """Raw masks -> class labels 0..num_classes-1 with the map (or the inferred 0/255 one)."""
    present = {int(v) for m in masks for v in np.unique(m)}
    notes = []
    if label_map is None and present == {0, 255}:
        label_map = {0: 0, 255: 1}
        notes.append("masks hold only 0 and 255: read as 0:0,255:1 (pass --label-map to choose otherwise)")
    if label_map:
        _check_collisions(label_map, present)
        lut = np.arange(256, dtype=np.uint8)
        for raw, label in label_map.items():
            lut[raw] = label
        masks = [lut[m] for m in masks]
    top = max((int(m.max()) for m in masks if m.size), default=0)
    if top >= num_classes:
        shown = ", ".join(map(str, sorted(present)[:12]))
        raise InputError(
            f"the masks hold label {top} after mapping, but the checkpoint has {num_classes} "
            f"classes (0..{num_classes - 1}); raw values found: {shown}. Pass --label-map "
            "RAW:LABEL,... to renumber them (e.g. 255:0 when 255 means 'no label')"
        )
    return masks, notes
