"""The prediction overlay sheet of the run report with --data: a few val/test images predicted
with the run's checkpoint, ground truth and prediction side by side."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from segment.model import checkpoints
from segment import plots
from segment.data.folder import load_dataset, read_image, read_mask, split_command, split_rows
from segment.errors import InputError
from segment.evaluation.predict import predict_masks
from segment.report.sections import render_png

SHEET_COUNT = 12  # images predicted for the overlay sheet with --data: enough to eyeball


def _trim(png: bytes, margin: int) -> bytes:
    """Cut the white gap that contact_sheet leaves after the last column and row."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        out = io.BytesIO()
        im.crop((0, 0, im.width - margin, im.height - margin)).save(out, format="PNG")
    return out.getvalue()


def _pick_split(info, split: str | None) -> str:
    if split is not None:
        split_rows(info, split)  # raises with the fix when the split is empty
        return split
    present = set(info.manifest["split"]) if "split" in info.manifest.columns else set()
    for name in ("test", "val"):
        if name in present:
            return name
    raise InputError(f"{info.root} has no test or val rows to predict; pass --split or "
                     f"{split_command(info.root)}")


def prediction_sheet(checkpoint: Path, data: str | Path, split: str | None = None,
                     count: int = SHEET_COUNT, device: str = "cpu") -> tuple[bytes, str]:
    """PNG bytes of (truth overlay | prediction overlay) tiles for the first `count` images."""
    saved = checkpoints.load_checkpoint(checkpoint)
    meta = saved.meta
    info = load_dataset(data)
    if info.num_classes != meta.num_classes:
        raise InputError(f"{data} has {info.num_classes} classes but the checkpoint was trained "
                         f"on {meta.num_classes} ({', '.join(meta.class_names)})")
    split = _pick_split(info, split)
    rows = split_rows(info, split).head(count)
    images = [read_image(info.root / p, meta.image_mode) for p in rows["image"]]
    truths = [read_mask(info.root / p) for p in rows["mask"]]
    preds = predict_masks(saved, images, device)
    shape = images[0].shape  # the contact sheet needs one tile size
    tiles = []
    ignore = meta.ignore_index
    for img, truth, pred in zip(images, truths, preds):
        if img.shape == shape:
            gap = np.full((shape[1], 4, 3), 255, np.uint8)  # (H, 4, 3) white divider
            tiles.append(np.concatenate([plots.overlay(img, truth, ignore_index=ignore), gap,
                                         plots.overlay(img, pred, ignore_index=ignore)], 1))
    png = _trim(render_png(lambda path: plots.contact_sheet(tiles, path, columns=2, gap=16)), 16)
    caption = (f"First {len(tiles)} {split} images of {info.root.name}, predicted with "
               f"{checkpoint.name} (epoch {saved.epoch}): ground truth left, prediction right")
    if ignore is not None:
        caption += f"; grey hatching marks the ignore class ({meta.class_names[ignore]})"
    return png, caption
