"""One raw reader: the same files read to the same pixels in curate and in segment (evaluate,
predict, calibrate and a curated folder's split), whatever the files' quirks: two files with
one stem, palette images, 16-bit images, images over the decompression-bomb limit."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from curate.cli.main import app as curate_app
from curate.io.errors import InputError
from curate.data.readers import read_dataset
from segment.data.folder import load_dataset as segment_dataset
from segment.data.folder import read_image, read_mask
from segment.evaluation.scores import LabelOptions, labelled_pairs
from segment.evaluation.predict import load_inputs
from segment.model.checkpoints import RunMeta
from segment.model.unet import UNetSpec

BOMB = Path(__file__).parent / "bad_inputs" / "bomb"
runner = CliRunner()


def _meta(channels: int, num_classes: int = 4) -> RunMeta:
    """A checkpoint's meta; segment's readers take the input channels and classes from it."""
    return RunMeta(UNetSpec(in_channels=channels, num_classes=num_classes),
                   [f"c{k}" for k in range(num_classes)], num_classes, None,
                   {"mean": [0.5] * channels, "std": [0.25] * channels}, [1.0] * num_classes,
                   [0] * num_classes)


def _quirky_folder(root: Path) -> Path:
    """images/ + masks/ with a duplicate stem (a.png and a.tif, different pixels), a palette
    image whose colours are not gray, a 16-bit image, and an ordinary gray image."""
    rng = np.random.default_rng(3)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    first = rng.integers(0, 256, (24, 32), dtype=np.uint8)
    Image.fromarray(first).save(root / "images" / "a.png")
    Image.fromarray(255 - first).save(root / "images" / "a.tif")   # same stem, sorts after
    palette = Image.fromarray(rng.integers(0, 4, (24, 32), dtype=np.uint8), mode="P")
    palette.putpalette([255, 0, 0, 0, 200, 0, 0, 0, 255, 250, 250, 0] + [0] * 756)
    palette.save(root / "images" / "b.png")
    deep = (rng.integers(0, 65536, (24, 32))).astype(np.uint16)
    Image.fromarray(deep).save(root / "images" / "c.png")
    Image.fromarray(rng.integers(0, 256, (24, 32), dtype=np.uint8)).save(root / "images" / "d.png")
    for stem in "abcd":
        Image.fromarray(rng.integers(0, 4, (24, 32), dtype=np.uint8)).save(root / "masks" / f"{stem}.png")
    return root


@pytest.fixture(scope="module")
def quirky(tmp_path_factory) -> Path:
    return _quirky_folder(tmp_path_factory.mktemp("quirky") / "raw")


def _curate_pixels(folder: Path):
    data = read_dataset(folder)
    images = [np.asarray(data.images[i]) for i in range(len(data.ids))]
    masks = [np.asarray(data.masks[i]) for i in range(len(data.ids))]
    return data.ids, images, masks


def test_curate_and_segment_read_the_same_pixels(quirky):
    ids, images, masks = _curate_pixels(quirky)
    assert ids == ["a", "b", "c", "d"] and all(im.ndim == 2 for im in images)
    with Image.open(quirky / "images" / "a.png") as first:
        assert np.array_equal(images[0], np.asarray(first))   # the first of a stem wins
    for channels, mode in ((1, "L"), (3, "RGB")):
        predict_ids, predicted = load_inputs(quirky, None, mode)
        scored, labels, _, _, score_ids = labelled_pairs(_meta(channels), quirky, None, LabelOptions())
        assert predict_ids == score_ids == ids
        for image, mask, a, b, label in zip(images, masks, predicted, scored, labels):
            expected = np.repeat(image[None], channels, axis=0)   # (C, H, W): gray in every channel
            assert np.array_equal(a, expected) and np.array_equal(b, expected)
            assert np.array_equal(label, mask)


def test_a_palette_image_is_gray_everywhere(quirky):
    ids, images, _ = _curate_pixels(quirky)
    with Image.open(quirky / "images" / "b.png") as palette:
        gray = np.asarray(palette.convert("L"))
    assert np.array_equal(images[ids.index("b")], gray)
    rgb = read_image(quirky / "images" / "b.png", "RGB")
    assert rgb.shape == (3, 24, 32) and all(np.array_equal(channel, gray) for channel in rgb)


def test_a_curated_folder_reads_back_the_raw_pixels(quirky, tmp_path):
    out = tmp_path / "curated"
    result = runner.invoke(curate_app, ["split", str(quirky), "-o", str(out), "--num-classes", "4"])
    assert result.exit_code == 0, result.output
    info = segment_dataset(out)
    ids, images, masks = _curate_pixels(quirky)
    rows = info.manifest.set_index("id")
    for i, stem in enumerate(ids):
        assert np.array_equal(read_image(out / rows.loc[stem, "image"])[0], images[i])
        assert np.array_equal(read_mask(out / rows.loc[stem, "mask"]), masks[i])


def test_an_image_over_the_pixel_limit_is_refused_by_every_reader(tmp_path):
    data = tmp_path / "bomb"
    shutil.copytree(BOMB, data)
    curated = read_dataset(data)           # curate sets the pair aside as a problem
    assert "huge" not in curated.ids
    assert any("huge.png" in p.source and "decompression bomb" in p.reason
               for p in curated.problems)
    before = sorted(p.name for p in data.rglob("*"))
    for read in (lambda: load_inputs(data, None, "L"),
                 lambda: labelled_pairs(_meta(1), data, None, LabelOptions()),
                 lambda: read_image(data / "images" / "huge.png")):
        with pytest.raises(InputError, match=r"huge\.png .*decompression bomb"):
            read()
    assert sorted(p.name for p in data.rglob("*")) == before


def test_both_command_lines_read_the_label_words_alike():
    """One parser (curate.io.label_maps.label_words) feeds curate's ReadOptions and segment's
    LabelOptions: no --ignore-index lets the source decide, -1 means none."""
    from curate.cli.common import read_options
    from curate.io.label_maps import label_words

    for ignore, expected, given in ((None, None, False), (-1, None, True), (0, 0, True)):
        words = label_words(5, "0:1,255:0", ignore)
        assert (words.label_map, words.ignore_index, words.ignore_given) == (
            {0: 1, 255: 0}, expected, given)
        read = read_options(5, None, "0:1,255:0", ignore)
        scored = LabelOptions.from_words(words)
        assert (read.label_map, read.ignore_index, read.ignore_from_layout) == (
            scored.label_map, scored.ignore_index, scored.ignore_from_checkpoint)
        assert read.num_classes == scored.num_classes == 5
