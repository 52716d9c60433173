"""Apply a checkpoint to a dataset folder, an image folder or a course .npz; write masks or CSV."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from segment import runtime
from segment.data import load_dataset, read_image, split_rows
from segment.errors import InputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
OVERLAYS = ("sheet", "each", "none")
FORMATS = ("png", "csv")
SHEET_LIMIT = 48  # tiles in the contact sheet; enough to eyeball, small enough to open


@dataclass
class PredictResult:
    out: Path
    count: int
    files: list[Path] = field(default_factory=list)


def _from_dataset(root: Path, split: str | None, mode: str) -> tuple[list[str], list[np.ndarray]]:
    info = load_dataset(root)
    rows = split_rows(info, split) if split else info.manifest
    return rows["id"].tolist(), [read_image(root / p, mode) for p in rows["image"]]


def _from_folder(root: Path, mode: str) -> tuple[list[str], list[np.ndarray]]:
    paths = sorted(p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise InputError(f"{root} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return [p.stem for p in paths], [read_image(p, mode) for p in paths]


def _from_npz(path: Path, mode: str) -> tuple[list[str], list[np.ndarray]]:
    with np.load(path) as npz:
        if "test_set" not in npz.files:
            raise InputError(
                f"{path} has no 'test_set' array (found: {', '.join(npz.files)}); expected the "
                "course layout, test_set uint8 (N, H, W)"
            )
        test = npz["test_set"]
    if test.ndim != 3 or test.dtype != np.uint8:
        raise InputError(f"{path}: test_set must be uint8 (N, H, W), got {test.dtype} {test.shape}")
    if mode != "L":
        raise InputError(f"{path} holds grayscale images but the checkpoint expects {mode}")
    # Kaggle layout: id is the index in test_set.
    return [str(i) for i in range(len(test))], [img[None] for img in test]


def load_inputs(source: str | Path, split: str | None, mode: str) -> tuple[list[str], list[np.ndarray]]:
    """ids and (C, H, W) uint8 images from a dataset folder, an image folder or an .npz file."""
    source = Path(source)
    if source.is_file() and source.suffix == ".npz":
        return _from_npz(source, mode)
    if source.is_dir() and (source / "dataset.json").is_file():
        return _from_dataset(source, split, mode)
    if source.is_dir():
        return _from_folder(source, mode)
    raise InputError(f"{source} is neither a dataset folder, an image folder nor an .npz file")


def predict_masks(state: dict, images: list[np.ndarray], device: str = "auto") -> list[np.ndarray]:
    """(H, W) uint8 label masks; images of one size are batched together, any size works."""
    dev = runtime.select_device(device)
    model = runtime.model_from_checkpoint(state, dev)
    masks: list[np.ndarray | None] = [None] * len(images)
    by_shape: dict[tuple, list[int]] = {}
    for i, img in enumerate(images):
        by_shape.setdefault(img.shape, []).append(i)
    for indices in by_shape.values():
        stack = np.stack([images[i] for i in indices])
        for where, pred in runtime.predict_batches(model, stack, state["normalization"], dev):
            for i, m in zip(indices[where], pred.numpy()):
                masks[i] = m
    return masks  # type: ignore[return-value]


def kaggle_frame(ids: list[str], masks: list[np.ndarray]) -> pd.DataFrame:
    """The course's Kaggle layout: column 'id', then one column per flattened pixel (row-major).

    For an .npz the ids are the indices in test_set; otherwise the manifest ids or file stems.
    """
    flat = np.stack([m.reshape(-1) for m in masks])
    frame = pd.DataFrame(flat)
    frame.insert(0, "id", [int(i) if i.isdigit() else i for i in ids])
    return frame


def _write_pngs(out: Path, ids, images, masks, overlay: str, ignore: int | None = None) -> list[Path]:
    from segment import plots

    files = []
    for pid, img, mask in zip(ids, images, masks):
        path = out / "masks" / f"{pid}.png"
        runtime.atomic_write(path, lambda p, m=mask: Image.fromarray(m).save(p, format="PNG"))
        files.append(path)
        if overlay == "each":
            files.append(out / "overlays" / f"{pid}.png")
            plots.save_rgb(plots.overlay(img, mask, ignore_index=ignore), files[-1])
    return files


def _write_sheet(out: Path, images, masks, ignore: int | None = None) -> Path:
    from segment import plots

    pairs = list(zip(images, masks))[:SHEET_LIMIT]
    shape = pairs[0][0].shape
    tiles = [plots.overlay(img, m, ignore_index=ignore) for img, m in pairs if img.shape == shape]
    plots.contact_sheet(tiles, out / "contact_sheet.png")
    return out / "contact_sheet.png"


def predict(
    checkpoint: str | Path,
    source: str | Path,
    out: str | Path,
    split: str | None = None,
    fmt: str = "png",
    overlay: str = "sheet",
    device: str = "auto",
) -> PredictResult:
    """Predict a mask for every input image; write mask PNGs (fmt='png') or the Kaggle CSV."""
    if fmt not in FORMATS or overlay not in OVERLAYS:
        raise InputError(f"format must be one of {FORMATS} and overlay one of {OVERLAYS}")
    state = runtime.load_checkpoint(checkpoint)
    mode = "L" if state["spec"]["in_channels"] == 1 else "RGB"
    ids, images = load_inputs(source, split, mode)
    masks = predict_masks(state, images, device)
    out = Path(out)
    if fmt == "csv":
        if len({m.shape for m in masks}) > 1:
            raise InputError("the Kaggle CSV needs images of one size; use --format png instead")
        path = out / "submission.csv"
        runtime.atomic_write(path, lambda p: kaggle_frame(ids, masks).to_csv(p, index=False))
        files = [path]
    else:
        files = _write_pngs(out, ids, images, masks, overlay, state.get("ignore_index"))
    if overlay == "sheet":
        files.append(_write_sheet(out, images, masks, state.get("ignore_index")))
    return PredictResult(out, len(masks), files)
