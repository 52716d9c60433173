"""curate split / run on sequence data: one near-duplicate group holding most pairs.

The data is synthetic and video-like: frames of one slowly panning scene (each frame the
previous one shifted by one pixel, so consecutive frames are near duplicates and the whole
clip chains into one group), plus a few unrelated scenes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from curate.split.blocks import cut_groups, describe_groups, fill_empty_splits, far_off
from curate.cli.main import app
from curate.data.readers import read_manifest
from curate.split.stratify import iterative_stratification

runner = CliRunner()
H, W = 128, 256          # large enough that a 1-px shift moves the 64-bit pHash by few bits


def smooth_scene(rng: np.random.Generator, width: int, sigma: float = 8.0) -> np.ndarray:
    """(H, width) float in 0..1: white noise blurred by a separable Gaussian."""
    r = int(3 * sigma)
    kernel = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    noise = rng.normal(0, 1, (H + 2 * r, width + 2 * r))
    rows = np.apply_along_axis(np.convolve, 1, noise, kernel, mode="valid")
    scene = np.apply_along_axis(np.convolve, 0, rows, kernel, mode="valid")
    return (scene - scene.min()) / (scene.max() - scene.min())


def scene_pair(scene: np.ndarray) -> np.ndarray:
    """(2, H, W) uint8 image and mask: classes 1..4 by brightness, a top band of 0."""
    image = (30 + 200 * scene).astype(np.uint8)
    mask = (np.digitize(scene, [0.3, 0.55, 0.8]) + 1).astype(np.uint8)
    mask[:4] = 0
    return np.stack([image, mask])


def video_pairs(frames: int, others: int, seed: int = 0) -> np.ndarray:
    """(frames + others, 2, H, W): a panning clip, then unrelated scenes."""
    rng = np.random.default_rng(seed)
    pan = smooth_scene(rng, W + frames)
    clip = [scene_pair(pan[:, f:f + W]) for f in range(frames)]
    return np.stack(clip + [scene_pair(smooth_scene(rng, W)) for _ in range(others)])


def write_npz(path: Path, pairs: np.ndarray) -> Path:
    np.savez(path, training_set=pairs, names=[f"frame_{i:03d}" for i in range(len(pairs))])
    return path


@pytest.fixture(scope="module")
def video_61(tmp_path_factory) -> Path:
    """60 frames of one clip and 1 unrelated scene."""
    return write_npz(tmp_path_factory.mktemp("video") / "video.npz", video_pairs(60, 1))


def invoke(*args: str):
    """A command on DATA (args[1]); a raw input is read with 5 classes, a curated folder
    carries its own (read options with one are refused)."""
    curated = (Path(args[1]) / "dataset.json").is_file()
    return runner.invoke(app, [*args] + ([] if curated else ["--num-classes", "5"]))


def flat(text: str) -> str:
    return " ".join(text.split())


# --- refused by default --------------------------------------------------------------------------

def test_split_refuses_an_empty_test_and_names_the_group_sizes(video_61, tmp_path):
    out = tmp_path / "split"
    result = invoke("split", str(video_61), "-o", str(out))
    text = flat(result.output)
    assert result.exit_code == 1, result.output
    assert "Error: The split would leave" in text and "empty although --ratios 0.7,0.15,0.15" in text
    assert "one group holds 60 of 61 pairs (98 %)" in text
    assert "--max-group-size 9" in text                       # 15 % of 61 pairs
    assert "check-leakage" in text
    assert not out.exists()


def test_run_refuses_too_and_writes_nothing(tmp_path):
    pairs = video_pairs(60, 1)
    pairs[-1, 0] = 128                 # the unrelated scene made blank: an outlier run removes
    data = write_npz(tmp_path / "video.npz", pairs)
    out = tmp_path / "curated"
    result = invoke("run", str(data), "-o", str(out), "--class", "4", "--count", "5")
    assert result.exit_code == 1, result.output
    text = flat(result.output)
    assert "one group holds 60 of" in text
    assert "The split saw 60 of the 61 input pairs" in text     # the other one: an outlier
    assert not out.exists() and sorted(tmp_path.iterdir()) == [data]


# --- the remedy: contiguous blocks, sealed cuts ---------------------------------------------------

def test_max_group_size_fills_every_split_without_leakage(video_61, tmp_path):
    out = tmp_path / "split"
    result = invoke("split", str(video_61), "-o", str(out), "--max-group-size", "9")
    text = flat(result.output)
    assert result.exit_code == 0, result.output
    assert "--max-group-size 9: cut 1 group (60 pairs) into 7 blocks" in text
    manifest = read_manifest(out)
    counts = manifest["split"].value_counts()
    assert counts.get("val", 0) > 0 and counts.get("test", 0) > 0
    gap = manifest["split"] == ""
    gaps = int(re.search(r"left (\d+) pairs at the cuts", text).group(1))
    assert gaps == gap.sum() > 0                    # neighbours across a cut were left out
    assert (manifest.loc[gap, "split_gap"].str.contains("near duplicate")).all()
    assert (manifest.loc[~gap, "split_gap"].fillna("") == "").all()
    # Blocks are contiguous runs of frames, in frame order.
    blocks = manifest[manifest["split_block"].fillna("") != ""]
    assert len(blocks) == 60
    for _, part in blocks.groupby("split_block"):
        frames = sorted(int(i.split("_")[1]) for i in part["id"])
        assert frames == list(range(frames[0], frames[0] + len(frames)))
        assert len(frames) in (8, 9)
    # A split's blocks lie side by side: along the clip the split changes at most twice.
    along = [x for x in blocks.sort_values("id")["split"] if x]
    assert sum(a != b for a, b in zip(along, along[1:])) <= 2
    leakage = invoke("check-leakage", str(out))
    assert leakage.exit_code == 0, leakage.output
    assert "No leakage" in leakage.output
    step = json.loads((out / "dataset.json").read_text())["history"][-1]
    assert step["summary"]["cut"]["gap_pairs"] == gaps
    assert step["options"]["max_group_size"] == 9


def test_max_group_size_as_a_fraction_and_through_run(video_61, tmp_path):
    out = tmp_path / "curated"
    result = invoke("run", str(video_61), "-o", str(out), "--max-group-size", "0.15",
                    "--class", "4", "--count", "5", "--no-card")
    assert result.exit_code == 0, result.output
    assert "--max-group-size 9:" in flat(result.output)         # 15 % of 61 pairs
    manifest = read_manifest(out)
    assert {"train", "val", "test"} <= set(manifest["split"])
    assert invoke("check-leakage", str(out)).exit_code == 0


def test_group_column_sets_the_order_of_the_blocks(tmp_path):
    pairs = video_pairs(40, 0, seed=3)
    shuffled = np.random.default_rng(1).permutation(40)          # dataset order != frame order
    source = write_npz(tmp_path / "shuffled.npz", pairs[shuffled])
    first = tmp_path / "first"
    assert invoke("split", str(source), "-o", str(first), "--ratios", "1,0,0").exit_code == 0
    manifest = pd.read_csv(first / "manifest.csv", dtype=str, keep_default_na=False)
    manifest["frame"] = shuffled                                 # the true frame number
    manifest.to_csv(first / "manifest.csv", index=False)
    out = tmp_path / "blocks"
    result = invoke("split", str(first), "-o", str(out), "--group-column", "frame",
                    "--max-group-size", "8", "--ratios", "0.6,0.2,0.2")
    assert result.exit_code == 0, result.output
    cut = read_manifest(out)
    cut["frame"] = cut["frame"].astype(int)
    for _, part in cut.groupby("split_block"):
        frames = sorted(part["frame"])
        assert frames == list(range(frames[0], frames[0] + len(frames)))
    assert invoke("check-leakage", str(out)).exit_code == 0


@pytest.mark.parametrize("value, message", [("2.5", "not a whole number"), ("0", "must be a "
                                                                          "number of pairs")])
def test_a_bad_max_group_size_is_refused_before_reading(value, message, tmp_path):
    result = invoke("split", str(tmp_path / "absent.npz"), "-o", str(tmp_path / "out"),
                    "--max-group-size", value)
    assert result.exit_code == 1
    assert message in flat(result.output)


# --- warnings -------------------------------------------------------------------------------------

def test_a_split_far_off_its_ratio_warns_with_the_group_sizes(tmp_path):
    source = write_npz(tmp_path / "video.npz", video_pairs(60, 5))
    out = tmp_path / "split"
    result = invoke("split", str(source), "-o", str(out))
    text = flat(result.output)
    assert result.exit_code == 0, result.output
    warning = ("Warning: The split is far from --ratios 0.7,0.15,0.15: train 60 (92.3 % "
               "against 70 %)")
    assert warning in text
    assert ("one group holds 60 of 65 pairs (92 %); the other 5 pairs are each a group of "
            "their own. --max-group-size 9 cuts") in text
    summary = json.loads((out / "dataset.json").read_text())["history"][-1]["summary"]
    assert [w[:40] for w in summary["warnings"]] == [warning[9:49]]


# --- ratios with zeros ----------------------------------------------------------------------------

@pytest.mark.parametrize("ratios, empty", [("0,0,1", {"train", "val"}), ("0.5,0.5,0", {"test"})])
def test_a_zero_ratio_leaves_its_split_empty_without_complaint(ratios, empty, tmp_path):
    source = write_npz(tmp_path / "scenes.npz", video_pairs(0, 8, seed=5))
    out = tmp_path / "split"
    result = invoke("split", str(source), "-o", str(out), "--ratios", ratios)
    assert result.exit_code == 0, result.output
    assert "Warning" not in result.output and "Error" not in result.output
    present = set(read_manifest(out)["split"])
    assert present == {"train", "val", "test"} - empty


# --- the pieces ------------------------------------------------------------------------------------

def test_cut_groups_makes_balanced_contiguous_blocks_in_the_given_order():
    groups = np.array([0, 0, 0, 0, 0, 0, 0, 7, 0, 0])           # group 0: 9 pairs, 7: 1 pair
    order = pd.Series([9, 8, 7, 6, 5, 4, 3, 0, 2, 1])            # reversed frame numbers
    cut, block, count = cut_groups(groups, 4, order)
    assert count.tolist() == [3] * 7 + [0] + [3] * 2
    # Ordered by value: ids 9, 8, 6... blocks of 3, 3, 3 from the smallest value up.
    assert block.tolist() == [3, 3, 3, 2, 2, 2, 1, 0, 1, 1]
    assert cut[7] == 7 and len(set(cut[[0, 3, 6]])) == 3


@pytest.mark.parametrize("seed", range(5))
def test_a_giant_group_goes_where_it_overshoots_least_and_the_rest_fill_the_others(seed):
    # 58 of 75 pairs in one group, which holds no class; label needs alone put it in val.
    sizes = np.array([58, 9, 8])
    labels = np.array([[0, 0], [9, 0], [0, 8]])
    which = iterative_stratification(labels, sizes, np.array([0.4, 0.3, 0.3]),
                                     np.random.default_rng(seed))
    assert which[0] == 0 and sorted(which[1:]) == [1, 2]


def test_fill_empty_splits_takes_a_group_from_a_split_with_two():
    sizes = np.array([1, 1, 1])
    assert fill_empty_splits(np.array([0, 0, 1]), sizes, np.array([0.7, 0.15, 0.15])
                             ).tolist() == [2, 0, 1]
    # One giant group and one other: nothing to spare, the split stays empty.
    assert fill_empty_splits(np.array([0, 1]), np.array([60, 1]),
                             np.array([0.7, 0.15, 0.15])).tolist() == [0, 1]
    assert fill_empty_splits(np.array([0, 0]), sizes[:2], np.array([1.0, 0, 0])
                             ).tolist() == [0, 0]


def test_descriptions_and_far_off_rule():
    assert describe_groups(np.array([1, 79, 12, 8, 1])) == (
        "one group holds 79 of 101 pairs (78 %); the next largest hold 12, 8 and 1 pairs")
    assert describe_groups(np.ones(3, int)) == "each of the 3 pairs is a group of its own"
    assert describe_groups(np.array([1, 1, 9])) == (
        "one group holds 9 of 11 pairs (82 %); the other 2 pairs are each a group of their own")
    ratios = {"train": 0.7, "val": 0.15, "test": 0.15}
    assert far_off({"train": 70, "val": 15, "test": 15}, ratios) == []
    assert far_off({"train": 79, "val": 13, "test": 8}, ratios) == ["train", "test"]
    assert far_off({"train": 2, "val": 1, "test": 0}, ratios) == []    # within one pair
