"""`curate outliers` and `curate stats` on real Mars pairs with planted, known defects."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from curate.cli.main import app
from curate.io.dataset import Dataset, default_class_names
from curate.checks.outliers import OutlierConfig, find_outliers
from curate.data.readers import ReadOptions, load_dataset
from planted import NUM_CLASSES, SAMPLE, load_sample, planted_sample, write_folder, write_npz

REAL_TRAIN = Path(__file__).parents[2].parent / "shared" / "data" / "ai4mars-mars64" / "train.npz"
ALIEN_IDS = {f"alien_{k}" for k in range(6)}
# Real low-contrast scenes of the sample (haze, smooth sand): the clean sample flags them too.
LOW_INFORMATION_REAL = {"NLA_398919544EDR_F0030078NCAM00300M1",
                        "NLA_402388793EDR_F0043416NCAM00442M1",
                        "NLB_444726490EDR_F0260208NCAM00256M1",
                        "NLB_575674003EDR_F0690714NCAM00275M1"}
runner = CliRunner()


def flagged(table: pd.DataFrame, check: str) -> set[str]:
    return set(table.loc[table[f"is_{check}"], "id"])


def unlabelled_ids(pairs: np.ndarray, ids: list[str]) -> set[str]:
    """Computed from the raw masks: every pixel is class 0."""
    return {i for i, m in zip(ids, pairs[:, 1]) if not m.any()}


def output(result) -> str:
    try:
        return result.output + result.stderr
    except ValueError:  # older Click mixes stderr into output
        return result.output


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def planted():
    return planted_sample()


@pytest.fixture(scope="module")
def planted_table(planted):
    dataset = Dataset(ids=planted.ids, images=list(planted.pairs[:, 0]),
                      masks=list(planted.pairs[:, 1]), sources=list(planted.ids),
                      num_classes=NUM_CLASSES, class_names=default_class_names(NUM_CLASSES))
    return find_outliers(dataset, OutlierConfig()).dataset.manifest


def test_the_dataset_manifest_stays_as_it_was(planted):
    """find_outliers and changes to a copy of the manifest leave the dataset's own manifest
    exactly as it was (the copy is shallow where pandas copies on write)."""
    from curate.data.manifest import build_manifest, with_manifest

    dataset = with_manifest(Dataset(ids=planted.ids[:60], images=list(planted.pairs[:60, 0]),
                                    masks=list(planted.pairs[:60, 1]),
                                    sources=list(planted.ids[:60]), num_classes=NUM_CLASSES,
                                    class_names=default_class_names(NUM_CLASSES)))
    before = dataset.manifest.copy(deep=True)
    result = find_outliers(dataset, OutlierConfig())
    assert "removed" in result.dataset.manifest and "removed" not in dataset.manifest
    copy = build_manifest(dataset)
    copy.loc[0, "mean"] = -1.0
    copy["split"] = "train"
    copy.loc[1, "id"] = "renamed"
    pd.testing.assert_frame_equal(dataset.manifest, before)
    assert copy.loc[0, "mean"] == -1.0 and copy.loc[1, "id"] == "renamed"


# --- library: exact findings -----------------------------------------------------------------

def test_clean_sample_flags_only_real_unlabelled_and_low_information():
    pairs, ids = load_sample()
    result = find_outliers(load_dataset(SAMPLE, ReadOptions(num_classes=5)), OutlierConfig())
    table, counts = result.dataset.manifest, result.summary["flagged_by_check"]
    expected = {c: set() for c in counts}
    expected["unlabelled"] = unlabelled_ids(pairs, ids)
    expected["low_information"] = LOW_INFORMATION_REAL
    assert len(expected["unlabelled"]) == 7
    # odd_image (review only) lists a few unusual real scenes; tests/curate/test_odd_image.py
    # plants its cases. Here it may flag at most 2% and removes nothing.
    odd = flagged(table, "odd_image")
    assert len(odd) <= 0.02 * len(pairs)
    expected["odd_image"] = odd
    assert {c: flagged(table, c) for c in counts} == expected
    assert set(table.loc[table["removed"], "id"]) == expected["unlabelled"]


def test_planted_defects_are_found_exactly(planted, planted_table):
    role = planted.role
    expected = {c: set() for c in OutlierConfig().checks}
    expected.update({
        "exact_duplicate": {"exact_copy"},
        "near_duplicate": {"near_copy"},
        "shared_mask": ALIEN_IDS,
        "bad_labels": {role["bad_labels"]},
        "blank": {role["blank"]},
        "dark": {role["dark"]},
        "low_information": LOW_INFORMATION_REAL | {role["dark"]},
        "unlabelled": unlabelled_ids(planted.pairs, planted.ids),
    })
    assert role["unlabelled"] in expected["unlabelled"]
    odd = flagged(planted_table, "odd_image")       # review only; see test_odd_image.py
    assert len(odd - ALIEN_IDS) <= 0.02 * len(planted.ids)
    expected["odd_image"] = odd
    assert {c: flagged(planted_table, c) for c in expected} == expected


def test_planted_removals_follow_default_remove(planted, planted_table):
    role = planted.role
    removed = set(planted_table.loc[planted_table["removed"], "id"])
    assert removed == ({"exact_copy", role["bad_labels"], role["blank"]} | ALIEN_IDS
                       | unlabelled_ids(planted.pairs, planted.ids))
    # Reported, not removed: near duplicates (grouped), dark and low-information images.
    assert not {"near_copy", role["dark"], role["near_source"]} & removed


def test_near_duplicates_are_grouped_with_their_source(planted, planted_table):
    source = planted.role["near_source"]
    groups = planted_table.set_index("id")["dup_group"]
    assert groups["near_copy"] == groups[source] == source
    assert (groups != "").sum() == 2
    reason = planted_table.set_index("id").at["near_copy", "reason"]
    assert f"near duplicate of {source}" in reason


def test_reasons_name_the_evidence(planted, planted_table):
    reasons = planted_table.set_index("id")["reason"]
    assert reasons["exact_copy"] == f"identical image and mask to {planted.role['exact_source']}"
    assert "9 mask pixels have labels outside 0..4" in reasons[planted.role["bad_labels"]]
    assert "one of 6 pairs sharing an identical mask (as alien_0) that is not a whole-frame label" in reasons["alien_0"]
    assert "dark: mean brightness" in reasons[planted.role["dark"]]


def test_size_mismatch_from_a_folder(tmp_path):
    pairs, ids = load_sample()
    images, masks, ids = list(pairs[:30, 0]), list(pairs[:30, 1]), ids[:30]
    masks[4] = masks[4][:60]                                   # mask 60x128, image 64x128
    folder = write_folder(tmp_path / "data", images, masks, ids)
    # A folder declares no void class: the AN2DL convention (0 = unlabelled) is given.
    options = ReadOptions(num_classes=5, ignore_index=0)
    result = find_outliers(load_dataset(folder, options), OutlierConfig())
    table, counts = result.dataset.manifest, result.summary["flagged_by_check"]
    expected = {c: set() for c in counts}
    expected["size_mismatch"] = {ids[4]}
    expected["unlabelled"] = unlabelled_ids(pairs[:30], ids)
    # Of the sample's real low-contrast scenes, pairs 0 and 7 are among these 30; pair 0 is
    # borderline (robust z -4.5) and, judged against only 30 pairs, not flagged.
    expected["low_information"] = {"NLA_402388793EDR_F0043416NCAM00442M1"}
    assert {c: flagged(table, c) for c in counts} == expected
    row = table.set_index("id").loc[ids[4]]
    assert row["removed"] and row["reason"] == "image is 64x128 but mask is 60x128"


def test_thresholds_are_options(planted, planted_table):
    dataset = Dataset(ids=planted.ids, images=list(planted.pairs[:, 0]),
                      masks=list(planted.pairs[:, 1]), sources=list(planted.ids),
                      num_classes=5, class_names=default_class_names(5))
    config = OutlierConfig(near_duplicate_distance=0, min_shared_mask_group=7,
                           dark_level=0.0, remove=[])
    table = find_outliers(dataset, config).dataset.manifest
    assert flagged(table, "near_duplicate") == {"near_copy"}      # +8 levels: same pHash
    assert flagged(table, "shared_mask") == set()                  # 6 aliens < 7
    assert flagged(table, "dark") == set()
    assert not table["removed"].any()


# --- CLI -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def planted_npz(planted, tmp_path_factory):
    return write_npz(tmp_path_factory.mktemp("in") / "planted.npz", planted.pairs, planted.ids)


def test_cli_writes_the_cleaned_dataset(planted, planted_table, planted_npz, tmp_path):
    before = sha(planted_npz)
    out = tmp_path / "out"
    result = runner.invoke(app, ["outliers", str(planted_npz), "-o", str(out),
                                 "--num-classes", "5"])
    assert result.exit_code == 0, output(result)
    assert sha(planted_npz) == before
    kept = planted_table.loc[~planted_table["removed"], "id"].tolist()
    manifest = pd.read_csv(out / "manifest.csv", dtype={"id": str})
    assert manifest["id"].tolist() == kept
    assert sorted(p.stem for p in (out / "images").glob("*.png")) == sorted(kept)
    assert sorted(p.stem for p in (out / "masks").glob("*.png")) == sorted(kept)
    meta = json.loads((out / "dataset.json").read_text())
    assert meta["num_classes"] == 5 and meta["history"][-1]["command"] == "outliers"
    summary = json.loads((out / "reports" / "outliers.json").read_text())
    assert summary["removed"] == int(planted_table["removed"].sum())
    assert summary["kept"] == len(kept)
    report = pd.read_csv(out / "reports" / "outliers.csv", dtype={"id": str})
    assert set(report["id"]) == set(planted_table.loc[planted_table["flags"] != "", "id"])
    assert (out / "reports" / "outliers.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_dry_run_writes_nothing(planted_npz, tmp_path):
    before = sorted(tmp_path.rglob("*"))
    result = runner.invoke(app, ["outliers", str(planted_npz), "--dry-run", "-o",
                                 str(tmp_path / "out"), "--num-classes", "5"])
    assert result.exit_code == 0, output(result)
    assert "Dry run: nothing written." in result.output
    assert sorted(tmp_path.rglob("*")) == before


def test_a_dry_runs_sheet_and_report_are_those_of_the_real_run(planted_npz, tmp_path):
    """A dry run builds no kept dataset; its --sheet and printed report are the real run's."""
    args = [str(planted_npz), "--num-classes", "5"]
    dry = runner.invoke(app, ["outliers", *args, "--dry-run", "--sheet", str(tmp_path / "s.png")])
    real = runner.invoke(app, ["outliers", *args, "-o", str(tmp_path / "out")])
    assert dry.exit_code == 0 and real.exit_code == 0, output(dry) + output(real)
    assert (tmp_path / "s.png").read_bytes() == \
        (tmp_path / "out" / "reports" / "outliers.png").read_bytes()
    assert "removed" in dry.output and \
        dry.output.split("... and")[0] == real.output.split("... and")[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "s.png"]


def test_cli_refuses_an_existing_output(planted_npz, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = runner.invoke(app, ["outliers", str(planted_npz), "-o", str(out),
                                 "--num-classes", "5"])
    assert result.exit_code == 1
    assert "already exists" in output(result) and "--force" in output(result)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert (out / "keep.txt").read_text() == "mine"


def test_cli_folder_input_stays_byte_identical(tmp_path):
    pairs, ids = load_sample()
    folder = write_folder(tmp_path / "data", list(pairs[:25, 0]), list(pairs[:25, 1]), ids[:25])
    before = {p: sha(p) for p in folder.rglob("*.png")}
    result = runner.invoke(app, ["outliers", str(folder), "-o", str(tmp_path / "out"),
                                 "--num-classes", "5"])
    assert result.exit_code == 0, output(result)
    assert {p: sha(p) for p in folder.rglob("*.png")} == before


def test_cli_stats_matches_the_raw_masks(tmp_path):
    pairs, _ = load_sample()
    path = tmp_path / "stats.json"
    result = runner.invoke(app, ["stats", str(SAMPLE), "--num-classes", "5", "--json",
                                 str(path)])
    assert result.exit_code == 0, output(result)
    per_class = json.loads(path.read_text())["per_class"]
    counts = np.bincount(pairs[:, 1].ravel(), minlength=5)
    images = [int((pairs[:, 1] == k).any(axis=(1, 2)).sum()) for k in range(5)]
    assert [row["pixels"] for row in per_class] == counts.tolist()
    assert [row["pixel_share_pct"] for row in per_class] == pytest.approx(
        np.round(100 * counts / counts.sum(), 2).tolist())
    assert [row["images"] for row in per_class] == images


@pytest.mark.slow
@pytest.mark.skipif(not REAL_TRAIN.exists(), reason=f"{REAL_TRAIN} not present (shared data)")
def test_cli_stats_on_the_real_training_set(tmp_path):
    path = tmp_path / "stats.json"
    result = runner.invoke(app, ["stats", str(REAL_TRAIN), "--num-classes", "5", "--json",
                                 str(path)])
    assert result.exit_code == 0, output(result)
    per_class = json.loads(path.read_text())["per_class"]
    assert [row["pixel_share_pct"] for row in per_class] == [42.34, 21.63, 28.81, 6.93, 0.27]
    assert per_class[4]["images"] == 269
