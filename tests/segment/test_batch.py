"""The default batch size follows the image size (a pixel budget); few steps get a warning."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import write_dataset
from segment.cli import app
from segment.config import TrainConfig
from segment.training.prepare import choose_batch_size
from segment.training.presets import PRESETS

runner = CliRunner()
TINY_ARGS = ["--epochs", "1", "--set", "base_width=4", "--set", "depth=2", "--set", "threads=1",
             "--device", "cpu", "--set", "augment=false"]


def _train(data, out, *extra):
    result = runner.invoke(app, ["train", str(data), "-o", str(out), *TINY_ARGS, *extra])
    assert result.exit_code == 0, result.output
    return result, json.loads((out / "config.json").read_text())["batch_size"]


def test_mars_64x128_keeps_batch_32(small_dataset, tmp_path):
    result, batch = _train(small_dataset, tmp_path / "run")
    assert batch == 32
    assert "batch 32 (pixel budget 1,048,576 px per batch for 64x128 images" in result.output


def test_large_images_get_a_small_batch(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (6, 256, 256), dtype=np.uint8)
    masks = rng.integers(0, 5, (6, 256, 256), dtype=np.uint8)
    data = write_dataset(tmp_path / "square", images, masks, ["train"] * 4 + ["val"] * 2)
    result, batch = _train(data, tmp_path / "run")
    assert batch == 16 and "batch 16 (pixel budget" in result.output
    _, batch = _train(data, tmp_path / "run2", "--batch-size", "3")  # explicit still wins
    assert batch == 3


def test_every_preset_sizes_the_batch_from_the_pixel_budget(tmp_path):
    # Issue 31, 5: --preset cpu-quick trained 512x512 pairs at batch 16 (one step an epoch)
    # and said the 16 came "from --batch-size or the resumed run".
    assert all(values["batch_size"] == 0 for values in PRESETS.values())
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (6, 512, 512), dtype=np.uint8)
    masks = rng.integers(0, 5, (6, 512, 512), dtype=np.uint8)
    data = write_dataset(tmp_path / "big", images, masks, ["train"] * 4 + ["val"] * 2)
    result, batch = _train(data, tmp_path / "run", "--preset", "cpu-quick")
    assert batch == 4
    assert "batch_size from the pixel budget" in result.output
    assert "batch 4 (pixel budget 1,048,576 px per batch for 512x512 images" in result.output
    assert "from --batch-size" not in result.output
    result, batch = _train(data, tmp_path / "run2", "--preset", "cpu-quick", "--batch-size", "3")
    assert batch == 3 and "kept: base_width, batch_size, epochs" in result.output
    assert "batch 3 (given: --batch-size or the batch_size setting) for 512x512" in result.output


def test_a_resumed_run_says_its_batch_was_saved(small_dataset, tmp_path):
    _train(small_dataset, tmp_path / "run", "--batch-size", "6")
    result, batch = _train(small_dataset, tmp_path / "run", "--resume", "--epochs", "2")
    assert batch == 6 and "batch 6 (saved in the resumed run) for 64x128" in result.output


def test_few_steps_in_the_run_warn_with_the_count_and_the_fixes(small_dataset, tmp_path):
    result, _ = _train(small_dataset, tmp_path / "run", "--batch-size", "4")
    assert ("Warning: the run has only 3 optimizer step(s) (1 epoch(s) x 3 step(s); 12 training "
            "pairs, batch 4)") in result.stderr
    assert "--batch-size 2 gives 6" in result.stderr and "--epochs 17 gives 51" in result.stderr


def test_enough_steps_in_the_run_give_no_warning(mars_pairs, tmp_path):
    # Issue 31, 13: the demo's recipe (262 pairs, batch 32, 8 epochs: 8 steps an epoch, 64 in
    # the run) warned "an epoch has only 8 optimizer steps"; the run's count is what matters.
    images, masks = mars_pairs
    data = write_dataset(tmp_path / "d", images[:44], masks[:44], ["train"] * 40 + ["val"] * 4)
    result, _ = _train(data, tmp_path / "run", "--batch-size", "4", "--epochs", "5")  # 10 x 5
    assert "Warning" not in result.stderr


def test_the_demo_recipe_does_not_warn_and_the_readme_tour_does():
    class Notes:
        def __init__(self):
            self.warnings = []

        def on_note(self, text, warning=False):
            if warning:
                self.warnings.append(text)

    images = np.zeros((262, 1, 64, 128), np.uint8)  # the curated 300-pair sample's train split
    for epochs, warned in ((8, False), (4, True)):  # .ci/demo; the README's --epochs 4
        notes = Notes()
        config = choose_batch_size(TrainConfig(epochs=epochs), images, notes)
        assert config.batch_size == 32 and bool(notes.warnings) == warned
