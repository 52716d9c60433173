"""`curate outliers --label-quality`: the label_issue check reads `segment crossval`'s files.

The table and probabilities are written here by hand in the layout `segment crossval` writes
(label_quality.csv, oof_probs.npy beside it), with one planted pair whose mask disagrees.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from curate.cli.main import app
from planted import SAMPLE

runner = CliRunner()
COLUMNS = ["id", "row", "fold", "labelled_pixels", "low_share", "given_class",
           "predicted_class", "pair_share", "pair_confidence", "score"]


def output(result) -> str:
    try:
        return result.output + result.stderr
    except ValueError:  # older Click mixes stderr into output
        return result.output


@pytest.fixture(scope="module")
def split40(tmp_path_factory) -> Path:
    """40 real pairs of the sample, split by `curate split` (a curated folder with train)."""
    root = tmp_path_factory.mktemp("lq")
    with np.load(SAMPLE) as data:
        np.savez(root / "m40.npz", training_set=data["training_set"][:40], names=data["names"][:40])
    result = runner.invoke(app, ["split", str(root / "m40.npz"), "-o", str(root / "data"),
                                 "--num-classes", "5"])
    assert result.exit_code == 0, output(result)
    return root / "data"


def crossval_files(folder: Path, data: Path, planted: str, extra_id: str | None = None) -> Path:
    """label_quality.csv + oof_probs.npy for the train pairs; `planted` is badly labelled."""
    manifest = pd.read_csv(data / "manifest.csv", dtype={"id": str}, keep_default_na=False)
    ids = manifest.loc[manifest["split"] == "train", "id"].tolist() + ([extra_id] if extra_id else [])
    rows = []
    for i, pid in enumerate(ids):
        bad = pid == planted
        rows.append([pid, i, i % 3, 5000, 0.38 if bad else 0.02, "sand" if bad else "",
                     "bedrock" if bad else "", 0.38 if bad else 0.0, 0.93 if bad else 0.0,
                     0.41 if bad else 0.05])
    folder.mkdir()
    pd.DataFrame(rows, columns=COLUMNS).to_csv(folder / "label_quality.csv", index=False)
    probs = np.zeros((len(ids), 5, 64, 128), np.float16)
    probs[:, 2] = 1.0  # the model calls everything bedrock
    np.save(folder / "oof_probs.npy", probs)
    return folder / "label_quality.csv"


def test_label_issue_flags_the_planted_pair_for_review(split40, tmp_path):
    manifest = pd.read_csv(split40 / "manifest.csv", dtype={"id": str}, keep_default_na=False)
    train = manifest.loc[manifest["split"] == "train", "id"].tolist()
    planted = train[3]
    table = crossval_files(tmp_path / "cv", split40, planted)
    out = tmp_path / "out"
    result = runner.invoke(app, ["outliers", str(split40), "-o", str(out),
                                 "--label-quality", str(table)])
    assert result.exit_code == 0, output(result)
    kept = pd.read_csv(out / "manifest.csv", dtype={"id": str}, keep_default_na=False)
    assert set(kept.loc[kept["is_label_issue"], "id"]) == {planted}  # flagged, and kept
    reason = kept.set_index("id").at[planted, "reason"]
    assert "mask says sand on 38% of labelled pixels the model calls bedrock" in reason
    assert kept.set_index("id").at[planted, "label_issue_score"] == pytest.approx(0.41)
    assert not kept.loc[kept["split"] != "train", "is_label_issue"].any()
    report = pd.read_csv(out / "reports" / "outliers.csv", dtype={"id": str})
    assert planted in set(report["id"])
    assert (out / "reports" / "outliers.png").stat().st_size > 0

    removed = tmp_path / "removed"
    result = runner.invoke(app, ["outliers", str(split40), "-o", str(removed),
                                 "--label-quality", str(table), "--remove", "label_issue"])
    assert result.exit_code == 0, output(result)
    ids = set(pd.read_csv(removed / "manifest.csv", dtype={"id": str})["id"])
    assert ids == set(kept["id"]) - {planted}  # only the label issue goes in addition


def test_a_table_with_a_learned_edit_probability_flags_by_it(split40, tmp_path):
    """The table learned edit_probability: the pair it finds edited (0.8) is flagged though
    little of its mask has p < 0.1; the pair with a large low-probability share but an
    ordinary look (0.1) is not."""
    manifest = pd.read_csv(split40 / "manifest.csv", dtype={"id": str}, keep_default_na=False)
    train = manifest.loc[manifest["split"] == "train", "id"].tolist()
    table = crossval_files(tmp_path / "cv", split40, planted=train[3])
    quality = pd.read_csv(table, dtype={"id": str}, keep_default_na=False)
    quality["edit_probability"] = 0.1
    quality.loc[quality["id"] == train[7], "edit_probability"] = 0.8
    quality.to_csv(table, index=False)
    out = tmp_path / "out"
    result = runner.invoke(app, ["outliers", str(split40), "-o", str(out),
                                 "--label-quality", str(table)])
    assert result.exit_code == 0, output(result)
    kept = pd.read_csv(out / "manifest.csv", dtype={"id": str}, keep_default_na=False)
    assert set(kept.loc[kept["is_label_issue"], "id"]) == {train[7]}
    reason = kept.set_index("id").at[train[7], "reason"]
    assert "looks edited with probability 0.80 (threshold 0.50" in reason
    assert "p < 0.1 on 2% of labelled pixels" in reason


def test_sheet_shows_image_given_and_predicted_mask(split40, tmp_path):
    from PIL import Image

    planted = pd.read_csv(split40 / "manifest.csv", dtype={"id": str}).query("split == 'train'")["id"].iat[0]
    table = crossval_files(tmp_path / "cv", split40, planted)
    args = ["outliers", str(split40), "--dry-run", "--check", "unlabelled", "--label-quality",
            str(table), "--sheet"]
    assert runner.invoke(app, args + [str(tmp_path / "with.png")]).exit_code == 0
    (tmp_path / "cv" / "oof_probs.npy").unlink()  # without probabilities: image and mask only
    assert runner.invoke(app, args + [str(tmp_path / "without.png")]).exit_code == 0
    with Image.open(tmp_path / "with.png") as a, Image.open(tmp_path / "without.png") as b:
        with_pred, without = np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB"))
    # The predicted mask is all bedrock: its sky blue (86, 180, 233) appears only with it.
    blue = lambda im: int((im == [86, 180, 233]).all(-1).sum())  # noqa: E731
    assert blue(with_pred) > blue(without) + 1000


def test_unknown_id_in_the_table_is_an_error(split40, tmp_path):
    manifest = pd.read_csv(split40 / "manifest.csv", dtype={"id": str}, keep_default_na=False)
    table = crossval_files(tmp_path / "cv", split40, manifest["id"].iat[0], extra_id="not_here")
    out = tmp_path / "out"
    result = runner.invoke(app, ["outliers", str(split40), "-o", str(out),
                                 "--label-quality", str(table)])
    assert result.exit_code == 1
    assert "Error" in output(result) and "not_here" in output(result)
    assert "not pairs of this dataset" in output(result)
    assert not out.exists()


def test_label_issue_needs_the_table(split40, tmp_path):
    result = runner.invoke(app, ["outliers", str(split40), "--dry-run", "--remove", "label_issue"])
    assert result.exit_code == 1 and "--label-quality" in output(result)
    result = runner.invoke(app, ["outliers", str(split40), "--dry-run", "--label-quality",
                                 str(tmp_path / "missing.csv")])
    assert result.exit_code == 1 and "segment crossval" in output(result)
    # Without the option nothing changes: no label_issue columns at all.
    out = tmp_path / "plain"
    assert runner.invoke(app, ["outliers", str(split40), "-o", str(out)]).exit_code == 0
    assert "is_label_issue" not in pd.read_csv(out / "manifest.csv").columns
    import json

    options = json.loads((out / "dataset.json").read_text())["history"][-1]["options"]
    assert "label_quality" not in options and "label_issue" not in options["checks"]


def test_run_takes_the_table_too(split40, tmp_path):
    manifest = pd.read_csv(split40 / "manifest.csv", dtype={"id": str}, keep_default_na=False)
    planted = manifest.loc[manifest["split"] == "train", "id"].iat[5]
    table = crossval_files(tmp_path / "cv", split40, planted)
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", str(split40), "-o", str(out), "--no-card",
                                 "--label-quality", str(table), "--remove", "label_issue"])
    assert result.exit_code == 0, output(result)
    assert planted not in set(pd.read_csv(out / "manifest.csv", dtype={"id": str})["id"])
    assert "mask says sand" in pd.read_csv(out / "reports" / "outliers.csv").set_index("id").at[planted, "reason"]


def test_sheet_boxes_the_disputed_region_and_captions_it(split40, tmp_path, monkeypatch):
    """The table names the region the model disputes: the sheet draws its box (yellow) on
    the image, the given and the predicted mask, and its caption says given, predicted, px;
    a table without the dispute columns (older runs) draws no box."""
    import curate.checks.outliers

    manifest = pd.read_csv(split40 / "manifest.csv", dtype={"id": str}, keep_default_na=False)
    planted = manifest.loc[manifest["split"] == "train", "id"].iat[0]
    table = crossval_files(tmp_path / "cv", split40, planted)
    quality = pd.read_csv(table, dtype={"id": str}, keep_default_na=False)
    args = ["outliers", str(split40), "--dry-run", "--check", "unlabelled", "--label-quality",
            str(table), "--sheet"]
    captions = []
    real_sheet = curate.checks.outliers.contact_sheet
    monkeypatch.setattr(curate.checks.outliers, "contact_sheet", lambda tiles, *a, **k: (
        captions.extend(c for _, c in tiles), real_sheet(tiles, *a, **k))[1])
    assert runner.invoke(app, args + [str(tmp_path / "plain.png")]).exit_code == 0
    assert not any("model says" in c for c in captions)
    quality["dispute_box"] = ""
    quality["dispute_given"] = ""
    quality["dispute_predicted"] = ""
    quality["dispute_pixels"] = 0
    at = quality["id"] == planted
    quality.loc[at, ["dispute_box", "dispute_given", "dispute_predicted",
                     "dispute_pixels"]] = ["10 20 30 60", "sand", "bedrock", 800]
    quality.to_csv(table, index=False)
    captions.clear()
    assert runner.invoke(app, args + [str(tmp_path / "boxed.png")]).exit_code == 0
    mine = [c for c in captions if planted in c]
    assert len(mine) == 1 and "boxed: given sand, model says bedrock, 800 px" in mine[0]
    from PIL import Image

    with Image.open(tmp_path / "plain.png") as a, Image.open(tmp_path / "boxed.png") as b:
        plain, boxed = np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB"))
    yellow = lambda im: int((im == [255, 230, 0]).all(-1).sum())  # noqa: E731
    # the 20 x 40 box is 30 x 60 at the sheet's scale of 1.5: an outline of 2 * (30 + 60) - 4
    # px on each of the three pictures
    assert yellow(plain) == 0 and yellow(boxed) == 3 * 176


def test_label_tile_puts_the_box_where_the_region_is():
    from curate.checks.label_issue import label_tile

    image = np.zeros((64, 128, 3), np.uint8)
    mask = np.ones((64, 128), np.uint8)
    region = {"box": (10, 20, 30, 60), "given": "soil", "predicted": "sand", "pixels": 800}
    tile = np.asarray(label_tile(image, mask, mask, 5, 0, region))
    ys, xs = np.nonzero((tile == [255, 230, 0]).all(-1))
    # tile height 96 (scale 1.5): rows 15..44, image panel columns 30..89
    assert ys.min() == 15 and ys.max() == 44
    assert xs.min() == 30 and xs[xs < 192].max() == 89
    panel = 192   # image, gap 3, mask, gap 2, prediction: the same box on each
    lefts = sorted({x - 30 for x in xs if x - 30 in (0, panel + 3, 2 * panel + 3 + 2)})
    assert lefts == [0, panel + 3, 2 * panel + 5]
    assert not (np.asarray(label_tile(image, mask, mask, 5, 0)) == [255, 230, 0]).all(-1).any()


def test_a_malformed_dispute_box_is_an_error(tmp_path):
    from curate.checks.label_issue import disputes
    from curate.errors import InputError

    path = tmp_path / "label_quality.csv"
    pd.DataFrame([["a", 0, 0.1, "", "", 0.0, 0.0, 0.3, "1 2 3", "x", "y", 5]],
                 columns=COLUMNS[:2] + COLUMNS[4:] + ["dispute_box", "dispute_given",
                                                     "dispute_predicted", "dispute_pixels"]
                 ).to_csv(path, index=False)
    with pytest.raises(InputError, match="row0 col0 row1 col1"):
        disputes(path, ["a"])
