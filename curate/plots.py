"""Pictures for people: coloured masks, contact sheets of pairs, and bar charts (PNG bytes)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Class 0 black, then the Okabe-Ito colour-blind-safe colours; segment's plots use the same
# values, so a class has one colour in every picture the toolkit makes.
PALETTE = np.array([
    [0, 0, 0], [230, 159, 0], [86, 180, 233], [0, 158, 115], [240, 228, 66],
    [0, 114, 178], [213, 94, 0], [204, 121, 167], [255, 255, 255], [128, 128, 128],
], dtype=np.uint8)
OUT_OF_RANGE = np.array([255, 0, 255], dtype=np.uint8)


def colour_mask(mask: np.ndarray, num_classes: int) -> np.ndarray:
    """(H, W, 3) uint8 picture of a label mask; labels >= num_classes are magenta."""
    lut = np.tile(OUT_OF_RANGE, (256, 1))
    k = min(num_classes, 256)
    lut[:k] = PALETTE[np.arange(k) % len(PALETTE)]
    return lut[mask]


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
        return ImageFont.load_default()


def _rgb(image: np.ndarray) -> np.ndarray:
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image[..., :3]


def pair_tile(image: np.ndarray, mask: np.ndarray, num_classes: int,
              height: int = 96) -> Image.Image:
    """Image and coloured mask side by side, scaled to `height` pixels."""
    rgb = _rgb(image)
    coloured = colour_mask(mask, num_classes)
    if coloured.shape[:2] != rgb.shape[:2]:  # size mismatch: show each at its own size
        coloured = np.asarray(Image.fromarray(coloured).resize(
            (rgb.shape[1], rgb.shape[0]), Image.NEAREST))
    both = np.concatenate([rgb, np.full((rgb.shape[0], 2, 3), 255, np.uint8), coloured], axis=1)
    scale = height / both.shape[0]
    return Image.fromarray(both).resize((max(1, round(both.shape[1] * scale)), height),
                                        Image.NEAREST)


def contact_sheet(tiles: list[tuple[Image.Image, str]], title: str, columns: int = 3,
                  legend: list[tuple[str, np.ndarray]] | None = None) -> bytes:
    """PNG bytes of tiles in a grid, each with a caption (wrapped), a title and a legend."""
    font, title_font = _font(12), _font(16)
    if not tiles:
        tiles = [(Image.new("RGB", (200, 40), "white"), "nothing to show")]
    tile_w = max(t.width for t, _ in tiles)
    tile_h = max(t.height for t, _ in tiles)
    caption_lines = 3
    cell_w, cell_h = tile_w + 16, tile_h + 14 * caption_lines + 12
    rows = (len(tiles) + columns - 1) // columns
    header = 34 + (20 if legend else 0)
    sheet = Image.new("RGB", (cell_w * columns + 16, header + rows * cell_h + 8), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text((10, 8), title, fill="black", font=title_font)
    if legend:
        x = 10
        for name, colour in legend:
            draw.rectangle([x, 34, x + 12, 46], fill=tuple(int(c) for c in colour))
            draw.text((x + 16, 33), name, fill="black", font=font)
            x += 24 + int(draw.textlength(name, font=font))
    for n, (tile, caption) in enumerate(tiles):
        x = 8 + (n % columns) * cell_w
        y = header + (n // columns) * cell_h
        sheet.paste(tile, (x, y))
        for k, line in enumerate(_wrap(caption, draw, font, cell_w - 8)[:caption_lines]):
            draw.text((x, y + tile_h + 4 + 14 * k), line, fill="black", font=font)
    return _png(sheet)


def _wrap(text: str, draw: ImageDraw.ImageDraw, font, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    return lines + ([line] if line else [])


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def class_legend(class_names: list[str]) -> list[tuple[str, np.ndarray]]:
    return [(name, PALETTE[k % len(PALETTE)]) for k, name in enumerate(class_names)]


def bar_chart(series: dict[str, list[float]], labels: list[str], title: str,
              ylabel: str) -> bytes:
    """PNG bytes of a grouped bar chart: one group per label, one bar per series."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
    width = 0.8 / max(len(series), 1)
    x = np.arange(len(labels))
    for k, (name, values) in enumerate(series.items()):
        bars = ax.bar(x + (k - (len(series) - 1) / 2) * width, values, width, label=name)
        ax.bar_label(bars, labels=[f"{v:.2f}" for v in values], fontsize=7, padding=1)
    ax.set_xticks(x, labels)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if len(series) > 1:
        ax.legend(fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()
