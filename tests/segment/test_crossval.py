"""`segment crossval`: out-of-fold probabilities, the label-quality table, folds and outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import write_dataset
from curate.io.contract import LABEL_REGIONS_COLUMNS
from segment.cli import app
from segment.label_quality.crossval import assign_folds
from segment.label_quality.evidence import pair_figures

runner = CliRunner()
TINY_ARGS = ["--set", "base_width=4", "--set", "depth=2", "--batch-size", "8", "--set", "threads=1",
             "--set", "spatial_dropout=0", "--set", "dropout=0", "--device", "cpu"]


def output(result) -> str:
    try:
        return result.output + result.stderr
    except ValueError:  # older Click mixes stderr into output
        return result.output


@pytest.fixture(scope="module")
def mars40(tmp_path_factory, mars_pairs):
    images, masks = mars_pairs
    splits = ["train"] * 30 + ["val"] * 10
    return write_dataset(tmp_path_factory.mktemp("cv") / "mars40", images[:40], masks[:40], splits)


@pytest.mark.slow
def test_crossval_predicts_every_train_pair_exactly_once(mars40, tmp_path):
    out = tmp_path / "cv"
    result = runner.invoke(app, ["crossval", str(mars40), "-o", str(out), "--folds", "3",
                                 "--epochs", "1", *TINY_ARGS])
    assert result.exit_code == 0, output(result)
    assert "3 trainings" in output(result)
    # 30 pairs are too few to learn the score from edited copies: the CLI and crossval.json
    # say which score the table holds.
    assert ("label-quality score: rank of the evidence (2 x disagreement + 1 x geometry + 1 x "
            "appearance + softmin, as Fisher ranks); edit_probability not learned"
            in " ".join(output(result).split()))
    meta = json.loads((out / "crossval.json").read_text())
    assert "not learned" in meta["score"] and "learning needs 100" in meta["score"]
    table = pd.read_csv(out / "label_quality.csv", dtype={"id": str}, keep_default_na=False)
    train_ids = [f"pair{i:03d}" for i in range(30)]
    assert sorted(table["id"]) == train_ids  # every train pair once, no val pair
    assert table["row"].tolist() == list(range(30))
    assert sorted(set(table["fold"])) == [0, 1, 2]
    assert table["fold"].value_counts().tolist() == [10, 10, 10]
    assert table["score"].between(0, 1).all() and table["low_share"].between(0, 1).all()
    probs = np.load(out / "oof_probs.npy", mmap_mode="r")
    assert probs.dtype == np.float16 and probs.shape == (30, 5, 64, 128)
    assert not np.asarray(probs[:, 0]).any()  # the ignore class is never predicted
    np.testing.assert_allclose(np.asarray(probs, np.float32).sum(1), 1.0, atol=5e-3)
    for k in range(3):
        assert (out / f"fold_{k}" / "best.pt").is_file()
    assert not list(tmp_path.glob(".cv.tmp-*"))
    regions = pd.read_csv(out / "label_regions.csv", dtype={"id": str}, keep_default_na=False)
    assert list(regions.columns[:len(LABEL_REGIONS_COLUMNS)]) == list(LABEL_REGIONS_COLUMNS)
    assert set(regions["id"]) <= set(train_ids) and regions["probability"].between(0, 1).all()
    assert meta["regions"] == "label_regions.csv" and meta["region_count"] == len(regions)


def test_crossval_refuses_existing_output_and_output_inside_data(mars40, tmp_path):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = runner.invoke(app, ["crossval", str(mars40), "-o", str(out), "--epochs", "1", *TINY_ARGS])
    assert result.exit_code == 1 and "Error:" in output(result) and "--force" in output(result)
    assert (out / "keep.txt").read_text() == "mine"
    result = runner.invoke(app, ["crossval", str(mars40), "-o", str(mars40 / "cv"), *TINY_ARGS])
    assert result.exit_code == 1 and "outside" in output(result)
    assert not (mars40 / "cv").exists()


def test_crossval_rejects_one_fold(mars40, tmp_path):
    result = runner.invoke(app, ["crossval", str(mars40), "-o", str(tmp_path / "cv"), "--folds", "1"])
    assert result.exit_code == 1 and "at least 2" in output(result)


def test_folds_keep_groups_together_and_follow_the_seed():
    rows = pd.DataFrame({"id": [f"p{i}" for i in range(40)],
                         "split_group": [f"g{i // 4}" if i < 20 else "" for i in range(40)]})
    folds = assign_folds(rows, 4, seed=0)
    for g in range(5):
        assert len(set(folds[g * 4:g * 4 + 4])) == 1  # a group never straddles folds
    assert np.bincount(folds).tolist() == [10, 10, 10, 10]
    assert (assign_folds(rows, 4, seed=0) == folds).all()
    assert (assign_folds(rows, 4, seed=1) != folds).any()


def _largest_first(rows: pd.DataFrame, folds: int, seed: int) -> np.ndarray:
    """The fold rule written out: groups (split_group, else dup_group, else the pair) in a
    seeded shuffle, stably sorted largest first, each into the fold with the fewest rows."""
    key = np.where(rows["split_group"] != "", "s:" + rows["split_group"],
                   np.where(rows["dup_group"] != "", "d:" + rows["dup_group"], rows["id"]))
    names, group = np.unique(key, return_inverse=True)
    sizes = np.bincount(group)
    order = np.random.default_rng(seed).permutation(len(names))
    order = order[np.argsort(-sizes[order], kind="stable")]
    fold_of_group, filled = np.empty(len(names), np.int64), np.zeros(folds, np.int64)
    for g in order:
        fold_of_group[g] = int(np.argmin(filled))
        filled[fold_of_group[g]] += sizes[g]
    return fold_of_group[group]


def test_folds_keep_duplicates_and_split_groups_together_largest_first():
    """Groups of 1 to 7 pairs: none straddles folds, split_group wins over dup_group, the folds
    differ by at most the largest group, and the assignment is the rule written out above
    (GroupKFold's, with the seed ordering groups of one size)."""
    rng = np.random.default_rng(7)
    n = 90
    dup = np.array([f"d{g}" if g < 12 else "" for g in rng.integers(0, 30, n)], dtype=object)
    split_group = np.array([f"s{i // 5}" if i < 15 else "" for i in range(n)], dtype=object)
    rows = pd.DataFrame({"id": [f"p{i}" for i in range(n)], "dup_group": dup,
                         "split_group": split_group})
    for seed in range(5):
        folds = assign_folds(rows, 4, seed)
        # (curate split's split_group holds whole dup_groups; here a split_group overrides)
        for column, named in (("split_group", rows["split_group"] != ""),
                              ("dup_group", (rows["dup_group"] != "") & (rows["split_group"] == ""))):
            grouped = rows[named].assign(fold=folds[named.to_numpy()]).groupby(column)["fold"]
            assert (grouped.nunique() == 1).all()
        sizes = np.bincount(folds, minlength=4)
        assert sizes.max() - sizes.min() <= 7 and sizes.sum() == n
        assert (folds == _largest_first(rows, 4, seed)).all()   # scikit-learn >= 1.9


def test_train_and_crossval_read_the_dataset_folder_once(mars40, tmp_path, monkeypatch):
    """One `segment train` or `segment crossval` reads dataset.json once and each image file
    once (crossval's val split too, not once per fold); both train through `fit`."""
    import segment.data.folder as folder
    import segment.label_quality.crossval as crossval_module
    import segment.training.loop as loop

    reads, fits = [], []
    real_json, real_image, real_fit = folder._read_json, folder.read_image, loop.fit

    def fit(config, *args, **kwargs):
        fits.append(Path(config.out).name)
        return real_fit(config, *args, **kwargs)

    monkeypatch.setattr(folder, "_read_json", lambda path: reads.append(path.name) or real_json(path))
    monkeypatch.setattr(folder, "read_image",
                        lambda path, *a, **k: reads.append(path.name) or real_image(path, *a, **k))
    monkeypatch.setattr(loop, "fit", fit)
    monkeypatch.setattr(crossval_module, "fit", fit)
    for command in (["train", str(mars40), "-o", str(tmp_path / "run")],
                    ["crossval", str(mars40), "-o", str(tmp_path / "cv"), "--folds", "2"]):
        reads.clear()
        result = runner.invoke(app, [*command, "--epochs", "1", *TINY_ARGS])
        assert result.exit_code == 0, output(result)
        images = [name for name in reads if name != "dataset.json"]
        assert reads.count("dataset.json") == 1
        # 30 train and 10 val pairs, each once; load_split opens a split's first image once
        # more to see its mode
        assert len(set(images)) == 40 and len(images) == 42
    assert fits == ["run", "fold_0", "fold_1"]


def test_pair_figures_on_hand_made_probabilities():
    # Mask: soil (1) on the left half, bedrock (2) on the right, an unlabelled last column.
    mask = np.zeros((4, 9), np.uint8)
    mask[:, :4], mask[:, 4:8] = 1, 2
    probs = np.zeros((5, 4, 9), np.float16)
    probs[1], probs[2] = 0.95, 0.05  # the model calls everything soil
    q = pair_figures(probs, mask, ignore_index=0)
    assert q["labelled_pixels"] == 32
    assert q["low_share"] == 0.5  # bedrock pixels get p 0.05 < 0.1
    assert (q["given_class"], q["predicted_class"]) == (2, 1)
    assert q["pair_share"] == 0.5 and q["pair_confidence"] == pytest.approx(0.95, abs=1e-3)
    assert q["mean_disagreement"] == pytest.approx(1 - (0.95 + 0.05) / 2, abs=1e-3)
    agree = np.zeros_like(probs)
    agree[1, :, :4], agree[2, :, 4:] = 1.0, 1.0
    clean = pair_figures(agree, mask, ignore_index=0)
    assert clean["mean_disagreement"] == 0 and clean["low_share"] == 0 and clean["given_class"] == ""
    assert pair_figures(probs, np.zeros_like(mask), 0)["mean_disagreement"] == 0  # nothing labelled


@pytest.mark.slow
def test_crossval_on_enough_pairs_learns_an_edit_probability(mars_pairs, tmp_path):
    """120 train pairs (MIN_LEARN_PAIRS = 100 labelled): edit_probability is learned from
    edited copies of the masks and added to the evidence's rank, and the CLI and
    crossval.json say so."""
    images, masks = mars_pairs
    data = write_dataset(tmp_path / "mars130", images[:130], masks[:130],
                         ["train"] * 120 + ["val"] * 10)
    out = tmp_path / "cv"
    result = runner.invoke(app, ["crossval", str(data), "-o", str(out), "--folds", "2",
                                 "--epochs", "1", *TINY_ARGS])
    assert result.exit_code == 0, output(result)
    assert "label-quality score: rank of the evidence" in output(result)
    meta = json.loads((out / "crossval.json").read_text())
    assert meta["score"].startswith("rank of the evidence (2 x disagreement + 1 x geometry + "
                                    "1 x appearance + softmin, as Fisher ranks) + 0.25 x "
                                    "-log(1 - edit_probability)")
    assert "edit_probability learned from" in meta["score"] and "3 plantings" in meta["score"]
    assert ("+ 0.25 x -log(1 - region_probability); edit_probability" in meta["score"]
            and "region_probability: region classifier learned out of" in meta["score"])
    table = pd.read_csv(out / "label_quality.csv", dtype={"id": str}, keep_default_na=False)
    assert len(table) == 120 and table["score"].between(0, 1).all()
    assert table["region_probability"].nunique() > 10  # learned too
    assert table["edit_probability"].nunique() > 10  # a real classifier, not a constant
    assert (table["island_texture"] != 0).any()  # the images reached the table
    unlabelled = table["labelled_pixels"] == 0
    assert (table.loc[unlabelled, "score"] == 0).all()
