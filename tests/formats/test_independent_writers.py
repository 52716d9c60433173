"""Data written by code that is not ours reads back with exactly its pixels: Hugging Face
`datasets` (parquet and save_to_disk). Slow lane: those libraries are in the `interop` extra."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from curate.data.readers import load_dataset
from trees import labels

pytestmark = pytest.mark.slow


def hf_dataset(n: int = 8):
    datasets = pytest.importorskip("datasets")
    rng = np.random.default_rng(1)
    images = [Image.fromarray(rng.integers(0, 256, (20, 28, 3), dtype=np.uint8))
              for _ in range(n)]
    masks = [labels(rng, (20, 28), [0, 1 + i % 3, 5]) for i in range(n)]
    features = datasets.Features({"image": datasets.Image(), "annotation": datasets.Image()})
    table = datasets.Dataset.from_dict(
        {"image": images, "annotation": [Image.fromarray(m) for m in masks]}, features=features)
    return table, masks


def test_datasets_parquet_export(tmp_path):
    table, masks = hf_dataset()
    (tmp_path / "data").mkdir()
    table.to_parquet(str(tmp_path / "data" / "train-00000-of-00001.parquet"))
    dataset = load_dataset(tmp_path)
    assert [np.asarray(m).tolist() for m in dataset.masks] == [m.tolist() for m in masks]
    assert set(dataset.manifest["source_split"]) == {"train"}


def test_datasets_save_to_disk(tmp_path):
    datasets = pytest.importorskip("datasets")
    table, masks = hf_dataset()
    datasets.DatasetDict({"train": table.select(range(5)),
                          "test": table.select(range(5, 8))}).save_to_disk(str(tmp_path / "hf"))
    dataset = load_dataset(tmp_path / "hf")
    assert "save_to_disk" in dataset.notes[0]
    got = {tuple(np.asarray(m).ravel()[:40]) for m in dataset.masks}
    assert got == {tuple(m.ravel()[:40]) for m in masks}
    assert sorted(dataset.manifest["source_split"]) == ["test"] * 3 + ["train"] * 5
