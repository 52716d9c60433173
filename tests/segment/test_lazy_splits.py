"""Splits held by file reference (SEGMENT_LAZY_BYTES): the FileStack indexes like the eager
array, load_split checks it the same way, and train / evaluate / crossval give the same results."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import write_dataset
from segment.cli import app
from segment.data.folder import class_counts, load_dataset, load_split, normalization
from segment.errors import USER_ERRORS, InputError
from segment.data.file_stack import FileStack, take_rows
from segment.data.sampling import has_class

runner = CliRunner()
TINY_ARGS = ["--set", "base_width=4", "--set", "depth=2", "--batch-size", "4", "--set", "threads=1",
             "--set", "spatial_dropout=0", "--set", "dropout=0", "--device", "cpu"]


def both_ways(monkeypatch, info, split="train", mode=None):
    """load_split eager (default budget) and by reference (budget 0)."""
    monkeypatch.delenv("SEGMENT_LAZY_BYTES", raising=False)
    eager = load_split(info, split, mode)
    monkeypatch.setenv("SEGMENT_LAZY_BYTES", "0")
    return eager, load_split(info, split, mode)


@pytest.fixture(scope="module")
def rgb_dataset(tmp_path_factory, mars_pairs) -> Path:
    """10 RGB pairs (the gray Mars images with shifted channels), all train."""
    images, masks = mars_pairs
    rgb = np.stack([images[:10], images[10:20], 255 - images[:10]], -1)
    return write_dataset(tmp_path_factory.mktemp("rgb") / "rgb10", rgb, masks[:10], ["train"] * 10)


@pytest.mark.parametrize("which", ["small", "rgb"])
def test_file_stack_indexes_like_the_eager_array(which, small_dataset, rgb_dataset, monkeypatch):
    info = load_dataset(small_dataset if which == "small" else rgb_dataset)
    (images, masks, ids), (lazy_images, lazy_masks, lazy_ids) = both_ways(monkeypatch, info)
    assert lazy_ids == ids
    for eager, lazy in ((images, lazy_images), (masks, lazy_masks)):
        assert isinstance(lazy, FileStack)
        assert (lazy.shape, lazy.dtype, lazy.ndim, len(lazy)) == (eager.shape, eager.dtype, eager.ndim, len(eager))
        for index in (3, -1, np.int64(2), slice(2, 7), slice(None, None, 3), slice(-4, None),
                      np.array([5, 0, 5]), [1, 2], np.arange(len(eager)) % 2 == 0):
            got = lazy[index]
            assert isinstance(got, np.ndarray) and got.dtype == np.uint8
            np.testing.assert_array_equal(got, eager[index])
        subset = lazy.take([4, 1])
        assert isinstance(subset, FileStack) and subset.shape == eager[[4, 1]].shape
        np.testing.assert_array_equal(subset[:], eager[[4, 1]])
        np.testing.assert_array_equal(take_rows(lazy, slice(1, None, 2))[-1], eager[1::2][-1])
        np.testing.assert_array_equal(take_rows(eager, [0, 2]), eager[[0, 2]])
        with pytest.raises(IndexError):
            lazy[len(eager)]
    assert lazy_images[0].flags.writeable  # like a row of the eager array


def test_lazy_split_holds_paths_not_pixels(small_dataset, monkeypatch):
    monkeypatch.setenv("SEGMENT_LAZY_BYTES", "0")
    images, masks, _ = load_split(load_dataset(small_dataset), "train")
    for stack in (images, masks):
        assert isinstance(stack, FileStack)
        assert all(isinstance(p, Path) for p in stack.paths) and len(stack.paths) == 12
        assert not any(isinstance(v, np.ndarray) for v in vars(stack).values())
    assert images.shape == (12, 1, 64, 128)


def test_small_split_stays_eager_under_the_default_budget(small_dataset, monkeypatch):
    monkeypatch.delenv("SEGMENT_LAZY_BYTES", raising=False)
    images, masks, _ = load_split(load_dataset(small_dataset), "train")
    assert type(images) is np.ndarray and type(masks) is np.ndarray
    # 12 pairs of 64x128 gray: 12 * 2 * 8192 = 196,608 decoded bytes; a budget one below goes lazy
    monkeypatch.setenv("SEGMENT_LAZY_BYTES", str(196_608))
    assert type(load_split(load_dataset(small_dataset), "train")[0]) is np.ndarray
    monkeypatch.setenv("SEGMENT_LAZY_BYTES", str(196_607))
    assert isinstance(load_split(load_dataset(small_dataset), "train")[0], FileStack)


@pytest.mark.parametrize("value", ["lots", "-1", "2.5"])
def test_bad_budget_is_a_clear_error(value, small_dataset, monkeypatch):
    monkeypatch.setenv("SEGMENT_LAZY_BYTES", value)
    with pytest.raises(USER_ERRORS, match="SEGMENT_LAZY_BYTES=.*expected an integer >= 0"):
        load_split(load_dataset(small_dataset), "train")


def error_both_ways(monkeypatch, root: Path) -> list[str]:
    messages = []
    for budget in ("2000000000", "0"):
        monkeypatch.setenv("SEGMENT_LAZY_BYTES", budget)
        with pytest.raises(InputError) as caught:
            load_split(load_dataset(root), "train")
        messages.append(str(caught.value))
    return messages


def test_label_error_is_the_same_both_ways(mars_pairs, tmp_path, monkeypatch):
    images, masks = mars_pairs[0][:6], mars_pairs[1][:6].copy()
    masks[2, 0, 0], masks[4, 5, 5] = 9, 7  # planted: two masks with labels beyond 5 classes
    root = write_dataset(tmp_path / "bad", images, masks, ["train"] * 6)
    eager, lazy = error_both_ways(monkeypatch, root)
    assert eager == lazy
    assert "2 mask(s) have labels >= num_classes=5 (first: pair002, max label 9)" in lazy


def test_size_errors_are_the_same_both_ways(mars_pairs, tmp_path, monkeypatch):
    images, masks = list(mars_pairs[0][:4]), list(mars_pairs[1][:4])
    images[1], masks[1] = images[1][:32], masks[1][:32]  # planted: one 32x128 pair
    eager, lazy = error_both_ways(monkeypatch, write_dataset(tmp_path / "a", images, masks, ["train"] * 4))
    assert eager == lazy and "images have 2 different sizes (32x128, 64x128)" in lazy
    images, masks = mars_pairs[0][:4], mars_pairs[1][:4, :, :64]  # planted: masks narrower
    eager, lazy = error_both_ways(monkeypatch, write_dataset(tmp_path / "b", images, masks, ["train"] * 4))
    assert eager == lazy and "images are (64, 128) but masks are (64, 64)" in lazy


def test_streamed_statistics_match_the_eager_ones(rgb_dataset, monkeypatch):
    (images, masks, _), (lazy_images, lazy_masks, _) = both_ways(monkeypatch, load_dataset(rgb_dataset))
    eager, lazy = normalization(images), normalization(lazy_images)
    exact = images.astype(np.float64) / 255.0
    # Exact integer sums a chunk at a time, both ways: the same numbers, not close ones.
    np.testing.assert_allclose(lazy["mean"], exact.mean(axis=(0, 2, 3)), rtol=1e-6)
    np.testing.assert_allclose(lazy["std"], exact.std(axis=(0, 2, 3)), rtol=1e-5)
    assert lazy == eager
    np.testing.assert_array_equal(class_counts(lazy_masks, 5), np.bincount(masks.reshape(-1), minlength=5))
    for k in range(5):
        np.testing.assert_array_equal(has_class(lazy_masks, k), (masks == k).reshape(10, -1).any(1))


def run_cli(monkeypatch, lazy: bool, args: list[str]):
    if lazy:
        monkeypatch.setenv("SEGMENT_LAZY_BYTES", "0")
    else:
        monkeypatch.delenv("SEGMENT_LAZY_BYTES", raising=False)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.slow
def test_train_by_reference_matches_eager(small_dataset, tmp_path, monkeypatch):
    scores = {}
    for lazy in (False, True):
        out = tmp_path / f"run_{lazy}"
        run_cli(monkeypatch, lazy, ["train", str(small_dataset), "-o", str(out), "--epochs", "3",
                                    "--set", "oversample_class=3", *TINY_ARGS, "--batch-size", "2",
                                    "--set", "base_width=8", "--lr", "0.01"])
        history = pd.read_csv(out / "metrics.csv")
        scores[lazy] = history, json.loads((out / "val_scores.json").read_text())
    assert scores[False][0]["val_mean_iou"].max() > 0  # the comparison is not of two zeros
    for column in ("val_mean_iou", "train_loss"):   # same pixels, same normalization: same run
        assert scores[True][0][column].tolist() == scores[False][0][column].tolist()
    assert scores[True][1] == scores[False][1]


def test_evaluate_by_reference_gives_identical_scores(small_dataset, tiny_run, tmp_path, monkeypatch):
    outputs = {}
    for lazy in (False, True):
        out = tmp_path / f"eval_{lazy}"
        run_cli(monkeypatch, lazy, ["evaluate", str(tiny_run / "best.pt"), str(small_dataset),
                                    "--split", "test", "-o", str(out), "--class", "4"])
        outputs[lazy] = [(out / name).read_bytes() for name in
                         ("scores_test.json", "rare_errors_test.csv")]
    assert outputs[True] == outputs[False]


def test_crossval_runs_by_reference(small_dataset, tmp_path, monkeypatch):
    out = tmp_path / "cv"
    run_cli(monkeypatch, True, ["crossval", str(small_dataset), "-o", str(out), "--folds", "2",
                                "--epochs", "1", *TINY_ARGS])
    table = pd.read_csv(out / "label_quality.csv", dtype={"id": str}, keep_default_na=False)
    assert table["row"].tolist() == list(range(12)) and sorted(set(table["fold"])) == [0, 1]
    assert np.load(out / "oof_probs.npy").shape == (12, 5, 64, 128)


def test_calibrate_by_reference_gives_identical_biases(small_dataset, tiny_run, tmp_path, monkeypatch):
    written = {}
    for lazy in (False, True):
        out = tmp_path / f"bias_{lazy}.json"
        run_cli(monkeypatch, lazy, ["calibrate", str(tiny_run / "best.pt"), str(small_dataset),
                                    "-o", str(out), "--device", "cpu"])
        written[lazy] = out.read_bytes()
    assert written[True] == written[False]
