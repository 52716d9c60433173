"""Foreign data end to end: datasets shaped unlike the Mars set, through every command.

Each test builds a small synthetic dataset (tests/foreign/synth.py) of a shape that broke the
first release (RGB street video with a void label, a long near-duplicate sequence, 0/255 and
raw 0..3+255 masks, square and tall images) and drives it through the CLIs as a user would:
curate stats / outliers / split / check-leakage / augment / run / card / report, then
segment train / evaluate / predict / report, on the curated folder and on the raw input.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from curate.cli.main import app as curate_app
from foreign import synth
from segment.cli import app as segment_app

runner = CliRunner()
TINY = ["--epochs", "1", "--set", "base_width=4", "--set", "depth=2", "--set", "threads=1",
        "--set", "compile=false"]
SHARED_RAW = Path(__file__).parents[2].parent / "shared" / "data" / "ai4mars-256-raw"
AI4MARS_MAP = ["--num-classes", "5", "--label-map", "0:1,1:2,2:3,3:4,255:0",
               "--ignore-index", "0"]


def curate(*args):
    return runner.invoke(curate_app, [str(a) for a in args])


def segment(*args):
    return runner.invoke(segment_app, [str(a) for a in args])


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    # Python warnings (e.g. pandas' PerformanceWarning) must not leak to the user.
    assert "Traceback" not in result.output, result.output
    assert not re.search(r"[a-z]Warning:", result.output), result.output
    return result.output


def refused(result, *phrases: str) -> str:
    """Exit 1 with an 'Error:' naming every phrase (case-insensitive)."""
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split()).lower()
    assert "error" in text, result.output
    for phrase in phrases:
        assert phrase.lower() in text, (phrase, result.output)
    return result.output


def splits_of(folder: Path) -> pd.Series:
    manifest = pd.read_csv(folder / "manifest.csv", dtype=str, keep_default_na=False)
    return manifest["split"].value_counts()


def no_leftovers(parent: Path) -> None:
    assert not [p.name for p in parent.iterdir() if ".tmp" in p.name]


def train_evaluate_predict(data: Path, tmp: Path, raw: Path | None = None,
                           raw_options: tuple[str, ...] = ()) -> dict:
    """segment train -> evaluate (curated and, if given, raw input) -> predict -> report."""
    run = tmp / "run"
    ok(segment("train", data, "-o", run, *TINY))
    scores = json.loads((run / "val_scores.json").read_text()) if (
        run / "val_scores.json").is_file() else {}
    result = ok(segment("evaluate", run / "best.pt", data, "--split", "test", "--print-json"))
    test = json.loads(result[result.index("{"):])
    assert 0.0 <= test["mean_iou"] <= 1.0
    predicted = tmp / "pred"
    ok(segment("predict", run / "best.pt", data, "-o", predicted, "--split", "test"))
    assert len(list((predicted / "masks").glob("*.png"))) == splits_of(data)["test"]
    ok(segment("report", run, data))
    assert (run / "report.html").stat().st_size > 10_000
    if raw is not None:
        result = ok(segment("evaluate", run / "best.pt", raw, *raw_options, "--print-json",
                            "-o", tmp / "raw_scores"))
        whole = json.loads(result[result.index("{"):])
        assert 0.0 <= whole["mean_iou"] <= 1.0
        # predict reads only the images of an images/+masks/ folder: no label options.
        ok(segment("predict", run / "best.pt", raw, "-o", tmp / "raw_pred"))
        assert len(list((tmp / "raw_pred" / "masks").glob("*.png"))) == len(
            list((raw / "images").iterdir()))
    return {"val": scores, "test": test}


# --- street-scene video: RGB, 12 classes with a void label, two long sequences ------------


@pytest.mark.slow
def test_street_video_refuses_an_empty_split_then_splits_by_blocks(tmp_path):
    raw = synth.street_video(tmp_path / "street")
    options = ["--num-classes", "12", "--ignore-index", "11"]
    out = ok(curate("stats", raw, *options))
    assert "class 10" in out and "PerformanceWarning" not in out

    # Two sequences (clips by file name, and near-duplicate groups): a split would be empty,
    # so the command refuses with the group sizes and the remedy, and writes nothing (the first
    # release wrote val = 0, exit 0).
    result = curate("run", raw, "-o", tmp_path / "far", *options)
    out = " ".join(result.output.split())
    assert result.exit_code == 1 and "would leave test empty" in out, out
    assert "18 of 36 pairs" in out and "--max-group-size" in out, out
    assert not (tmp_path / "far").exists()
    no_leftovers(tmp_path)

    # The remedy cuts each sequence into contiguous blocks without leakage.
    ok(curate("run", raw, "-o", tmp_path / "cur", *options, "--max-group-size", "6",
              "--class", "9", "--count", "4"))
    counts = splits_of(tmp_path / "cur")
    assert counts.get("val", 0) > 0 and counts.get("test", 0) > 0, counts
    ok(curate("check-leakage", tmp_path / "cur"))
    image = Image.open(next((tmp_path / "cur" / "images").iterdir()))
    assert image.mode == "RGB"
    train_evaluate_predict(tmp_path / "cur", tmp_path, raw, tuple(options))


# --- a grayscale sequence of near-identical frames -----------------------------------------


def test_static_sequence_cannot_be_split_without_leakage(tmp_path):
    # A static camera: 60 near-identical frames form one group, beside one other pair.
    raw = synth.gray_sequence(tmp_path / "seq", extra=1, pan=0)
    refused(curate("split", raw, "-o", tmp_path / "split"), "60 of 61", "--max-group-size")
    # Cutting does not help when every frame is a near duplicate of every other: the tool
    # says so instead of suggesting ever smaller blocks, and still writes nothing.
    out = refused(curate("split", raw, "-o", tmp_path / "split", "--max-group-size", "10"),
                  "static scene")
    assert "--max-group-size 9" not in out
    assert not (tmp_path / "split").exists()
    no_leftovers(tmp_path)


def test_panning_sequence_fills_every_split(tmp_path):
    raw = synth.gray_sequence(tmp_path / "seq", extra=20, pan=1)
    ok(curate("split", raw, "-o", tmp_path / "split"))
    counts = splits_of(tmp_path / "split")
    for split in ("train", "val", "test"):
        assert counts.get(split, 0) > 0, counts
    ok(curate("check-leakage", tmp_path / "split"))
    ok(curate("split", raw, "-o", tmp_path / "blocks", "--max-group-size", "8"))
    ok(curate("check-leakage", tmp_path / "blocks"))
    assert Image.open(next((tmp_path / "blocks" / "images").iterdir())).mode == "L"


def test_whole_dataset_as_one_held_out_split(tmp_path):
    raw = synth.square_multiclass(tmp_path / "held_out", count=12)
    ok(curate("split", raw, "-o", tmp_path / "test_only", "--ratios", "0,0,1"))
    assert splits_of(tmp_path / "test_only").to_dict() == {"test": 12}


# --- binary 0/255 masks, square images -----------------------------------------------------


@pytest.mark.slow
def test_binary_masks_square_images_end_to_end(tmp_path):
    raw = synth.binary_255(tmp_path / "cells")
    out = ok(curate("stats", raw))
    assert "255" in out  # the note says how 0/255 was read
    ok(curate("run", raw, "-o", tmp_path / "cur"))
    meta = json.loads((tmp_path / "cur" / "dataset.json").read_text())
    assert meta["num_classes"] == 2
    assert Image.open(next((tmp_path / "cur" / "images").iterdir())).mode == "L"
    train_evaluate_predict(tmp_path / "cur", tmp_path, raw)


# --- raw AI4Mars-like labels 0..3 + 255, tall grayscale JPEGs ------------------------------


@pytest.mark.slow
def test_raw_labels_need_a_map_and_collisions_are_refused(tmp_path):
    raw = synth.raw_ai4mars_like(tmp_path / "raw")
    refused(curate("stats", raw), "--label-map")
    refused(curate("stats", raw, "--label-map", "255:0"), "0:1")
    out = ok(curate("stats", raw, *AI4MARS_MAP))
    assert "big rock" in out

    ok(curate("run", raw, "-o", tmp_path / "cur", *AI4MARS_MAP, "--class", "4",
              "--count", "4"))
    image = Image.open(next((tmp_path / "cur" / "images").iterdir()))
    assert image.mode == "L" and image.size == (48, 96)
    train_evaluate_predict(tmp_path / "cur", tmp_path, raw, tuple(AI4MARS_MAP))


# --- square and tall multi-class images through the single commands -----------------------


@pytest.mark.slow
@pytest.mark.parametrize("height", [64, 128], ids=["square", "tall"])
def test_each_command_on_square_and_tall_images(tmp_path, height):
    raw = synth.square_multiclass(tmp_path / "raw", height=height)
    sheet = tmp_path / "sheet.png"
    ok(curate("outliers", raw, "-o", tmp_path / "clean", "--sheet", sheet))
    ok(curate("split", tmp_path / "clean", "-o", tmp_path / "split"))
    ok(curate("check-leakage", tmp_path / "split"))
    ok(curate("augment", tmp_path / "split", "-o", tmp_path / "grown", "--class", "4",
              "--count", "5"))
    ok(curate("card", tmp_path / "grown", "-o", tmp_path / "card.md"))
    ok(curate("report", tmp_path / "grown", "-o", tmp_path / "report.html"))
    assert (tmp_path / "card.md").read_text().startswith("---")
    masks = [np.asarray(Image.open(p)) for p in (tmp_path / "grown" / "masks").iterdir()]
    assert {m.shape for m in masks} == {(height, 64)}
    train_evaluate_predict(tmp_path / "grown", tmp_path)


# --- the real raw AI4Mars release (400 pairs, 256x256), when ../shared is present ---------


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_RAW.is_dir(),
                    reason="../shared/data/ai4mars-256-raw is absent (real data, not bundled)")
def test_real_raw_ai4mars_release(tmp_path):
    refused(curate("stats", SHARED_RAW, "--label-map", "255:0"), "would merge", "0:1")
    out = ok(curate("stats", SHARED_RAW, *AI4MARS_MAP))
    assert "big rock" in out
    ok(curate("outliers", SHARED_RAW, *AI4MARS_MAP, "--dry-run"))
    ok(curate("run", SHARED_RAW, "-o", tmp_path / "cur", *AI4MARS_MAP, "--class", "4",
              "--count", "10"))
    assert Image.open(next((tmp_path / "cur" / "images").iterdir())).mode == "L"
    run = tmp_path / "run"
    ok(segment("train", tmp_path / "cur", "-o", run, "--epochs", "2", "--set", "base_width=4",
               "--set", "depth=3", "--set", "threads=2", "--set", "compile=false"))
    result = ok(segment("evaluate", run / "best.pt", tmp_path / "cur", "--split", "test",
                        "--print-json"))
    assert 0.0 <= json.loads(result[result.index("{"):])["mean_iou"] <= 1.0
