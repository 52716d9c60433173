"""curate split and curate check-leakage: partitions, rare classes, groups, seeds, the CLI."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from curate.cli.main import app
from curate.errors import ConfigError, InputError
from curate.scan.features import scan
from curate.split.leakage import apply_split_file, find_leakage
from curate.data.readers import load_dataset, read_manifest
from curate.split.groups import split_groups
from curate.split.stratify import (
    SPLITS, SplitConfig, parse_ratios, split_dataset, split_report, stratified_split,
    worst_deviation,
)

SAMPLE = Path(__file__).resolve().parents[2] / "curate" / "samples" / "mars300.npz"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "ai4mars-mars64" / "train.npz"
runner = CliRunner()


@pytest.fixture(scope="module")
def mars300():
    dataset = load_dataset(SAMPLE)
    manifest = scan(dataset)
    return dataset, manifest


def synthetic_manifest(px: np.ndarray, phash: list[str] | None = None, **columns) -> pd.DataFrame:
    """A manifest with px_k columns, distinct hashes and sha1s unless given."""
    n = len(px)
    table = pd.DataFrame({f"px_{k}": px[:, k] for k in range(px.shape[1])})
    table.insert(0, "id", [f"p{i:03d}" for i in range(n)])
    # Hashes far apart: each is a different 16-bit block pattern repeated.
    table["phash"] = phash or [f"{(i * 0x9E3779B97F4A7C15) % (1 << 64):016x}" for i in range(n)]
    table["image_sha1"] = [f"sha{i}" for i in range(n)]
    for name, values in columns.items():
        table[name] = values
    return table


# --- the split is a partition and respects groups --------------------------------------------

@st.composite
def manifests(draw):
    n = draw(st.integers(1, 60))
    k = draw(st.integers(2, 4))
    px = np.array(draw(st.lists(st.lists(st.integers(0, 50), min_size=k, max_size=k),
                                min_size=n, max_size=n)))
    sites = draw(st.lists(st.sampled_from(["", "a", "b", "c"]), min_size=n, max_size=n))
    dups = draw(st.lists(st.sampled_from(["", "g1", "g2"]), min_size=n, max_size=n))
    return synthetic_manifest(px, site=sites, dup_group=dups), k


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=manifests(), seed=st.integers(0, 2**32 - 1),
       ratios=st.sampled_from([(0.7, 0.15, 0.15), (0.8, 0.2, 0.0), (1.0, 0.0, 0.0),
                               (0.34, 0.33, 0.33)]))
def test_split_is_a_partition_that_keeps_groups_whole(case, seed, ratios):
    manifest, k = case
    config = SplitConfig(ratios=ratios, seed=seed, group_column="site")
    splits = stratified_split(manifest, k, 0, config)
    assert len(splits) == len(manifest)
    assert set(splits) <= set(SPLITS)
    # Every pair is in exactly one split, and the splits together are the whole.
    masks = [splits == name for name in SPLITS]
    assert (np.sum(masks, axis=0) == 1).all()
    for name, ratio in zip(SPLITS, ratios):
        if ratio == 0:
            assert not (splits == name).any()
    for column in ("site", "dup_group"):
        for value, part in pd.Series(splits).groupby(manifest[column]):
            if value:
                assert part.nunique() == 1, f"{column}={value} straddles {set(part)}"


def test_near_duplicates_found_from_phash_stay_together():
    px = np.tile([[10, 5, 0]], (40, 1))
    hashes = [f"{(i * 0x9E3779B97F4A7C15) % (1 << 64):016x}" for i in range(40)]
    base = int(hashes[0], 16)
    hashes[7] = f"{base ^ 0b111:016x}"          # 3 bits from pair 0
    hashes[21] = f"{base ^ (0b11 << 40):016x}"  # 2 bits from pair 0
    manifest = synthetic_manifest(px, phash=hashes)
    manifest.loc[33, "image_sha1"] = manifest.loc[12, "image_sha1"]   # identical images
    groups = split_groups(manifest, SplitConfig(near_duplicate_distance=6))
    assert groups[0] == groups[7] == groups[21]
    assert groups[12] == groups[33]
    assert len(set(groups)) == 40 - 3
    for seed in range(10):
        splits = stratified_split(manifest, 3, 0, SplitConfig(seed=seed), groups=groups)
        assert splits[0] == splits[7] == splits[21] and splits[12] == splits[33]


def test_missing_group_column_is_a_config_error():
    manifest = synthetic_manifest(np.ones((5, 2), int))
    with pytest.raises(ConfigError, match="'sol' is not in the manifest"):
        stratified_split(manifest, 2, 0, SplitConfig(group_column="sol"))


# --- stratification ---------------------------------------------------------------------------

def test_rare_class_lands_in_every_split(mars300):
    dataset, manifest = mars300
    rare = 4
    assert (manifest[f"px_{rare}"] > 0).sum() == 12       # big rock: 12 of 300 pairs
    for seed in range(5):
        splits = stratified_split(manifest, 5, 0, SplitConfig(seed=seed))
        for name in SPLITS:
            assert (manifest[f"px_{rare}"][splits == name] > 0).any(), (seed, name)
        sizes = np.array([(splits == s).sum() for s in SPLITS])
        assert np.abs(sizes - [210, 45, 45]).max() <= 3, sizes


def test_report_shares_and_deviations_by_hand():
    # 4 pairs, classes 0 (ignored), 1, 2. Pair 3 alone holds class 2.
    px = np.array([[5, 5, 0], [0, 10, 0], [10, 0, 0], [0, 6, 4]])
    manifest = synthetic_manifest(px)
    splits = np.array(["train", "train", "val", "test"], dtype=object)
    report = split_report(manifest, splits, 3, ignore_index=0).set_index(["split", "class"])
    assert report.loc[("all", 1), "image_share_pct"] == 75.0
    assert report.loc[("all", 2), "pixel_share_pct"] == 16.0            # 4 of 25 counted px
    assert report.loc[("train", 1), "image_share_dev_pp"] == 25.0
    assert report.loc[("val", 1), "pixel_share_pct"] != report.loc[("val", 1), "pixel_share_pct"]
    assert report.loc[("test", 2), "pixel_share_pct"] == 40.0
    assert report.loc[("test", 2), "pixel_share_dev_pp"] == 24.0


def test_same_seed_same_split_and_seed_matters(mars300):
    _, manifest = mars300
    first = stratified_split(manifest, 5, 0, SplitConfig(seed=3))
    again = stratified_split(manifest.copy(), 5, 0, SplitConfig(seed=3))
    other = stratified_split(manifest, 5, 0, SplitConfig(seed=4))
    assert (first == again).all()
    assert (first != other).any()


@pytest.mark.parametrize("text, message", [
    ("0.7,0.3", "give 2 values; expected 3"),
    ("0.7,0.2,0.2", "sum to 1.1"),
    ("1.2,-0.1,-0.1", "negative"),
    ("a,b,c", "three comma-separated numbers"),
])
def test_bad_ratios_say_what_is_wrong(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_ratios(text)


def test_augmented_datasets_are_refused(mars300):
    dataset, manifest = mars300
    planted = manifest.iloc[:20].assign(split="", origin="original")
    planted.loc[3, "origin"] = "augmented"
    small = dataclasses.replace(dataset.subset(range(20)), manifest=planted)
    with pytest.raises(InputError, match="split the dataset before augmenting"):
        split_dataset(small, SplitConfig())


def test_split_dataset_records_split_and_history(mars300):
    dataset, _ = mars300
    dataset = dataset.subset(range(len(dataset)))
    start = time.perf_counter()
    history = list(dataset.history)
    result = split_dataset(dataset, SplitConfig(seed=1))
    assert time.perf_counter() - start < 10
    manifest, report = result.dataset.manifest, result.table
    assert sorted(manifest["split"].unique()) == ["test", "train", "val"]
    assert "split_group" in manifest.columns
    assert dataset.history == history and "split_group" not in dataset.manifest  # input kept
    step = result.dataset.history[-1]
    assert step["command"] == "split" and step["options"]["seed"] == 1
    assert sum(step["summary"]["pairs"].values()) == 300
    assert worst_deviation(report)["image_share_pp"] < 3.0


# --- leakage ----------------------------------------------------------------------------------

def test_find_leakage_reports_pairs_across_splits_only():
    px = np.ones((6, 2), int)
    hashes = [f"{(i * 0x9E3779B97F4A7C15) % (1 << 64):016x}" for i in range(6)]
    hashes[1] = f"{int(hashes[0], 16) ^ 0b1011:016x}"                    # near pair 0-1
    hashes[3] = hashes[2]                                                # same picture 2-3
    manifest = synthetic_manifest(px, phash=hashes,
                                  split=["train", "val", "train", "test", "val", "val"])
    manifest.loc[3, "image_sha1"] = manifest.loc[2, "image_sha1"]
    manifest.loc[5, "image_sha1"] = manifest.loc[4, "image_sha1"]        # same split: fine
    manifest.loc[5, "phash"] = manifest.loc[4, "phash"]
    leaks = find_leakage(manifest, distance=6)
    assert leaks[["id_a", "id_b", "distance", "kind"]].values.tolist() == [
        ["p002", "p003", 0, "exact"], ["p000", "p001", 3, "near"]]
    assert find_leakage(manifest, distance=2)["kind"].tolist() == ["exact"]


def test_split_file_errors_name_the_problem(tmp_path):
    manifest = synthetic_manifest(np.ones((3, 2), int))
    bad = tmp_path / "bad.csv"
    bad.write_text("id,split\np000,train\np999,val\n")
    with pytest.raises(InputError, match="p999"):
        apply_split_file(manifest, bad)
    bad.write_text("id,split\np000,training\n")
    with pytest.raises(InputError, match="training"):
        apply_split_file(manifest, bad)
    good = tmp_path / "good.csv"
    good.write_text("id,split\np000,train\np001,val\n")
    assert apply_split_file(manifest, good)["split"].tolist() == ["train", "val", ""]


# --- CLI --------------------------------------------------------------------------------------

def test_cli_split_writes_folder_and_leakage_check_passes(tmp_path):
    out = tmp_path / "split"
    result = runner.invoke(app, ["split", str(SAMPLE), "-o", str(out), "--seed", "2"])
    assert result.exit_code == 0, result.output
    assert "big rock" in result.output and "Worst deviation" in result.output
    manifest = read_manifest(out)
    assert set(manifest["split"]) == {"train", "val", "test"} and len(manifest) == 300
    assert (out / "reports" / "split_report.csv").is_file()
    assert (out / "reports" / "split.png").is_file()
    again = runner.invoke(app, ["split", str(SAMPLE), "-o", str(out)])
    assert again.exit_code == 1 and "already exists" in again.output
    clean = runner.invoke(app, ["check-leakage", str(out)])
    assert clean.exit_code == 0, clean.output
    assert "No leakage" in clean.output


def test_cli_leakage_flags_a_planted_duplicate(tmp_path):
    data = np.load(SAMPLE)
    pairs = data["training_set"][:12].copy()
    pairs[7] = pairs[2]                                                  # planted copy
    npz = tmp_path / "small.npz"
    np.savez(npz, training_set=pairs)
    split_file = tmp_path / "split.csv"
    rows = [f"pair_{i:05d},{'test' if i == 7 else 'train'}" for i in range(12)]
    split_file.write_text("id,split\n" + "\n".join(rows) + "\n")
    result = runner.invoke(app, ["check-leakage", str(npz), "--split-file", str(split_file),
                                 "--num-classes", "5"])
    assert result.exit_code == 1, result.output
    assert "pair_00002" in result.output and "pair_00007" in result.output
    assert "exact" in result.output


def test_cli_bad_ratios_exit_with_message(tmp_path):
    result = runner.invoke(app, ["split", str(SAMPLE), "-o", str(tmp_path / "x"),
                                 "--ratios", "0.5,0.5,0.5"])
    assert result.exit_code == 1
    assert "sum to 1.5" in result.output
    assert not (tmp_path / "x").exists()


# --- real data --------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(not SHARED.is_file(), reason=f"{SHARED} is absent (shared test data)")
def test_big_rock_within_two_points_and_better_than_random_split():
    from sklearn.model_selection import train_test_split

    dataset = load_dataset(SHARED)
    manifest = scan(dataset)
    splits = stratified_split(manifest, 5, 0, SplitConfig(seed=0))
    report = split_report(manifest, splits, 5, 0)
    big_rock = report[(report["class"] == 4) & (report["split"] != "all")]
    assert (big_rock["images_with_class"] > 0).all()
    assert big_rock["image_share_dev_pp"].abs().max() <= 2.0
    train, rest = train_test_split(np.arange(len(manifest)), test_size=0.3, random_state=0)
    val, test = train_test_split(rest, test_size=0.5, random_state=0)
    baseline = np.empty(len(manifest), dtype=object)
    baseline[train], baseline[val], baseline[test] = "train", "val", "test"
    ours = worst_deviation(report)
    theirs = worst_deviation(split_report(manifest, baseline, 5, 0))
    assert ours["image_share_pp"] < theirs["image_share_pp"]
    assert ours["pixel_share_pp"] < theirs["pixel_share_pp"]


def test_a_dataset_is_frozen(mars300):
    """No step can rebind a field of the dataset it was given: it makes a new one instead."""
    dataset, _ = mars300
    with pytest.raises(dataclasses.FrozenInstanceError):
        dataset.manifest = None
