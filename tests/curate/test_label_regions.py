"""label_regions.csv beside label_quality.csv: read and checked, carried into the review page's
card data with what region_fixes.csv needs, and region_fixes.csv applied with --mask-fixes
(exactly the accepted regions' pixels change, to their predicted label). The browser side:
test_review_browser."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from curate.checks.label_regions import read_label_regions, regions_by_pair
from curate.cli.main import app
from curate.errors import InputError
from curate.io.contract import LABEL_REGIONS_COLUMNS
from curate.io.region_pixels import encode
from curate.review.build import collect
from test_review import label_issue_run

runner = CliRunner()
SHAPE = (64, 128)                                  # the sample's masks
REGION_FIXES = ["id", "region", "decision", "predicted_label", "box", "pixels"]


def planted_regions() -> list[np.ndarray]:
    """Two disputed regions of one pair: an L in the top left, a block lower right."""
    first = np.zeros(SHAPE, bool)
    first[4:20, 8:12] = True
    first[16:20, 8:30] = True
    second = np.zeros(SHAPE, bool)
    second[40:50, 90:110] = True
    return [first, second]


def write_regions(run: Path, id_: str, labels=(3, 1)) -> pd.DataFrame:
    """label_regions.csv in `run` naming the planted regions of `id_` (plus a feature column,
    which the contract allows after the fixed ones)."""
    rows = []
    for k, (region, label) in enumerate(zip(planted_regions(), labels), start=1):
        box, pixels = encode(region)
        rows.append({"id": id_, "region": k, "kind": "disputed", "box": box,
                     "area": int(region.sum()), "given_class": "sand",
                     "predicted_class": "big rock", "predicted_label": label,
                     "probability": [0.81, 0.42][k - 1], "pixels": pixels, "mean_p": 0.5})
    table = pd.DataFrame(rows)
    table.to_csv(run / "label_regions.csv", index=False)
    return table


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def say(result) -> str:
    return " ".join(result.output.split())


@pytest.fixture(scope="module")
def issue(tmp_path_factory):
    """(curated folder flagged with one label issue, its id, the crossval run folder)."""
    root = tmp_path_factory.mktemp("regions")
    out, planted_id = label_issue_run(root, dispute=True)
    write_regions(root / "cv", planted_id)
    return out, planted_id, root / "cv"


# --- the reader ---------------------------------------------------------------------------

def test_no_file_means_no_regions(tmp_path):
    table = read_label_regions(tmp_path / "label_quality.csv")
    assert table.empty and list(table.columns) == list(LABEL_REGIONS_COLUMNS)
    assert regions_by_pair(tmp_path / "label_quality.csv", ["a"]) == {}


def test_regions_are_read_in_their_order(tmp_path):
    written = write_regions(tmp_path, "p7")
    pd.concat([written.iloc[[1]], written.iloc[[0]]]).to_csv(tmp_path / "label_regions.csv",
                                                            index=False)
    found = regions_by_pair(tmp_path / "label_quality.csv", ["p7", "other"])
    assert list(found) == ["p7"]
    assert [r["region"] for r in found["p7"]] == [1, 2]
    first = found["p7"][0]
    assert first["box"] == (4, 8, 20, 30) and first["area"] == 64 + 4 * 22 - 4 * 4
    assert first["predicted_label"] == 3 and first["probability"] == 0.81


@pytest.mark.parametrize("column, value, words", [
    ("kind", "odd", "column kind is 'odd' in row 2; expected one of disputed, unlabelled"),
    ("probability", 1.5, "column probability is '1.5' in row 2; expected a number from 0 to 1"),
    ("predicted_label", "x", "column predicted_label is 'x' in row 2; expected a whole number"),
    ("region", 0, "column region is '0' in row 2; expected a whole number of at least 1"),
    ("box", "3 4 2", "column box, row 2 is '3 4 2'; expected 'row0 col0 row1 col1'"),
])
def test_a_malformed_file_names_the_file_and_the_column(tmp_path, column, value, words):
    table = write_regions(tmp_path, "p7").astype(object)
    table.loc[0, column] = value
    table.to_csv(tmp_path / "label_regions.csv", index=False)
    with pytest.raises(InputError) as caught:
        read_label_regions(tmp_path / "label_quality.csv")
    assert str(tmp_path / "label_regions.csv") in str(caught.value)
    assert words in str(caught.value)


def test_a_missing_column_is_named(tmp_path):
    write_regions(tmp_path, "p7").drop(columns=["pixels"]).to_csv(
        tmp_path / "label_regions.csv", index=False)
    with pytest.raises(InputError, match="lacks column.s. pixels"):
        read_label_regions(tmp_path / "label_quality.csv")


# --- the page's card data -----------------------------------------------------------------

def test_the_card_data_carries_every_region_and_what_its_fix_needs(issue, tmp_path):
    out, planted_id, _ = issue
    review = collect(out)
    item = next(i for i in review.items if i["id"] == planted_id)
    assert [r["region"] for r in item["regions"]] == [1, 2]
    first = item["regions"][0]
    box, pixels = encode(planted_regions()[0])
    assert (first["box"], first["pixels"], first["predicted_label"]) == (box, pixels, 3)
    assert first["caption"] == "region 1: given sand, model says big rock, 136 px, p 0.81"
    assert first["top"] == 100 * 4 / 64 and first["width"] == 100 * 22 / 128
    assert all(i["regions"] == [] for i in review.items if i["id"] != planted_id)
    assert review.header["regions"] == 2
    # both layouts hand the page the same card data: the page inline, the folder's parts
    for args in (["-o", tmp_path / "r.html"], ["-o", tmp_path / "r", "--folder"]):
        assert invoke("review", out, *args).exit_code == 0
    page = (tmp_path / "r.html").read_text()
    part = (tmp_path / "r" / "data" / "part-0001.js").read_text()
    for text in (page, part):
        assert json.dumps(first["caption"]) in text and json.dumps(pixels) in text


# --- applying region_fixes.csv -----------------------------------------------------------

def mask_of(folder: Path, id_: str) -> np.ndarray:
    manifest = pd.read_csv(folder / "manifest.csv", dtype=str).set_index("id")
    return np.asarray(Image.open(folder / manifest.loc[id_, "mask"]))


def region_fixes(path: Path, rows: list[tuple]) -> Path:
    pd.DataFrame(rows, columns=REGION_FIXES).to_csv(path, index=False)
    return path


def fix_rows(id_: str, first: str = "accept", second: str = "keep") -> list[tuple]:
    regions = planted_regions()
    return [(id_, 1, first, 3, *encode(regions[0])), (id_, 2, second, 1, *encode(regions[1]))]


def test_accepted_regions_take_the_predicted_label_and_nothing_else_changes(issue, tmp_path):
    out, planted_id, _ = issue
    fixes = region_fixes(tmp_path / "region_fixes.csv", fix_rows(planted_id))
    result = invoke("outliers", out, "--mask-fixes", fixes, "-o", tmp_path / "fixed")
    assert result.exit_code == 0, result.output
    text = say(result)
    assert "Mask fixes: 1 mask(s) replaced" in text
    assert "1 corrected in review (model region accepted on review)" in text
    assert "1 region(s) set to the model's class, 1 kept as the mask" in text
    before, after = mask_of(out, planted_id), mask_of(tmp_path / "fixed", planted_id)
    expected = before.copy()
    expected[planted_regions()[0]] = 3
    assert (before[planted_regions()[0]] != 3).any()          # the fix changes something
    np.testing.assert_array_equal(after, expected)
    manifest = pd.read_csv(tmp_path / "fixed" / "manifest.csv", dtype=str,
                           keep_default_na=False).set_index("id")
    row = manifest.loc[planted_id]
    assert (row["mask_fix_tool"], row["mask_fix_task"]) == ("review", "regions 1")
    assert row["mask_fix"] == str(fixes.resolve()) and row["mask_fix_decision"] == ""
    assert (manifest.drop(index=planted_id)["mask_fix"] == "").all()
    others = [i for i in manifest.index if i != planted_id][:3]
    for id_ in others:
        np.testing.assert_array_equal(mask_of(tmp_path / "fixed", id_), mask_of(out, id_))
    summary = json.loads((tmp_path / "fixed" / "dataset.json").read_text())["history"][-1]
    assert summary["summary"]["mask_fixes_by_tool"] == {"review": 1}


def test_kept_regions_change_nothing_but_are_counted(issue, tmp_path):
    out, planted_id, _ = issue
    fixes = region_fixes(tmp_path / "region_fixes.csv", fix_rows(planted_id, "keep", "keep"))
    result = invoke("outliers", out, "--mask-fixes", fixes, "-o", tmp_path / "fixed")
    assert result.exit_code == 0, result.output
    assert "Mask fixes: 0 mask(s) replaced" in say(result)
    assert "0 region(s) set to the model's class, 2 kept as the mask" in say(result)
    np.testing.assert_array_equal(mask_of(tmp_path / "fixed", planted_id),
                                  mask_of(out, planted_id))


@pytest.mark.parametrize("change, words", [
    (lambda r: ("nobody", *r[1:]), "id 'nobody' is not a pair of this dataset"),
    (lambda r: (*r[:4], "60 120 70 130", r[5]), "box '60 120 70 130' lies outside the 64x128 mask"),
    (lambda r: (*r[:3], 9, *r[4:]), "predicted_label 9 is outside the classes 0..4"),
    (lambda r: (*r[:5], "0 9999"), "a run 0 9999 leaves its 16x22 box"),
])
def test_a_region_that_cannot_apply_is_refused_and_nothing_is_written(issue, tmp_path,
                                                                        change, words):
    out, planted_id, _ = issue
    rows = fix_rows(planted_id)
    fixes = region_fixes(tmp_path / "region_fixes.csv", [change(rows[0]), rows[1]])
    result = invoke("outliers", out, "--mask-fixes", fixes, "-o", tmp_path / "fixed")
    assert result.exit_code == 1
    assert words in say(result) and "Nothing was written" in say(result)
    assert not (tmp_path / "fixed").exists()


def test_decisions_csv_given_as_mask_fixes_is_refused_with_the_right_flag(issue, tmp_path):
    out, planted_id, _ = issue
    decisions = tmp_path / "decisions.csv"
    pd.DataFrame([(planted_id, "keep", "label_issue", "", "")],
                 columns=["id", "decision", "checks", "note", "time"]).to_csv(decisions,
                                                                              index=False)
    result = invoke("outliers", out, "--mask-fixes", decisions, "-o", tmp_path / "fixed")
    assert result.exit_code == 1
    assert "lacks column(s) region, predicted_label, box, pixels" in say(result)
    assert "decisions.csv goes to --decisions" in say(result)
