"""Prediction pictures a user can read (issue 21): the `segment predict` sheet has a title, a
class legend and every tile's id; no class vanishes over the image (class 0 is black: ISBI
membranes disappeared on dark membranes); rare_errors captions are sized to the sheet."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from segment import plots
from curate.ui import plots as ui_plots
from curate.ui.palette import palette
from segment.data.folder import to_picture
from segment.cli import app

runner = CliRunner()


def _ink_rows(strip: np.ndarray) -> int:
    """Height in px of the dark (text) pixels of a white strip."""
    rows = np.flatnonzero((strip.min(2) < 128).any(1))
    return 0 if rows.size == 0 else int(rows[-1] - rows[0] + 1)


def test_a_black_class_over_a_dark_picture_stays_visible():
    image = np.full((1, 40, 40), 20, np.uint8)            # dark, like an EM membrane
    mask = np.ones((40, 40), np.uint8)
    mask[10:30, 18:22] = 0                                 # a thin class-0 (black) structure
    out = ui_plots.overlay(to_picture(image), mask)
    region = mask == 0
    assert ui_plots.dark_classes(2).tolist() == [True, False]
    # Before: black blended over near-black left the structure indistinguishable.
    assert (out[region] == 255).all(axis=1).mean() > 0.5   # its edges drawn white
    assert not (out[~region] == 255).all(axis=1).any()     # other classes keep their tint
    # The ignore class keeps its grey hatching, with no white edge, even when it is class 0.
    ignored = ui_plots.overlay(to_picture(image), mask, ignore_index=0)
    assert not (ignored[region] == 255).all(axis=1).any()


def test_rare_error_captions_grow_with_the_sheet():
    from segment.evaluation.rare_errors import _label, _legend

    for width, least in ((400, 8), (1932, 18)):
        row = np.zeros((50, width, 3), np.uint8)
        caption = _label(row, "NLB_123: false positive 10 px, missed 3 px of 40")[:-50]
        assert _ink_rows(caption) >= least, width          # was 9 px tall at 1,932 px
        assert _ink_rows(_legend(width, 4)) >= 2 * least


def test_long_ids_wrap_onto_a_second_line():
    one = ui_plots.text_strip("short", 128, 12, lines=2)
    two = ui_plots.text_strip("NLB_451027392EDR_F0311094NCAM00259M1", 128, 12, lines=2)
    assert two.shape[0] > one.shape[0] and _ink_rows(two) > 1.5 * _ink_rows(one)


@pytest.fixture(scope="module")
def tiny_run(small_dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("sheet") / "run"
    args = ["train", str(small_dataset), "-o", str(out), "--epochs", "1", "--set", "base_width=4",
            "--set", "depth=2", "--batch-size", "4", "--set", "threads=1", "--device", "cpu",
            "--set", "augment=false"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return out


def test_predict_sheet_has_a_legend_and_a_caption_per_tile(tiny_run, small_dataset, tmp_path):
    out = tmp_path / "pred"
    result = CliRunner().invoke(app, ["predict", str(tiny_run / "best.pt"), str(small_dataset),
                                      "-o", str(out), "--split", "test", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    sheet = np.asarray(Image.open(out / "contact_sheet.png").convert("RGB"))
    tiles = 6                                              # the test split of small_dataset
    h, w = 64, 128
    assert sheet.shape[1] == tiles * (w + 16) + 16        # curate.ui's contact_sheet cells
    # Title + legend above the tiles, a caption strip below each: taller than the tile row.
    assert sheet.shape[0] >= h + 3 * 12
    head = sheet[: sheet.shape[0] - h - 30]
    for k, colour in enumerate(palette(5)):
        if k == 0:                                         # the ignore class: hatched swatch
            continue
        assert (head == colour).all(axis=2).sum() >= 25, k  # a swatch of each class colour
    # Each tile's caption strip holds text (its id), right under the tile.
    top = next(r for r in range(sheet.shape[0]) if (sheet[r, 8:8 + w] != 255).any(1).mean() > 0.9
               and (sheet[r:r + h, 8:8 + w] != 255).any(2).mean() > 0.9)
    for c in range(tiles):
        x = 8 + c * (w + 16)
        assert _ink_rows(sheet[top + h: top + h + 40, x:x + w]) >= 8, c


@pytest.mark.parametrize("k", [2, 5, 12, 32])
def test_confusion_matrix_shares_and_names_never_collide(k):
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(k)
    conf = rng.integers(0, 50, (k, k)) + 400 * np.eye(k, dtype=int)
    fig = plots.confusion_figure(conf, [f"a long class name {c}" for c in range(k)])
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    for group in (ax.texts, ax.get_xticklabels(), ax.get_yticklabels()):
        b = np.array([t.get_window_extent(renderer).extents for t in group if t.get_text()])
        # (n, n) overlaps of the boxes (x0, y0, x1, y1), more than a pixel both ways
        wide = np.minimum(b[:, None, 2], b[None, :, 2]) - np.maximum(b[:, None, 0], b[None, :, 0])
        high = np.minimum(b[:, None, 3], b[None, :, 3]) - np.maximum(b[:, None, 1], b[None, :, 1])
        overlap = (wide > 1) & (high > 1)
        np.fill_diagonal(overlap, False)
        assert not overlap.any(), len(b)
    width = fig.get_size_inches()[0] * fig.dpi
    plt.close(fig)
    assert width <= 2000                               # 32 classes no longer 4,400 px wide


def test_predict_raw_values_writes_masks_through_the_inverse_label_map(tiny_run, mars_pairs,
                                                                       tmp_path):
    # Issue 31, 13: masks predicted as 0/1 look black; --raw-values writes what the dataset
    # was read from (here the AI4Mars raw encoding), and refuses a map that merged values.
    from conftest import write_dataset

    images, masks = mars_pairs
    data = write_dataset(tmp_path / "d", images[:4], masks[:4], ["test"] * 4)
    meta = json.loads((data / "dataset.json").read_text())
    read = {"command": "read", "options": {"label_map": {"0": 1, "1": 2, "2": 3, "3": 4, "255": 0}}}
    (data / "dataset.json").write_text(json.dumps({**meta, "history": [read]}))
    plain, raw = tmp_path / "plain", tmp_path / "raw"
    for out, extra in ((plain, []), (raw, ["--raw-values"])):
        result = runner.invoke(app, ["predict", str(tiny_run / "best.pt"), str(data), "-o",
                                     str(out), "--overlay", "none", *extra])
        assert result.exit_code == 0, result.output
    to_raw = np.array([255, 0, 1, 2, 3], np.uint8)
    for path in sorted((plain / "masks").glob("*.png")):
        labels = np.asarray(Image.open(path))
        assert (np.asarray(Image.open(raw / "masks" / path.name)) == to_raw[labels]).all()
    read["options"]["label_map"] = {"0": 0, "255": 0}   # a merge on purpose
    (data / "dataset.json").write_text(json.dumps({**meta, "history": [read]}))
    result = runner.invoke(app, ["predict", str(tiny_run / "best.pt"), str(data), "-o",
                                 str(tmp_path / "merged"), "--raw-values"])
    assert result.exit_code == 1
    assert "class 0 was read from raw values 0, 255" in result.stderr and "ambiguous" in result.stderr
