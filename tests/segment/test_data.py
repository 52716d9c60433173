"""Dataset-folder validation: each defect gives a clear InputError naming the fix."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from segment.data.folder import load_dataset, load_split
from segment.errors import InputError


@pytest.fixture
def make(tmp_path, mars_pairs, dataset_writer):
    def _make(splits=None, **kw):
        return _write(dataset_writer, tmp_path, mars_pairs, splits, **kw)
    return _make


def _write(write_dataset, tmp_path, mars_pairs, splits=None, n=6, **kw):
    images, masks = mars_pairs
    splits = splits or ["train", "train", "val", "val", "test", "test"][:n]
    return write_dataset(tmp_path / "ds", images[:n], masks[:n], splits, **kw)


def test_loads_split_arrays(make):
    info = load_dataset(make())
    images, masks, ids = load_split(info, "val")
    assert images.shape == (2, 1, 64, 128) and masks.shape == (2, 64, 128)
    assert ids == ["pair002", "pair003"] and info.ignore_index == 0


def test_not_a_dataset_folder(tmp_path):
    tmp_path.joinpath("x").mkdir()
    with pytest.raises(InputError, match="dataset.json is missing"):
        load_dataset(tmp_path / "x")


def test_unsplit_dataset_says_run_curate_split(make):
    root = make(splits=[""] * 6)
    with pytest.raises(InputError, match=r"`curate split \S+ -o \S+-split`"):
        load_split(load_dataset(root), "train")


def test_missing_split_column(make):
    root = make()
    pd.read_csv(root / "manifest.csv").drop(columns="split").to_csv(root / "manifest.csv", index=False)
    with pytest.raises(InputError, match="not split yet"):
        load_split(load_dataset(root), "train")


def test_empty_split(make):
    root = make(splits=["train"] * 4 + ["val"] * 2)
    with pytest.raises(InputError, match="no rows in split 'test'"):
        load_split(load_dataset(root), "test")


def test_missing_files_are_listed(make):
    root = make()
    (root / "masks" / "pair000.png").unlink()
    with pytest.raises(InputError, match="1 file.*masks/pair000.png"):
        load_split(load_dataset(root), "train")


def test_label_out_of_range(make):
    root = make()
    Image.fromarray(np.full((64, 128), 7, np.uint8)).save(root / "masks" / "pair001.png")
    with pytest.raises(InputError, match="labels >= num_classes=5.*pair001.*max label 7"):
        load_split(load_dataset(root), "train")


def test_mixed_sizes(make):
    root = make()
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(root / "images" / "pair001.png")
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(root / "masks" / "pair001.png")
    with pytest.raises(InputError, match="2 different sizes.*resize or crop"):
        load_split(load_dataset(root), "train")
