"""PNG figures: learning curves, confusion matrices, overlays and contact sheets (matplotlib Agg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on servers; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from curate.io.palette import hatch_ignore, palette  # noqa: E402
from segment.atomic import atomic_write  # noqa: E402

# Class colours come from curate.io.palette, as in curate: one colour per class everywhere.


def _save(fig, path: Path) -> None:
    atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=110, bbox_inches="tight"))
    plt.close(fig)


def learning_curve(history: list[dict[str, Any]], path: Path) -> None:
    """Train loss and val mean IoU per epoch, side by side."""
    epochs = [r["epoch"] for r in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
    ax1.plot(epochs, [r["train_loss"] for r in history], marker=".")
    ax1.set(xlabel="epoch", ylabel="train loss", title="Training loss")
    ax2.plot(epochs, [r["val_mean_iou"] for r in history], marker=".", color="tab:green")
    ax2.set(xlabel="epoch", ylabel="val mean IoU", title="Validation mean IoU")
    for ax in (ax1, ax2):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    _save(fig, path)


def confusion_matrix(confusion: np.ndarray, class_names: list[str], path: Path) -> None:
    """Row-normalised confusion matrix (rows = true class) with the raw shares printed."""
    conf = np.asarray(confusion, dtype=np.float64)
    norm = conf / np.maximum(conf.sum(1, keepdims=True), 1)
    k = len(class_names)
    fig, ax = plt.subplots(figsize=(1.2 * k + 2, 1.1 * k + 1.5))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, f"{norm[i, j]:.2f}", ha="center", va="center",
                    color="white" if norm[i, j] > 0.5 else "black", fontsize=8)
    ax.set_xticks(range(k), class_names, rotation=45, ha="right")
    ax.set_yticks(range(k), class_names)
    ax.set(xlabel="predicted", ylabel="true", title="Confusion (row-normalised)")
    _save(fig, path)


def colorize(mask: np.ndarray, ignore_index: int | None = None) -> np.ndarray:
    """(H, W) labels -> (H, W, 3) uint8 colours; the ignore class hatched grey."""
    return hatch_ignore(palette(256)[mask.astype(np.int64) % 256], mask, ignore_index)


def overlay(image: np.ndarray, mask: np.ndarray, alpha: float = 0.45,
            ignore_index: int | None = None) -> np.ndarray:
    """Blend a colourised mask over a (C, H, W) uint8 image; returns (H, W, 3) uint8."""
    rgb = np.repeat(image, 3, 0) if image.shape[0] == 1 else image[:3]
    rgb = rgb.transpose(1, 2, 0).astype(np.float32)
    blended = (1 - alpha) * rgb + alpha * colorize(mask, ignore_index).astype(np.float32)
    return blended.clip(0, 255).astype(np.uint8)


def save_rgb(array: np.ndarray, path: Path) -> None:
    atomic_write(path, lambda p: Image.fromarray(array).save(p, format="PNG"))


def contact_sheet(tiles: list[np.ndarray], path: Path, columns: int = 6, gap: int = 2) -> None:
    """Tile (H, W, 3) images of one size into a grid PNG."""
    h, w = tiles[0].shape[:2]
    rows = -(-len(tiles) // columns)
    cols = min(columns, len(tiles))
    sheet = np.full((rows * (h + gap), cols * (w + gap), 3), 255, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        sheet[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = tile
    save_rgb(sheet, path)
