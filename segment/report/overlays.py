"""The prediction overlay sheet of the run report with DATA: a few val/test images predicted
with the run's checkpoint, ground truth and prediction side by side."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from curate.ui.plots import overlay, png_bytes, tile_grid
from segment.model import checkpoints
from segment.data.folder import (load_dataset, read_image, read_mask, split_command, split_rows,
                                 to_picture)
from segment.errors import InputError
from segment.evaluation.predict import predict_masks

SHEET_COUNT = 12  # images predicted for the overlay sheet with DATA: enough to eyeball


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
            picture = to_picture(img)
            gap = np.full((shape[1], 4, 3), 255, np.uint8)  # (H, 4, 3) white divider
            tiles.append(np.concatenate([overlay(picture, truth, ignore_index=ignore), gap,
                                         overlay(picture, pred, ignore_index=ignore)], 1))
    png = png_bytes(tile_grid(tiles, columns=2, gap=16))
    caption = (f"First {len(tiles)} {split} images of {info.root.name}, predicted with "
               f"{checkpoint.name} (epoch {saved.epoch}): ground truth left, prediction right")
    if ignore is not None:
        caption += f"; grey hatching marks the ignore class ({meta.class_names[ignore]})"
    return png, caption
