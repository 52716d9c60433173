"""curate augment: train only, no invented labels, exact provenance, byte-identical replays."""

from __future__ import annotations

import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from curate.augment import AugmentConfig, apply_plan, augment, copy_paste, plan_augmentation  # noqa: E402,E501
from curate.cli.main import app  # noqa: E402
from curate.io.dataset import Dataset  # noqa: E402
from curate.errors import ConfigError, InputError  # noqa: E402
from curate.data.manifest import build_manifest  # noqa: E402
from curate.data.readers import load_dataset, read_manifest, read_mask  # noqa: E402
from curate.data.writers import write_dataset  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[2] / "curate" / "samples" / "mars300.npz"
ROCK = 4
runner = CliRunner()


@pytest.fixture(scope="module")
def split_folder(tmp_path_factory) -> Path:
    """mars300 with a seeded 70/15/15 split, written as a curated folder."""
    dataset = load_dataset(SAMPLE)
    manifest = build_manifest(dataset)
    manifest["split"] = np.random.default_rng(0).choice(
        ["train", "val", "test"], len(manifest), p=[0.7, 0.15, 0.15])
    return write_dataset(tmp_path_factory.mktemp("in") / "mars",
                         replace(dataset, manifest=manifest))


@pytest.fixture(scope="module")
def augmented(split_folder, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out") / "aug"
    result = runner.invoke(app, ["augment", str(split_folder), "-o", str(out), "--class", "4",
                                 "--count", "40", "--seed", "3"])
    assert result.exit_code == 0, result.output
    return out


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_only_train_grows_and_every_original_is_byte_identical(split_folder, augmented):
    before, after = read_manifest(split_folder), read_manifest(augmented)
    originals = after.iloc[:len(before)]
    assert originals["id"].tolist() == before["id"].tolist()
    pd.testing.assert_frame_equal(originals[before.columns].reset_index(drop=True), before)
    for row in before.itertuples():
        for rel in (row.image, row.mask):
            assert (augmented / rel).read_bytes() == (split_folder / rel).read_bytes()
    new = after.iloc[len(before):]
    assert len(new) == 40
    assert set(new["split"]) == {"train"} and set(new["origin"]) == {"augmented"}
    assert (after["split"] != "train").sum() == (before["split"] != "train").sum()


def test_every_new_label_comes_from_a_parent_mask_exactly(split_folder, augmented):
    manifest = read_manifest(augmented).set_index("id")
    new = manifest[manifest["origin"] == "augmented"]
    mask_of = lambda id_: read_mask(augmented / manifest.loc[id_, "mask"])  # noqa: E731
    recipes = set()
    for id_, row in new.iterrows():
        parents = row["parent_ids"].split(";")
        assert all(manifest.loc[p, "split"] == "train" for p in parents)
        mask = mask_of(id_)
        recipes.add(row["recipe"])
        if row["recipe"] == "copy_paste":
            source, target = (mask_of(p) for p in parents)
            assert len(parents) == 2 and parents[0] != parents[1]
            np.testing.assert_array_equal(mask, np.where(source == ROCK, ROCK, target))
        else:
            assert len(parents) == 1
            assert set(np.unique(mask)) <= set(np.unique(mask_of(parents[0])))
        assert (mask == ROCK).any()
    assert recipes == {"copy_paste", "geometric", "crop_k", "photometric"}


def test_provenance_replays_each_pair_from_its_own_row(split_folder, augmented):
    dataset = load_dataset(split_folder)
    manifest = read_manifest(augmented)
    new = manifest[manifest["origin"] == "augmented"].reset_index(drop=True)
    parents = new["parent_ids"].str.split(";")
    plan = pd.DataFrame({"id": new["id"], "parent_id": parents.str[0],
                         "second_parent_id": parents.str[1].fillna(""),
                         "recipe": new["recipe"], "aug_seed": new["aug_seed"].astype(int)})
    for i in (0, 7, 21):                  # one row at a time: no dependence on the others
        replay = apply_plan(dataset, plan.iloc[[i]], ROCK)
        np.testing.assert_array_equal(replay.masks[0], read_mask(augmented / new.loc[i, "mask"]))
    assert all(i.startswith(p[0] + "__aug") for i, p in zip(new["id"], parents))
    history = load_dataset(augmented).history[-1]
    assert history["command"] == "augment" and history["options"]["seed"] == 3


def test_same_seed_gives_byte_identical_output_and_another_seed_does_not(split_folder,
                                                                         augmented, tmp_path):
    args = ["augment", str(split_folder), "--class", "4", "--count", "40"]
    assert runner.invoke(app, args + ["-o", str(tmp_path / "a"), "--seed", "3"]).exit_code == 0
    assert runner.invoke(app, args + ["-o", str(tmp_path / "b"), "--seed", "4"]).exit_code == 0
    assert _files(tmp_path / "a") == _files(augmented)
    assert _files(tmp_path / "b") != _files(augmented)


def test_reports_and_summary(augmented):
    reports = augmented / "reports"
    assert (reports / "augment_preview.png").read_bytes()[:4] == b"\x89PNG"
    assert (reports / "augment_shares.png").read_bytes()[:4] == b"\x89PNG"
    summary = pd.read_json(reports / "augment_summary.json", typ="series")
    assert summary["new_pairs"] == 40 and summary["target_met"]
    assert summary["after"]["pixel_share"][ROCK] > summary["before"]["pixel_share"][ROCK]


def test_image_share_target_is_reached(split_folder):
    dataset = load_dataset(split_folder)
    result = augment(dataset, AugmentConfig(ROCK, image_share=0.15, seed=1))
    train = result.dataset.manifest[result.dataset.manifest["split"] == "train"]
    assert (train[f"px_{ROCK}"] > 0).mean() >= 0.15
    assert result.summary["target_met"]


def test_plan_is_pure_and_honours_the_copy_paste_fraction(split_folder):
    manifest = read_manifest(split_folder)
    config = AugmentConfig(ROCK, count=20, seed=5, copy_paste_fraction=0.25)
    plan = plan_augmentation(manifest, config)
    pd.testing.assert_frame_equal(plan, plan_augmentation(manifest, config))
    assert (plan["recipe"] == "copy_paste").sum() == 5
    train_ids = set(manifest.loc[manifest["split"] == "train", "id"])
    assert set(plan["parent_id"]) <= train_ids
    assert set(plan.loc[plan["second_parent_id"] != "", "second_parent_id"]) <= train_ids


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_copy_paste_mask_is_exactly_source_region_over_target(seed):
    rng = np.random.default_rng(seed)
    masks = rng.integers(0, 4, (2, 9, 11), dtype=np.uint8)
    images = rng.integers(0, 256, (2, 9, 11), dtype=np.uint8)
    image, mask = copy_paste(images[0], masks[0], images[1], masks[1], 3)
    region = masks[0] == 3
    np.testing.assert_array_equal(mask, np.where(region, 3, masks[1]))
    np.testing.assert_array_equal(image[region], images[0][region])


def _tiny(tmp_path: Path, splits: list[str]) -> Path:
    """Four 8x8 pairs; class 2 only in the pair whose split is the last one."""
    masks = [np.ones((8, 8), np.uint8) for _ in splits]
    masks[-1][2:5, 2:5] = 2
    images = [np.full((8, 8), 40 * i, np.uint8) for i in range(len(splits))]
    dataset = Dataset(ids=[f"p{i}" for i in range(len(splits))], images=images, masks=masks,
                      sources=[""] * len(splits), num_classes=3, class_names=["a", "b", "c"])
    manifest = build_manifest(dataset)
    manifest["split"] = splits
    return write_dataset(tmp_path / "tiny", replace(dataset, manifest=manifest))


@pytest.mark.parametrize("args, message", [
    (["--class", "7", "--count", "2"], "out of range"),
    (["--class", "2", "--count", "2"], "does not occur in any training mask"),
    (["--class", "1"], "exactly one target"),
    (["--class", "1", "--count", "2", "--image-share", "0.5"], "exactly one target"),
    (["--class", "1", "--pixel-share", "1.5"], "strictly between 0 and 1"),
    (["--class", "1", "--count", "2", "--recipes", "mosaic"], "Unknown recipe"),
])
def test_cli_errors(tmp_path, args, message):
    data = _tiny(tmp_path, ["train", "train", "val", "test"])
    result = runner.invoke(app, ["augment", str(data), "-o", str(tmp_path / "o"), *args])
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "o").exists()


def test_unsplit_is_refused_unless_allowed(tmp_path):
    data = _tiny(tmp_path, ["", "", "", ""])
    args = ["augment", str(data), "-o", str(tmp_path / "o"), "--class", "2", "--count", "3"]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 1 and "curate split" in refused.output
    allowed = runner.invoke(app, args + ["--allow-unsplit"])
    assert allowed.exit_code == 0, allowed.output
    manifest = read_manifest(tmp_path / "o")
    assert len(manifest) == 7 and set(manifest["split"]) == {"train"}


def test_library_errors_are_domain_errors(split_folder):
    manifest = read_manifest(split_folder)
    with pytest.raises(ConfigError, match="already has"):
        plan_augmentation(manifest, AugmentConfig(0, pixel_share=0.01))
    with pytest.raises(InputError, match="no 'train' rows"):
        plan_augmentation(manifest.assign(split="val"), AugmentConfig(ROCK, count=1))


def test_run_writes_the_folder_when_the_class_is_already_common(tmp_path):
    """Bedrock (2) is in most images of the sample: the default image-share target 0.1 is met.
    `curate run --class 2` used to fail whole with 'nothing to add' and write nothing; it now
    writes the curated folder, adds no pair, and says why and what would add pairs."""
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", str(SAMPLE), "-o", str(out), "--num-classes", "5",
                                 "--class", "2"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Augmentation was skipped; --count N adds N pairs of class 2 regardless" in text
    assert "already has a training image share of" in text
    manifest = read_manifest(out)
    assert len(manifest) and not manifest["id"].str.contains("__aug").any()
    card = " ".join((out / "card.md").read_text(encoding="utf-8").split())
    assert "Class 2 (bedrock) was to be grown, and was not" in card
    assert "Augmentation was skipped" in card
