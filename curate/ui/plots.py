"""Pictures for people: coloured masks and overlays, text strips, class legends, contact sheets
and bar charts. Images are (H, W) or (H, W, 3) uint8 arrays and masks (H, W) labels, in both
packages (segment turns its (C, H, W) images into these with segment.data.folder.to_picture)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from curate.ui.palette import HATCH_PERIOD, IGNORE_BASE, IGNORE_GREY, hatch_ignore, palette

# Both packages draw with these functions and curate.ui.palette's colours, so a class has one
# colour in every picture the toolkit makes.
OUT_OF_RANGE = np.array([255, 0, 255], dtype=np.uint8)
DARK = 0.25  # relative luminance below which a class colour cannot be seen over an image
EDGE = (255, 255, 255)


def colour_mask(mask: np.ndarray, num_classes: int,
                ignore_index: int | None = None) -> np.ndarray:
    """(H, W, 3) uint8 picture of a label mask; labels >= num_classes are magenta and the
    ignore class is hatched with grey diagonal lines."""
    lut = np.tile(OUT_OF_RANGE, (256, 1))
    k = min(num_classes, 256)
    lut[:k] = palette(k)
    return hatch_ignore(lut[mask], mask, ignore_index)


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
    """Blend the coloured mask (every label its palette colour) over an (H, W) or (H, W, 3)
    uint8 image; returns (H, W, 3) uint8.

    A dark class (dark_classes: black class 0) blended over a dark picture vanishes (ISBI
    membranes), so the edges of its regions are drawn white at full strength."""
    coloured = colour_mask(mask, 256, ignore_index).astype(np.float32)
    blended = (1 - alpha) * _rgb(image).astype(np.float32) + alpha * coloured
    out = blended.clip(0, 255).astype(np.uint8)
    if alpha > 0:
        dark = dark_classes()
        dark[ignore_index if ignore_index is not None else []] = False
        edges = _edges(dark[mask.astype(np.int64) % 256])
        for _ in range(max(1, mask.shape[1] // 256) - 1):  # 2 px from 512 px wide on
            edges |= _edges(dark[mask.astype(np.int64) % 256] & ~edges)
        out[edges] = EDGE
    return out


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


def tile_grid(tiles: list[np.ndarray], columns: int, gap: int) -> np.ndarray:
    """(H', W', 3) uint8: (H, W, 3) tiles of one size in rows of `columns`, `gap` white pixels
    between them (none around)."""
    h, w = tiles[0].shape[:2]
    rows, cols = -(-len(tiles) // columns), min(columns, len(tiles))
    grid = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap, 3), 255, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        grid[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = tile
    return grid


# --- text: one font, wrapped captions, class legends, captioned sheets ----------------------

CAPTION_FONT = 12      # px, curate's sheets; segment's grow with their tiles (font_size)
MIN_CELL_WIDTH = 260   # room for about 40 characters per caption line, whatever the tile
MAX_CAPTION_LINES = 6  # longer captions end in an ellipsis (the CSV report has the full text)


def font_size(width: int) -> int:
    """Text size in px for a picture `width` px wide: about 1/70 of it, 12 to 40 px."""
    return int(np.clip(round(width / 70), 12, 40))


def font(size: int) -> ImageFont.ImageFont:
    """Pillow's default font, `size` px high: the one face of every picture's text."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow < 10.1 has only the fixed bitmap font
        return ImageFont.load_default()


def _measure() -> ImageDraw.ImageDraw:
    return ImageDraw.Draw(Image.new("RGB", (1, 1)))


def text_strip(text: str, width: int, size: int | None = None, lines: int = 1) -> np.ndarray:
    """(h, width, 3) white strip holding `text` (font_size(width) by default) wrapped onto up
    to `lines` lines; what still does not fit ends in an ellipsis."""
    size = size or font_size(width)
    face, measure = font(size), _measure()
    shown = _fit(_wrap(text, measure, face, width - 4), measure, face, width - 4, lines)
    line = round(size * 1.25)
    strip = Image.new("RGB", (width, line * len(shown) + round(size * 0.3)), "white")
    draw = ImageDraw.Draw(strip)
    for k, part in enumerate(shown):
        draw.text((2, round(size * 0.15) + k * line), part, fill="black", font=face)
    return np.asarray(strip)


def class_legend(class_names: list[str], ignore_index: int | None = None,
                 edged: bool = False, numbered: bool = False) -> list[tuple]:
    """(name, colour, hatched, edged) per class in the palette's colours, the name after its
    number when `numbered`; the ignore class hatched; with `edged` (pictures made by overlay)
    a dark class's swatch has the white edge its regions get."""
    dark = dark_classes(len(class_names)) & edged
    return [((f"{k} " if numbered else "") + name + (" (ignored)" if k == ignore_index else ""),
             colour, k == ignore_index, bool(dark[k]) and k != ignore_index)
            for k, (name, colour) in enumerate(zip(class_names, palette(len(class_names))))]


def legend_strip(legend: list[tuple], width: int, size: int | None = None) -> np.ndarray:
    """(h, width, 3) white strip of a class_legend's swatches and names flowed into rows, in
    font_size(width) by default."""
    size = size or font_size(width)
    face = font(size)
    rows = _legend_rows(legend, _measure(), face, width - 20, size)
    strip = Image.new("RGB", (width, round(size * 5 / 3) * len(rows) + 2), "white")
    _draw_legend(ImageDraw.Draw(strip), rows, 2, face, size)
    return np.asarray(strip)


def contact_sheet(tiles: list[tuple[Image.Image, str]], title: str, columns: int = 3,
                  legend: list[tuple] | None = None, text_size: int = CAPTION_FONT,
                  min_cell_width: int = MIN_CELL_WIDTH) -> bytes:
    """PNG bytes of tiles in a grid, each with a caption (wrapped), a title and a legend
    (class_legend's items), the text `text_size` px high.

    Cells are at least `min_cell_width` wide and as tall as the longest wrapped caption needs,
    so captions neither overlap nor get cut for square or portrait tiles; the title and the
    legend wrap to the sheet's width."""
    face, title_face = font(text_size), font(round(text_size * 4 / 3))
    line, title_line = round(text_size * 7 / 6), round(text_size * 5 / 3)
    if not tiles:
        tiles = [(Image.new("RGB", (200, 40), "white"), "nothing to show")]
    columns = max(1, min(columns, len(tiles)))
    tile_w = max(t.width for t, _ in tiles)
    tile_h = max(t.height for t, _ in tiles)
    cell_w = max(tile_w, min_cell_width) + 16
    measure = _measure()
    captions = [_fit(_wrap(c, measure, face, cell_w - 16), measure, face, cell_w - 16)
                for _, c in tiles]
    cell_h = tile_h + line * max(1, max(len(c) for c in captions)) + 12
    sheet_w = cell_w * columns + 16
    title_lines = _wrap(title, measure, title_face, sheet_w - 20)
    legend_rows = _legend_rows(legend or [], measure, face, sheet_w - 20, text_size)
    header = 14 + title_line * len(title_lines) + title_line * len(legend_rows)
    rows = (len(tiles) + columns - 1) // columns
    sheet = Image.new("RGB", (sheet_w, header + rows * cell_h + 8), "white")
    draw = ImageDraw.Draw(sheet)
    for k, text in enumerate(title_lines):
        draw.text((10, 8 + title_line * k), text, fill="black", font=title_face)
    _draw_legend(draw, legend_rows, 14 + title_line * len(title_lines), face, text_size)
    for n, ((tile, _), lines) in enumerate(zip(tiles, captions)):
        x = 8 + (n % columns) * cell_w
        y = header + (n // columns) * cell_h
        sheet.paste(tile, (x, y))
        for k, text in enumerate(lines):
            draw.text((x, y + tile_h + 4 + line * k), text, fill="black", font=face)
    return png_bytes(sheet)


def _legend_rows(legend, draw, face, width: int, size: int) -> list[list[tuple]]:
    """Legend items (x, name, colour, hatched, edged) flowed into rows no wider than `width`."""
    rows, row, x = [], [], 10
    for name, colour, *flags in legend:
        step = 2 * size + int(draw.textlength(name, font=face))
        if row and x + step > width:
            rows.append(row)
            row, x = [], 10
        row.append((x, name, colour, bool(flags and flags[0]), len(flags) > 1 and bool(flags[1])))
        x += step
    return rows + ([row] if row else [])


def _draw_legend(draw: ImageDraw.ImageDraw, rows: list[list[tuple]], top: int, face,
                 size: int) -> None:
    """A `size`-px swatch and the name per item, a row every 5/3 `size` px from `top`."""
    for r, row in enumerate(rows):
        for x, name, colour, hatched, edged in row:
            y = top + round(size * 5 / 3) * r
            fill = IGNORE_BASE if hatched else tuple(int(c) for c in colour)
            draw.rectangle([x, y, x + size, y + size], fill=fill,
                           outline="black" if fill == (255, 255, 255) else None)
            if hatched:
                for d in range(0, size + 1, HATCH_PERIOD):  # the ignore class's grey hatching
                    draw.line([x + d, y + size, x + size, y + d], fill=IGNORE_GREY)
                    draw.line([x, y + size - d, x + size - d, y], fill=IGNORE_GREY)
            if edged:
                draw.rectangle([x + 1, y + 1, x + size - 1, y + size - 1], outline=EDGE)
            draw.text((x + size + 4, y - 1), name, fill="black", font=face)


def _fit(lines: list[str], draw, face, width: int, most: int = MAX_CAPTION_LINES) -> list[str]:
    """At most `most` lines, the last ending in an ellipsis when text was cut."""
    if len(lines) <= most:
        return lines
    last = lines[most - 1]
    while last and draw.textlength(last + " ...", font=face) > width:
        last = last[:-1]
    return lines[:most - 1] + [last.rstrip() + " ..."]


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


def png_bytes(picture: Image.Image | np.ndarray) -> bytes:
    """PNG bytes of a PIL image or an (H, W) / (H, W, 3) uint8 array."""
    if isinstance(picture, np.ndarray):
        picture = Image.fromarray(picture)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


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
