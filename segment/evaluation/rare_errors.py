"""Where the rare class goes wrong: per image, the pixels of class K predicted elsewhere
(missed) and predicted on other labelled classes (false positives), and an overlay sheet of
the worst images (image | true mask | predicted mask | errors)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from curate.io.outputs import write_text
from curate.ui import plots as ui_plots
from segment import plots
from segment.errors import InputError
from segment.data.file_stack import size_groups
from segment.data.folder import to_picture

WORST = 8  # rows of the overlay sheet
SCALE_BELOW = 256  # images narrower than this are drawn 2x (nearest) so pixels can be seen
# Error colours (Okabe-Ito): hit bluish green, false positive vermillion, missed blue.
HIT, FALSE_POSITIVE, MISSED = (0, 158, 115), (213, 94, 0), (0, 114, 178)
COLUMNS = ("id", "true_pixels", "predicted_pixels", "hit_pixels", "false_positive_pixels",
           "missed_pixels", "error_pixels", "iou")


def rarest_class(train_pixel_counts: list[int], ignore_index: int | None) -> int:
    """The class with the fewest (but some) training pixels, the ignore class left out."""
    counts = [(n, c) for c, n in enumerate(train_pixel_counts) if c != ignore_index and n > 0]
    if not counts:
        raise InputError("the checkpoint's training split has no labelled pixels, so there is "
                         "no rarest class; pass --class K")
    return min(counts)[1]


def check_class(class_index: int, class_names: list[str], ignore_index: int | None) -> None:
    if not 0 <= class_index < len(class_names) or class_index == ignore_index:
        choices = ", ".join(f"{c} {n}" for c, n in enumerate(class_names) if c != ignore_index)
        raise InputError(f"--class {class_index} is not a scored class of the checkpoint; "
                         f"choose one of: {choices}")


def error_table(ids: list[str], masks: list[np.ndarray], preds: list[np.ndarray],
                class_index: int, ignore_index: int | None) -> pd.DataFrame:
    """One row per image, worst (most error pixels) first. A prediction of the class on an
    unlabelled (ignore) pixel is not counted, as in the default scores of `segment evaluate`."""
    rows = []
    for pid, truth, pred in zip(ids, masks, preds):
        labelled = truth != ignore_index if ignore_index is not None else np.ones_like(truth, bool)
        true_k, pred_k = truth == class_index, (pred == class_index) & labelled
        hit = int((true_k & pred_k).sum())
        fp, missed = int(pred_k.sum()) - hit, int(true_k.sum()) - hit
        union = hit + fp + missed
        rows.append({"id": pid, "true_pixels": int(true_k.sum()), "predicted_pixels": int(pred_k.sum()),
                     "hit_pixels": hit, "false_positive_pixels": fp, "missed_pixels": missed,
                     "error_pixels": fp + missed, "iou": round(hit / union, 6) if union else None})
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    return table.sort_values(["error_pixels", "id"], ascending=[False, True], kind="stable")


def error_overlay(picture: np.ndarray, truth: np.ndarray, pred: np.ndarray, class_index: int,
                  ignore_index: int | None) -> np.ndarray:
    """(H, W, 3): the (H, W) or (H, W, C) picture dimmed to grey, class K's hits, false
    positives and misses coloured."""
    gray = picture.mean(2) if picture.ndim == 3 else picture.astype(np.float32)
    rgb = np.repeat((0.35 * gray + 90)[..., None], 3, 2)  # (H, W, 3), dimmed
    labelled = truth != ignore_index if ignore_index is not None else np.ones_like(truth, bool)
    true_k, pred_k = truth == class_index, (pred == class_index) & labelled
    for where, colour in ((true_k & pred_k, HIT), (pred_k & ~true_k, FALSE_POSITIVE),
                          (true_k & ~pred_k, MISSED)):
        rgb[where] = colour
    return rgb.astype(np.uint8)


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    """The row with a strip above it holding `text`, in a font sized to the row's width
    (a 9-px caption on a 1,932-px sheet could not be read)."""
    return np.concatenate([ui_plots.text_strip(text, tile.shape[1]), tile], 0)


def sheet_rows(table: pd.DataFrame, images, masks, preds, row_of: dict[str, int], class_index: int,
               ignore_index: int | None, count: int = WORST) -> list[np.ndarray]:
    """One (H', 4W', 3) row per worst image with errors: image | truth | prediction | errors.
    images, masks, preds: sequences indexed by row_of[id] (only the rows drawn are decoded)."""
    rows = []
    for r in table[table["error_pixels"] > 0].head(count).itertuples(index=False):
        i = row_of[r.id]
        img, truth, pred = to_picture(images[i]), masks[i], preds[i]
        panels = [ui_plots.overlay(img, truth, alpha=0.0),
                  ui_plots.overlay(img, truth, ignore_index=ignore_index),
                  ui_plots.overlay(img, pred, ignore_index=ignore_index),
                  error_overlay(img, truth, pred, class_index, ignore_index)]
        if img.shape[1] < SCALE_BELOW:
            panels = [p.repeat(2, 0).repeat(2, 1) for p in panels]
        gap = np.full((panels[0].shape[0], 4, 3), 255, np.uint8)
        row = np.concatenate([panels[0], gap, panels[1], gap, panels[2], gap, panels[3]], 1)
        rows.append(_label(row, f"{r.id}: false positive {r.false_positive_pixels} px, "
                                f"missed {r.missed_pixels} px of {r.true_pixels}"))
    return rows


def write_rare_errors(csv_path: Path, png_path: Path, ids: list[str], images: list[np.ndarray],
                      masks: list[np.ndarray], preds: list[np.ndarray], class_index: int,
                      ignore_index: int | None,
                      class_names: list[str] | None = None) -> pd.DataFrame:
    """Write the per-image table (CSV) and, if any image has errors, the overlay sheet (PNG)
    (with a legend of `class_names`' colours for the two mask columns, when given)."""
    table = error_table(ids, masks, preds, class_index, ignore_index)
    write_text(csv_path, table.to_csv(index=False))
    row_of = {ids[i]: i for i in size_groups(images)[0]}  # one tile size per sheet: image 0's
    rows = sheet_rows(table[table["id"].isin(row_of)], images, masks, preds, row_of, class_index,
                      ignore_index)
    if rows:
        gap = np.full((6, rows[0].shape[1], 3), 255, np.uint8)
        parts = [_legend(rows[0].shape[1], class_index)]
        if class_names:
            legend = ui_plots.class_legend(class_names, ignore_index, edged=True,
                                           numbered=True)
            parts.append(ui_plots.legend_strip(legend, rows[0].shape[1]))
        for row in rows:
            parts += [gap, row]
        plots.save_rgb(np.concatenate(parts, 0), png_path)
    return table


def _legend(width: int, class_index: int) -> np.ndarray:
    """A strip naming the columns and the error colours, in a font sized to the sheet."""
    size = ui_plots.font_size(width)
    strip = Image.new("RGB", (width, round(size * 3.2)), "white")
    draw = ImageDraw.Draw(strip)
    font = ui_plots.font(size)
    draw.text((4, 2), f"class {class_index}: image | given mask | predicted mask | errors of "
                      "the class on labelled pixels:", fill=(0, 0, 0), font=font)
    x, y = 4, round(size * 1.7)
    for colour, name in ((HIT, "hit"), (FALSE_POSITIVE, "false positive"), (MISSED, "missed")):
        draw.rectangle((x, y, x + size, y + size), fill=colour)
        draw.text((x + size + 6, y), name, fill=(0, 0, 0), font=font)
        x += size + 6 + int(draw.textlength(name, font=font)) + 2 * size
    return np.asarray(strip)
