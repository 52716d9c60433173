"""segment's own PNG figures (learning curve, confusion matrix; matplotlib Agg) and the writer of
the pictures curate.ui.plots draws (overlays, sheets)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on servers; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from curate.io.outputs import write_file  # noqa: E402


def _save(fig, path: Path) -> None:
    write_file(path, lambda p: fig.savefig(p, format="png", dpi=110, bbox_inches="tight"))
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


def confusion_figure(confusion: np.ndarray, class_names: list[str]):
    """Row-normalised confusion matrix (rows = true class) with the shares printed; cells
    shrink from 1.2 in (a few classes) to 0.42 in (32 and more) and the shares' font with
    them, so the picture stays a readable size and no share runs into the next."""
    conf = np.asarray(confusion, dtype=np.float64)
    norm = conf / np.maximum(conf.sum(1, keepdims=True), 1)
    k = len(class_names)
    cell = min(1.2, max(0.42, 12 / max(k, 1)))
    size = 8 if cell >= 0.6 else 6
    fig, ax = plt.subplots(figsize=(cell * k + 2.5, cell * k + 2))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, f"{norm[i, j]:.2f}", ha="center", va="center",
                    color="white" if norm[i, j] > 0.5 else "black", fontsize=size)
    ax.set_xticks(range(k), class_names, rotation=90, fontsize=size + 1)  # upright: no overlap
    ax.set_yticks(range(k), class_names, fontsize=size + 1)
    ax.set(xlabel="predicted", ylabel="true", title="Confusion (row-normalised)")
    return fig


def confusion_matrix(confusion: np.ndarray, class_names: list[str], path: Path) -> None:
    """confusion_figure written as a PNG."""
    _save(confusion_figure(confusion, class_names), path)


def save_rgb(array: np.ndarray, path: Path) -> None:
    """Write an (H, W, 3) uint8 picture (curate.ui.plots made it) as a PNG, atomically."""
    write_file(path, lambda p: Image.fromarray(array).save(p, format="PNG"))
