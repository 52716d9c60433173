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

from curate.ui.palette import hatch_ignore, palette  # noqa: E402
from curate.io.outputs import write_file  # noqa: E402

# Class colours come from curate.ui.palette, as in curate: one colour per class everywhere.


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


def colorize(mask: np.ndarray, ignore_index: int | None = None) -> np.ndarray:
    """(H, W) labels -> (H, W, 3) uint8 colours; the ignore class hatched grey."""
    return hatch_ignore(palette(256)[mask.astype(np.int64) % 256], mask, ignore_index)


DARK = 0.25  # relative luminance below which a class colour cannot be seen over an image
EDGE = (255, 255, 255)


def dark_classes(num_classes: int = 256) -> np.ndarray:
    """(num_classes,) True for the classes whose palette colour is too dark to show over a
    picture: overlays draw their regions' edges in white."""
    rgb = palette(num_classes).astype(np.float64) / 255
    return rgb @ np.array([0.2126, 0.7152, 0.0722]) < DARK


def _edges(region: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels of `region` with a 4-neighbour outside it (or on the border)."""
    padded = np.pad(region, 1, constant_values=False)
    inside = (padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:])
    return region & ~inside


def overlay(image: np.ndarray, mask: np.ndarray, alpha: float = 0.45,
            ignore_index: int | None = None) -> np.ndarray:
    """Blend a colourised mask over a (C, H, W) uint8 image; returns (H, W, 3) uint8.

    A dark class (dark_classes: black class 0) blended over a dark picture vanishes (ISBI
    membranes), so the edges of its regions are drawn white at full strength."""
    rgb = np.repeat(image, 3, 0) if image.shape[0] == 1 else image[:3]
    rgb = rgb.transpose(1, 2, 0).astype(np.float32)
    blended = (1 - alpha) * rgb + alpha * colorize(mask, ignore_index).astype(np.float32)
    out = blended.clip(0, 255).astype(np.uint8)
    if alpha > 0:
        dark = dark_classes()
        dark[ignore_index if ignore_index is not None else []] = False
        edges = _edges(dark[mask.astype(np.int64) % 256])
        for _ in range(max(1, mask.shape[1] // 256) - 1):  # 2 px from 512 px wide on
            edges |= _edges(dark[mask.astype(np.int64) % 256] & ~edges)
        out[edges] = EDGE
    return out


def save_rgb(array: np.ndarray, path: Path) -> None:
    write_file(path, lambda p: Image.fromarray(array).save(p, format="PNG"))


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


# --- sheets with a title, a class legend and a caption under every tile ---------------------

def font_size(width: int) -> int:
    """Caption size in px for a picture `width` px wide: about 1/70 of it, 12 to 40 px."""
    return int(np.clip(round(width / 70), 12, 40))


def caption_font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow < 10.1: the fixed bitmap font only
        return ImageFont.load_default()


def text_strip(text: str, width: int, size: int | None = None, lines: int = 1) -> np.ndarray:
    """(h, width, 3) white strip holding `text` on up to `lines` lines (broken where a line
    is full, as long ids need); what still does not fit ends in an ellipsis."""
    from PIL import ImageDraw

    size = size or font_size(width)
    font = caption_font(size)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    fits = lambda t: measure.textlength(t, font=font) <= width - 4  # noqa: E731
    shown, rest = [], text
    while rest and len(shown) < lines:
        cut = len(rest)
        while cut > 1 and not fits(rest[:cut]):
            cut -= 1
        shown.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        last = shown[-1]
        while len(last) > 1 and not fits(last + "…"):
            last = last[:-1]
        shown[-1] = last + "…"
    line = round(size * 1.25)
    strip = Image.new("RGB", (width, line * len(shown) + round(size * 0.3)), "white")
    draw = ImageDraw.Draw(strip)
    for k, part in enumerate(shown):
        draw.text((2, round(size * 0.15) + k * line), part, fill="black", font=font)
    return np.asarray(strip)


def legend_strip(class_names: list[str], width: int, ignore_index: int | None = None,
                 size: int | None = None) -> np.ndarray:
    """(h, width, 3): a swatch and "id name" per class, flowed into rows; the ignore class
    hatched, a dark class black with the white edge its overlay regions get."""
    from PIL import ImageDraw

    size = size or font_size(width)
    font, box, line = caption_font(size), size, round(size * 1.5)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    items = [(k, f"{k} {name}" + (" (ignored)" if k == ignore_index else ""))
             for k, name in enumerate(class_names)]
    placed, x, y = [], 4, 0
    for k, text in items:
        step = box + 6 + int(measure.textlength(text, font=font)) + size
        if x > 4 and x + step > width:
            x, y = 4, y + line
        placed.append((x, y, k, text))
        x += step
    strip = Image.new("RGB", (width, y + line), "white")
    draw = ImageDraw.Draw(strip)
    colours, dark = palette(len(class_names)), dark_classes(len(class_names))
    for x, y, k, text in placed:
        swatch = np.full((box, box), k, np.uint8)
        picture = hatch_ignore(np.tile(colours[k], (box, box, 1)), swatch, ignore_index)
        strip.paste(Image.fromarray(picture.astype(np.uint8)), (x, y + 2))
        edge = EDGE if dark[k] and k != ignore_index else (0, 0, 0)
        draw.rectangle([x, y + 2, x + box - 1, y + box + 1], outline=(128, 128, 128))
        draw.rectangle([x + 1, y + 3, x + box - 2, y + box], outline=edge)
        draw.text((x + box + 6, y + 2), text, fill="black", font=font)
    return np.asarray(strip)


def captioned_sheet(tiles: list[np.ndarray], captions: list[str], path: Path, title: str,
                    class_names: list[str], ignore_index: int | None = None,
                    columns: int = 6, gap: int = 8) -> None:
    """A grid PNG of (H, W, 3) tiles of one size, each captioned below (e.g. its id), under a
    title and a class legend; text sized to the tiles (font_size of a tile's width x 3)."""
    h, w = tiles[0].shape[:2]
    cols = min(columns, len(tiles))
    width = cols * (w + gap) + gap
    size = font_size(3 * w)
    cells = [np.concatenate([tile, text_strip(caption, w, size, lines=2)], 0)
             for tile, caption in zip(tiles, captions)]
    tallest = max(c.shape[0] for c in cells)   # one- and two-line captions in one grid
    cells = [np.pad(c, ((0, tallest - c.shape[0]), (0, 0), (0, 0)), constant_values=255)
             for c in cells]
    ch = cells[0].shape[0]
    rows = -(-len(cells) // cols)
    grid = np.full((rows * (ch + gap), width, 3), 255, np.uint8)
    for i, cell in enumerate(cells):
        r, c = divmod(i, cols)
        grid[r * (ch + gap): r * (ch + gap) + ch, gap + c * (w + gap): gap + c * (w + gap) + w] = cell
    head = [text_strip(title, width, round(size * 1.2)),
            legend_strip(class_names, width, ignore_index, size)]
    save_rgb(np.concatenate(head + [np.full((gap, width, 3), 255, np.uint8), grid], 0), path)
