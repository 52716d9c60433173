"""Bar charts stay legible from 2 to 32 classes (issue 21: at 11+ classes labels ran together,
values overlapped, the legend covered bars). Checked on the drawn figure: the extents of the
texts matplotlib's renderer lays out, the bars' colours, the figure's size; and through the
charts the commands write."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from curate.ui.palette import _srgb_to_lab
from curate.ui.plots import bar_chart, bar_figure

CLASS_COUNTS = (2, 5, 12, 32)
NAMES = ["sky", "building", "pole", "road", "pavement", "tree", "sign symbol", "fence", "car",
         "pedestrian", "bicyclist", "void"] + [f"a longer class name {k}" for k in range(12, 32)]
SERIES = ("train", "val", "test", "all")


def _series(k: int, s: int) -> dict[str, list[float]]:
    rng = np.random.default_rng(k * 10 + s)
    return {name: (rng.dirichlet(np.ones(k)) * 100).tolist() for name in SERIES[:s]}


def _drawn(k: int, s: int):
    fig = bar_figure(_series(k, s), NAMES[:k], "Images containing each class, per split",
                     "images containing the class (%)")
    fig.canvas.draw()
    return fig, fig.canvas.get_renderer()


def _overlap(a, b) -> bool:
    """Two display-space boxes overlap by more than a pixel in both directions."""
    return min(a.x1, b.x1) - max(a.x0, b.x0) > 1 and min(a.y1, b.y1) - max(a.y0, b.y0) > 1


@pytest.mark.parametrize("s", [1, 2, 4])
@pytest.mark.parametrize("k", CLASS_COUNTS)
def test_no_two_texts_overlap_and_the_legend_covers_no_bar(k, s):
    fig, renderer = _drawn(k, s)
    ax = fig.axes[0]
    ticks = [t for t in ax.get_yticklabels() if t.get_text()]
    assert [t.get_text() for t in ticks] == NAMES[:k]                  # every class named
    values = [t for t in ax.texts if t.get_text()]
    texts = ticks + values + [ax.title, ax.xaxis.label]
    boxes = [t.get_window_extent(renderer) for t in texts]
    for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2):
        assert not _overlap(a, b), (texts[i].get_text(), texts[j].get_text())
    bars = [p.get_window_extent(renderer) for p in ax.patches]
    for text, box in zip(values, boxes[len(ticks):]):                   # no value on a bar
        assert not any(_overlap(box, bar) for bar in bars), text.get_text()
    legend = ax.get_legend()
    if s > 1:
        frame = legend.get_window_extent(renderer)
        assert not any(_overlap(frame, bar) for bar in bars)
    else:
        assert legend is None
    # Values are written where they fit: at every count up to 32 classes x 4 series.
    assert len(values) == k * s


@pytest.mark.parametrize("k", CLASS_COUNTS)
def test_bar_colours_are_far_apart(k):
    fig, _ = _drawn(k, 4)
    colours = {tuple(np.round(p.get_facecolor()[:3], 4)) for p in fig.axes[0].patches}
    assert len(colours) == 4
    lab = _srgb_to_lab(np.array(sorted(colours)) * 255)
    distances = [np.linalg.norm(a - b) for a, b in itertools.combinations(lab, 2)]
    assert min(distances) > 25          # CIELAB delta E: clearly different hues


def test_the_chart_grows_with_the_classes():
    heights = [Image.open(io.BytesIO(bar_chart(_series(k, 3), NAMES[:k], "t", "%"))).height
               for k in CLASS_COUNTS]
    assert heights == sorted(heights) and heights[-1] > 4 * heights[0]
    # Thick enough for their values: about 8 pt per bar (110 dpi), 32 classes x 3 series.
    assert heights[-1] >= 32 * 3 * 0.1 * 110


@pytest.mark.parametrize("k", CLASS_COUNTS)
def test_split_figure_names_every_class(k):
    from curate.split.report import split_figure

    rng = np.random.default_rng(k)
    report = pd.DataFrame([{"split": split, "class_name": NAMES[c],
                            "image_share_pct": float(rng.uniform(0, 100))}
                           for split in ("train", "val", "test", "all") for c in range(k)])
    picture = Image.open(io.BytesIO(split_figure(report)))
    assert picture.height >= 150 + 20 * k and picture.width < 1200
