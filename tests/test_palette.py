"""Class colours: distinct for many classes, never black, colour-blind-safe classes 1-7, the
same in both packages (one picture kit, curate.ui.plots, draws for both)."""

from __future__ import annotations

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from curate.ui import palette as curate_palette
from curate.cli.main import app
from curate.ui import plots as ui_plots
from segment.data.folder import to_picture

# CIELAB distance (Delta E 1976) below which two class colours count as too close. A just
# noticeable difference is about 2.3 (Sharma, "Digital Color Imaging Handbook", 2003); 20 is
# well past "obviously different when side by side", which is how classes meet in a mask.
# The closest pair of the 8 Okabe-Ito colours themselves (sky blue vs blue) is about 26.
MIN_DELTA_E = 20.0
# CIEDE2000 below which two of the first 20 class colours count as too close. Delta E 2000
# weighs hue, chroma and lightness as people see them (Delta E 1976 calls navy and blue far
# apart); about 1 is just noticeable, and the closest pair of the Okabe-Ito colours themselves
# (orange vs yellow) is 21.7. 19 leaves no two of 20 classes looking alike at a glance.
MIN_DELTA_E2000 = 19.0
# Lightness (CIELAB L*, 0..100) below which a colour reads as black: "no label" or a dark image.
MIN_LIGHTNESS = 30.0
# Mars (5 classes, class 0 ignored and so hatched) keeps its colours for classes 1-4.
MARS_COLOURS = [[230, 159, 0], [86, 180, 233], [0, 158, 115], [240, 228, 66]]
# CIEDE2000 test pairs with their published differences (Sharma, Wu & Dalal 2005, table 1).
SHARMA_PAIRS = [((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425),
                ((50, 3.1571, -77.2803), (50, 0, -82.7485), 2.8615),
                ((50, 0, 0), (50, -1, 2), 2.3669),
                ((50, 2.5, 0), (50, 0, -2.5), 4.3065),
                ((50, 2.5, 0), (73, 25, -18), 27.1492),
                ((50, 2.5, 0), (61, -5, 29), 22.8977),
                ((50, 2.5, 0), (56, -27, -3), 31.9030),
                ((50, 2.5, 0), (58, 24, 15), 19.4535)]


def test_32_classes_get_pairwise_distinct_colours():
    colours = curate_palette.palette(32)
    lab = curate_palette._srgb_to_lab(colours)
    distance = np.linalg.norm(lab[:, None] - lab[None], axis=2)
    distance[np.eye(32, dtype=bool)] = np.inf
    assert len({tuple(c) for c in colours.tolist()}) == 32
    assert distance.min() >= MIN_DELTA_E, distance.min()


def test_delta_e2000_matches_the_published_test_pairs():
    first, second, expected = (np.array(v, np.float64) for v in zip(*SHARMA_PAIRS))
    assert np.allclose(curate_palette.delta_e2000(first, second), expected, atol=1e-4)
    assert np.allclose(curate_palette.delta_e2000(second, first), expected, atol=1e-4)


def test_first_20_classes_look_distinct_in_ciede2000():
    """CamVid (12 classes) drew pedestrian (9) navy and bicyclist (10) blue: 16.6 apart."""
    lab = curate_palette._srgb_to_lab(curate_palette.palette(20))
    distance = curate_palette.delta_e2000(lab[:, None], lab[None])
    distance[np.eye(20, dtype=bool)] = np.inf
    closest = np.unravel_index(np.argmin(distance), distance.shape)
    assert distance.min() >= MIN_DELTA_E2000, (distance.min(), closest)


def test_no_real_class_is_black_or_near_black():
    """CamVid's sky (class 0) was black; only the ignore class may look like 'no label'."""
    lab = curate_palette._srgb_to_lab(curate_palette.palette(256))
    assert lab[:, 0].min() >= MIN_LIGHTNESS, np.flatnonzero(lab[:, 0] < MIN_LIGHTNESS)


def test_classes_1_to_7_are_okabe_ito_and_mars_keeps_its_colours():
    assert curate_palette.palette(5)[1:].tolist() == MARS_COLOURS
    assert curate_palette.palette(8)[1:].tolist() == [list(c) for c in curate_palette.BASE]


def test_overlays_and_coloured_masks_give_the_same_colours():
    mask = np.arange(36, dtype=np.uint8).reshape(6, 6)
    assert np.array_equal(ui_plots.colour_mask(mask, 36), curate_palette.palette(36)[mask])
    # segment's overlays: every label its palette colour (no magenta past num_classes)
    full = ui_plots.overlay(np.zeros((6, 6), np.uint8), mask, alpha=1.0)
    seen = ~ui_plots.dark_classes(36)[mask]  # dark classes get white edges instead
    assert seen.sum() >= 30 and np.array_equal(full[seen], curate_palette.palette(36)[mask][seen])


def test_segment_overlay_hatches_the_ignore_class():
    image = np.full((1, 12, 12), 200, np.uint8)
    mask = np.zeros((12, 12), np.uint8)
    mask[:, 6:] = 1
    plain = ui_plots.overlay(to_picture(image), mask)
    hatched = ui_plots.overlay(to_picture(image), mask, ignore_index=0)
    changed = np.any(plain != hatched, axis=2)
    assert changed[:, :6].any() and not changed[:, 6:].any()


def test_contact_sheet_shows_twelve_distinct_classes_and_hatched_ignore(tmp_path):
    """A 12-class street-like folder: every class colour appears once, void is hatched grey."""
    for sub in ("images", "masks"):
        (tmp_path / "data" / sub).mkdir(parents=True)
    rng = np.random.default_rng(0)
    stripes = np.repeat(np.arange(12, dtype=np.uint8), 4)[:, None].repeat(48, axis=1)  # (48, 48)
    for k in range(4):
        image = rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)
        Image.fromarray(image).save(tmp_path / "data" / "images" / f"f{k}.png")
        Image.fromarray(stripes).save(tmp_path / "data" / "masks" / f"f{k}.png")
    Image.fromarray(image).save(tmp_path / "data" / "images" / "copy.png")  # exact duplicate
    Image.fromarray(stripes).save(tmp_path / "data" / "masks" / "copy.png")
    grey = {}
    for ignore in ("0", "-1"):
        sheet = tmp_path / f"sheet{ignore}.png"
        result = CliRunner().invoke(app, ["outliers", str(tmp_path / "data"), "--dry-run",
                                          "--sheet", str(sheet), "--num-classes", "12",
                                          "--ignore-index", ignore])
        assert result.exit_code == 0, result.output
        pixels = np.asarray(Image.open(sheet).convert("RGB")).reshape(-1, 3)
        present = {tuple(p) for p in np.unique(pixels, axis=0).tolist()}
        colours = [tuple(c) for c in curate_palette.palette(12).tolist()]
        shown = {c for k, c in enumerate(colours) if k != int(ignore)}  # ignored: hatched
        assert len(set(colours)) == 12 and shown <= present
        grey[ignore] = int((pixels == curate_palette.IGNORE_GREY).all(axis=1).sum())
    # Anti-aliased text has a few such grey pixels too; the hatching adds many more.
    assert grey["0"] >= grey["-1"] + 100, grey


def test_ignore_class_looks_the_same_whatever_its_number():
    """Void as class 11 of 12 must not borrow class 11's colour: light grey, grey lines."""
    from curate.ui.plots import colour_mask

    looks = []
    for ignore in (0, 11):
        mask = np.full((12, 12), ignore, np.uint8)
        rgb = colour_mask(mask, 12, ignore).reshape(-1, 3)
        looks.append(rgb)
        assert {tuple(p) for p in rgb.tolist()} == {curate_palette.IGNORE_BASE,
                                                    curate_palette.IGNORE_GREY}
    assert np.array_equal(*looks)
    seg = ui_plots.overlay(np.zeros((12, 12), np.uint8), np.full((12, 12), 11, np.uint8),
                           alpha=1.0, ignore_index=11)  # segment's overlays
    assert np.array_equal(seg.reshape(-1, 3), looks[1])


def test_segment_report_legend_marks_the_ignore_class():
    from segment.report.sections import _legend

    html = _legend(["void", "road", "car"], ignore_index=0)
    assert "0 void (ignored)" in html and "repeating-linear-gradient" in html
    assert "(ignored)" not in _legend(["void", "road", "car"])
