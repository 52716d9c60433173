"""Pictures for people: coloured masks, contact sheets of pairs, and bar charts (PNG bytes)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from curate.ui.palette import HATCH_PERIOD, IGNORE_BASE, IGNORE_GREY, hatch_ignore, palette

# segment's plots use the same palette (its own copy), so a class has one colour in every
# picture the toolkit makes.
OUT_OF_RANGE = np.array([255, 0, 255], dtype=np.uint8)


def colour_mask(mask: np.ndarray, num_classes: int,
                ignore_index: int | None = None) -> np.ndarray:
    """(H, W, 3) uint8 picture of a label mask; labels >= num_classes are magenta and the
    ignore class is hatched with grey diagonal lines."""
    lut = np.tile(OUT_OF_RANGE, (256, 1))
    k = min(num_classes, 256)
    lut[:k] = palette(k)
    return hatch_ignore(lut[mask], mask, ignore_index)


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
        return ImageFont.load_default()


def _rgb(image: np.ndarray) -> np.ndarray:
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image[..., :3]


def pair_tile(image: np.ndarray, mask: np.ndarray, num_classes: int,
              height: int | None = None, ignore_index: int | None = None) -> Image.Image:
    """Image and coloured mask side by side, `height` pixels high (default 96, taller for
    portrait images); the ignore class is hatched at display resolution."""
    rgb = _rgb(image)
    h, w = rgb.shape[:2]
    if height is None:
        height = 96 if w >= h else min(160, round(96 * h / w))
    size = (max(1, round(w * height / h)), height)
    shown = np.asarray(Image.fromarray(rgb).resize(size, Image.NEAREST))
    labels = np.asarray(Image.fromarray(mask).resize(size, Image.NEAREST))
    coloured = colour_mask(labels, num_classes, ignore_index)
    gap = np.full((height, max(2, round(2 * height / h)), 3), 255, np.uint8)
    return Image.fromarray(np.concatenate([shown, gap, coloured], axis=1))


CAPTION_FONT, TITLE_FONT, LINE, TITLE_LINE = 12, 16, 14, 20
MIN_CELL_WIDTH = 260   # room for about 40 characters per caption line, whatever the tile
MAX_CAPTION_LINES = 6  # longer captions end in an ellipsis (the CSV report has the full text)


def contact_sheet(tiles: list[tuple[Image.Image, str]], title: str, columns: int = 3,
                  legend: list[tuple[str, np.ndarray]] | None = None) -> bytes:
    """PNG bytes of tiles in a grid, each with a caption (wrapped), a title and a legend.

    Cells are at least MIN_CELL_WIDTH wide and as tall as the longest wrapped caption needs,
    so captions neither overlap nor get cut for square or portrait tiles; the title and the
    legend wrap to the sheet's width."""
    font, title_font = _font(CAPTION_FONT), _font(TITLE_FONT)
    if not tiles:
        tiles = [(Image.new("RGB", (200, 40), "white"), "nothing to show")]
    columns = max(1, min(columns, len(tiles)))
    tile_w = max(t.width for t, _ in tiles)
    tile_h = max(t.height for t, _ in tiles)
    cell_w = max(tile_w, MIN_CELL_WIDTH) + 16
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    captions = [_fit(_wrap(c, measure, font, cell_w - 16), measure, font, cell_w - 16)
                for _, c in tiles]
    cell_h = tile_h + LINE * max(1, max(len(c) for c in captions)) + 12
    sheet_w = cell_w * columns + 16
    title_lines = _wrap(title, measure, title_font, sheet_w - 20)
    legend_rows = _legend_rows(legend or [], measure, font, sheet_w - 20)
    header = 14 + TITLE_LINE * len(title_lines) + 20 * len(legend_rows)
    rows = (len(tiles) + columns - 1) // columns
    sheet = Image.new("RGB", (sheet_w, header + rows * cell_h + 8), "white")
    draw = ImageDraw.Draw(sheet)
    for k, line in enumerate(title_lines):
        draw.text((10, 8 + TITLE_LINE * k), line, fill="black", font=title_font)
    y0 = 14 + TITLE_LINE * len(title_lines)
    for r, row in enumerate(legend_rows):
        for x, name, colour, hatched in row:
            y = y0 + 20 * r
            fill = IGNORE_BASE if hatched else tuple(int(c) for c in colour)
            draw.rectangle([x, y, x + 12, y + 12], fill=fill,
                           outline="black" if fill == (255, 255, 255) else None)
            if hatched:
                for d in range(0, 13, HATCH_PERIOD):  # the ignore class's grey hatching
                    draw.line([x + d, y + 12, x + 12, y + d], fill=IGNORE_GREY)
                    draw.line([x, y + 12 - d, x + 12 - d, y], fill=IGNORE_GREY)
            draw.text((x + 16, y - 1), name, fill="black", font=font)
    for n, ((tile, _), lines) in enumerate(zip(tiles, captions)):
        x = 8 + (n % columns) * cell_w
        y = header + (n // columns) * cell_h
        sheet.paste(tile, (x, y))
        for k, line in enumerate(lines):
            draw.text((x, y + tile_h + 4 + LINE * k), line, fill="black", font=font)
    return _png(sheet)


def _fit(lines: list[str], draw, font, width: int) -> list[str]:
    """At most MAX_CAPTION_LINES lines, the last ending in an ellipsis when text was cut."""
    if len(lines) <= MAX_CAPTION_LINES:
        return lines
    last = lines[MAX_CAPTION_LINES - 1]
    while last and draw.textlength(last + " ...", font=font) > width:
        last = last[:-1]
    return lines[:MAX_CAPTION_LINES - 1] + [last.rstrip() + " ..."]


def _legend_rows(legend, draw, font, width: int) -> list[list[tuple]]:
    """Legend items (x, name, colour, hatched) flowed into rows no wider than `width`."""
    rows, row, x = [], [], 10
    for name, colour, *hatched in legend:
        step = 24 + int(draw.textlength(name, font=font))
        if row and x + step > width:
            rows.append(row)
            row, x = [], 10
        row.append((x, name, colour, bool(hatched and hatched[0])))
        x += step
    return rows + ([row] if row else [])


def _wrap(text: str, draw: ImageDraw.ImageDraw, font, width: int) -> list[str]:
    """Greedy word wrap; a word longer than a line (an id, a path) is broken by characters."""
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) <= width:
            line = trial
            continue
        if line:
            lines.append(line)
        line = word
        while draw.textlength(line, font=font) > width and len(line) > 1:
            cut = len(line) - 1
            while cut > 1 and draw.textlength(line[:cut], font=font) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    return lines + ([line] if line else [])


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def class_legend(class_names: list[str], ignore_index: int | None = None) -> list[tuple]:
    """(name, colour, hatched) per class in the palette's colours; the ignore class hatched."""
    return [(name + (" (ignored)" if k == ignore_index else ""), colour, k == ignore_index)
            for k, (name, colour) in enumerate(zip(class_names, palette(len(class_names))))]


# Series colours (Okabe-Ito, without its black and yellow, which vanish on white), then the
# class palette's generated colours past the eighth class; all far apart in CIELAB.
SERIES_COLOURS = ((0, 114, 178), (230, 159, 0), (0, 158, 115), (213, 94, 0), (204, 121, 167),
                  (86, 180, 233))
BAR_INCHES = 0.11        # thickness of one bar: ~8 pt, room for a 6.5 pt value beside it
MAX_HEIGHT_INCHES = 24   # past this, bars get thinner and the values are left out
VALUE_FONT = 6.5


def series_colours(count: int) -> list[tuple[float, float, float]]:
    """`count` distinct bar colours as matplotlib RGB in 0..1."""
    extra = [tuple(int(v) for v in c) for c in palette(max(count + 2, 8))[8:]]
    chosen = (list(SERIES_COLOURS) + extra)[:count]
    return [tuple(v / 255 for v in c) for c in chosen]


def bar_figure(series: dict[str, list[float]], labels: list[str], title: str, xlabel: str):
    """A matplotlib Figure of horizontal grouped bars: one group per label (top to bottom in
    label order), one bar per series. Horizontal, so labels never run together; the figure
    grows with the number of bars; the legend sits outside the axes; a value is written beside
    its bar only when the bar is thick enough for the text."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n, s = len(labels), max(len(series), 1)
    thickness = BAR_INCHES
    if n * s * thickness / 0.8 > MAX_HEIGHT_INCHES:
        thickness = MAX_HEIGHT_INCHES * 0.8 / (n * s)
    height = max(2.4, 1.3 + n * s * thickness / 0.8)
    fig = Figure(figsize=(7.5, height), dpi=110)  # no pyplot: no global figure state
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    bar = 0.8 / s
    y = np.arange(n)
    show_values = thickness * 72 >= VALUE_FONT + 1
    top = max((max(v, default=0) for v in series.values()), default=0)
    for k, ((name, values), colour) in enumerate(zip(series.items(), series_colours(s))):
        bars = ax.barh(y + (k - (s - 1) / 2) * bar, values, bar, label=name, color=colour)
        if show_values:
            ax.bar_label(bars, labels=[_value(v) for v in values], fontsize=VALUE_FONT,
                         padding=2)
    ax.set_yticks(y, labels)
    ax.set_ylim(n - 0.5, -0.5)   # first label on top
    ax.set_xlim(0, (top or 1) * (1.16 if show_values else 1.03))
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    if len(series) > 1:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def _value(v: float) -> str:
    return f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"


def bar_chart(series: dict[str, list[float]], labels: list[str], title: str,
              ylabel: str) -> bytes:
    """PNG bytes of bar_figure (`ylabel`: what the values are; drawn along the value axis)."""
    fig = bar_figure(series, labels, title, ylabel)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", pad_inches=0.15,
                metadata={"Software": None})
    return buffer.getvalue()
