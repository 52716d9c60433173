"""Contact sheets: captions and title fit for wide, square and tall images (nothing cut), in
curate's 12-px text and in the larger text segment sizes to its tiles."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import ImageDraw

from curate.ui import plots

LONG_ID = "NLA_597418044EDR_F0730800NCAM00289M1_frame0001"
CAPTION = (f"[near_duplicate, kept] {LONG_ID}: near duplicate of {LONG_ID[:-10]} "
           "(distance 3 bits); grouped with 78 other frames for split")
TITLE = ("curate outliers: 12 of 6000 pairs removed; exact_duplicate 3, near_duplicate 120, "
         "shared_mask 7, unlabelled 2, dark 1")


def _drawn(monkeypatch, shape: tuple[int, int], columns: int = 3, caption: str = CAPTION,
           **sheet):
    """Draw a sheet of five tiles; return (sheet size, [(bbox, text)] of every text drawn)."""
    calls, original = [], ImageDraw.ImageDraw.text

    def spy(self, xy, text, *args, **kwargs):
        calls.append((self.textbbox(xy, text, font=kwargs.get("font")), text))
        return original(self, xy, text, *args, **kwargs)

    monkeypatch.setattr(ImageDraw.ImageDraw, "text", spy)
    rng = np.random.default_rng(0)
    h, w = shape
    tiles = [(plots.pair_tile(rng.integers(0, 255, (h, w), dtype=np.uint8),
                              np.zeros((h, w), np.uint8), 5, ignore_index=0), caption)
             for _ in range(5)]
    png = plots.contact_sheet(tiles, TITLE, columns=columns,
                              legend=plots.class_legend([f"class {k}" for k in range(32)], 0),
                              **sheet)
    from io import BytesIO

    from PIL import Image
    return Image.open(BytesIO(png)).size, calls


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _fits(size: tuple[int, int], calls) -> str:
    """Every text inside the sheet and clear of the others; returns all the words drawn."""
    width, height = size
    boxes = [box for box, _ in calls]
    for box, text in calls:   # nothing drawn past the sheet's edges: the title is not clipped
        assert box[0] >= 0 and box[1] >= 0 and box[2] <= width and box[3] <= height, text
    for i, a in enumerate(boxes):   # no two texts overlap (captions of neighbouring cells)
        assert not any(_overlap(a, b) for b in boxes[i + 1:]), calls[i][1]
    return " ".join(text for _, text in calls)


@pytest.mark.parametrize("shape", [(64, 128), (256, 256), (512, 512), (100, 300), (300, 100)])
def test_captions_and_title_fit_any_aspect_ratio(monkeypatch, shape):
    words = _fits(*_drawn(monkeypatch, shape))
    assert words.count("grouped with 78 other frames for split") == 5   # no caption cut short
    assert "".join(TITLE.split()) in "".join(words.split())


@pytest.mark.parametrize("shape", [(64, 128), (512, 512)])
def test_text_sized_to_the_tiles_fits_and_shows_whole_ids(monkeypatch, shape):
    """segment predict's sheet: text grows with the tiles (12 to 40 px), cells as wide as a
    tile, captions are ids."""
    size = plots.font_size(3 * 2 * shape[1])   # a pair tile is two images wide
    words = _fits(*_drawn(monkeypatch, shape, caption=LONG_ID, text_size=size, min_cell_width=0))
    assert "".join(words.split()).count(LONG_ID) == 5


def test_caption_longer_than_the_limit_ends_in_an_ellipsis(monkeypatch):
    calls, original = [], ImageDraw.ImageDraw.text
    monkeypatch.setattr(ImageDraw.ImageDraw, "text",
                        lambda self, xy, text, *a, **k: (calls.append(text),
                                                         original(self, xy, text, *a, **k)))
    tile = plots.pair_tile(np.zeros((32, 32), np.uint8), np.zeros((32, 32), np.uint8), 2)
    plots.contact_sheet([(tile, "word " * 400)], "t")
    caption = [c for c in calls if c.startswith("word")]
    assert len(caption) == plots.MAX_CAPTION_LINES and caption[-1].endswith("...")
