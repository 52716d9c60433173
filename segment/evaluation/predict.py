"""Apply a checkpoint to a dataset folder, an image folder or a course .npz; write masks or CSV."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from curate.io.contract import IMAGE_SUFFIXES
from curate.io.outputs import atomic_dir, guard_output, write_bytes, write_file
from curate.io.raw import check_exists, raw_kind, read_raw
from curate.ui import plots as ui_plots
from segment.model import checkpoints
from segment.model.checkpoints import Checkpoint
from segment import device as devices
from segment.evaluation import inference
from segment.config import inference_batch_size
from segment.data.folder import load_dataset, read_image, split_rows, to_mode, to_picture
from segment.evaluation.class_bias import read_bias, without_class
from segment.errors import InputError
from segment.evaluation.raw_values import raw_value_lut
from segment.data.file_stack import gather, size_groups

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


def load_inputs(source: str | Path, split: str | None, mode: str) -> tuple[list[str], list[np.ndarray]]:
    """ids and (C, H, W) uint8 images from a dataset folder, an .npz (test_set, training_set or
    image arrays), a folder with images/ (+ masks/, unused here) or a plain folder of images."""
    source = Path(source)
    if raw_kind(source) is not None:
        raw = read_raw(source, need_masks=False)
        return raw.ids, [to_mode(image, mode) for image in raw.images]
    if source.is_dir() and (source / "dataset.json").is_file():
        return _from_dataset(source, split, mode)
    if source.is_dir():
        return _from_folder(source, mode)
    raise InputError(f"{source} is neither a dataset folder, an image folder nor an .npz file")


def predict_masks(saved: Checkpoint, images: list[np.ndarray], device: str = "auto",
                  tta: bool = False, bias: np.ndarray | None = None) -> list[np.ndarray]:
    """(H, W) uint8 label masks; images of one size are batched together, any size works.
    `bias` (K,): per-class log-probability bias from `segment calibrate`; with it, the
    checkpoint's ignored class is never predicted (see segment/evaluation/class_bias.py)."""
    if bias is not None:
        bias = without_class(bias, saved.meta.ignore_index)
    dev = devices.select_device(device)
    model = checkpoints.model_from_checkpoint(saved, dev)
    masks: list[np.ndarray | None] = [None] * len(images)
    for indices in size_groups(images):
        stack = gather(images, indices)
        size = inference_batch_size(*stack.shape[-2:])
        for where, pred in inference.predict_batches(model, stack, saved.meta.normalization, dev, size,
                                                     tta=tta, bias=bias):
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


def _write_pngs(out: Path, ids, images, masks, overlay: str, ignore: int | None = None,
                lut: np.ndarray | None = None) -> list[Path]:
    """masks/<id>.png (through `lut`, label -> raw value, when given) and the overlays."""
    from segment import plots

    files = []
    for pid, img, mask in zip(ids, images, masks):
        path = out / "masks" / f"{pid}.png"
        written = mask if lut is None else lut[mask]
        write_file(path, lambda p, m=written: Image.fromarray(m).save(p, format="PNG"))
        files.append(path)
        if overlay == "each":
            files.append(out / "overlays" / f"{pid}.png")
            plots.save_rgb(ui_plots.overlay(to_picture(img), mask, ignore_index=ignore), files[-1])
    return files


def _write_sheet(out: Path, ids, images, masks, class_names: list[str],
                 ignore: int | None = None) -> Path:
    """contact_sheet.png: the first SHEET_LIMIT predictions over their images (those of the
    first image's size), captioned with their ids, under a class legend; text sized to the
    tiles (font_size of three tiles' width)."""
    shape = images[0].shape
    chosen = [i for i in range(len(images)) if images[i].shape == shape][:SHEET_LIMIT]
    pictures = [ui_plots.overlay(to_picture(images[i]), masks[i], ignore_index=ignore)
                for i in chosen]
    tiles = [(Image.fromarray(p), str(ids[i])) for p, i in zip(pictures, chosen)]
    other = len(images) - len([i for i in range(len(images)) if images[i].shape == shape])
    title = (f"Predicted masks over the images: {len(chosen)} of {len(images)}"
             + (f" ({other} of another size left out)" if other else "")
             + "; masks/ holds every one")
    legend = ui_plots.class_legend(class_names, ignore, edged=True, numbered=True)
    png = ui_plots.contact_sheet(tiles, title, columns=6, legend=legend, min_cell_width=0,
                                 text_size=ui_plots.font_size(3 * shape[-1]))
    write_bytes(out / "contact_sheet.png", png)
    return out / "contact_sheet.png"


def predict(
    checkpoint: str | Path,
    source: str | Path,
    out: str | Path,
    split: str | None = None,
    fmt: str = "png",
    overlay: str = "sheet",
    device: str = "auto",
    force: bool = False,
    tta: bool = False,
    class_bias: str | Path | None = None,
    raw_values: bool = False,
) -> PredictResult:
    """Predict a mask for every input image; write mask PNGs (fmt='png') or the Kaggle CSV.

    `out` is written as a temporary sibling folder and renamed into place; an existing
    non-empty `out` is replaced only with `force`, and never if it is, holds or lies inside
    the input or the checkpoint. `class_bias`: a `segment calibrate` file to apply.
    `raw_values`: mask PNGs in the raw values the labels were read from (see raw_values.py).
    """
    if fmt not in FORMATS or overlay not in OVERLAYS:
        raise InputError(f"format must be one of {FORMATS} and overlay one of {OVERLAYS}")
    out = Path(out)
    check_exists(source)
    guard_output(out, [source, checkpoint, class_bias], force, "folder",
                 what="output folder")  # before the model runs, not after
    saved = checkpoints.load_checkpoint(checkpoint)
    meta = saved.meta
    bias = None if class_bias is None else read_bias(class_bias, meta.class_names)
    if raw_values and fmt != "png":
        raise InputError("--raw-values writes PNG masks; the Kaggle CSV holds class labels")
    lut = raw_value_lut(Path(source), saved) if raw_values else None
    ids, images = load_inputs(source, split, meta.image_mode)
    masks = predict_masks(saved, images, device, tta, bias)
    if fmt == "csv" and len({m.shape for m in masks}) > 1:
        raise InputError("the Kaggle CSV needs images of one size; use --format png instead")
    with atomic_dir(out, force) as tmp:
        if fmt == "csv":
            path = tmp / "submission.csv"
            kaggle_frame(ids, masks).to_csv(path, index=False)
            files = [path]
        else:
            files = _write_pngs(tmp, ids, images, masks, overlay, meta.ignore_index, lut)
        if overlay == "sheet":
            files.append(_write_sheet(tmp, ids, images, masks, meta.class_names,
                                      meta.ignore_index))
    return PredictResult(out, len(masks), [out / f.relative_to(tmp) for f in files])
