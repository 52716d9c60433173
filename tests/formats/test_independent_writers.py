"""Data written by code that is not ours reads back with exactly its pixels: Hugging Face
`datasets` (parquet and save_to_disk), and Datumaro's VOC, Cityscapes and COCO exports. Slow
lane: `datasets` is in the `interop` extra; Datumaro pins pandas and pyarrow versions this
project's environment does not have, so it gets a virtual environment of its own
(tests/tool_venvs.py: under .bench/, or where CURATE_DATUMARO_VENV says) and writes its
exports in a subprocess."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from curate.data.readers import load_dataset
from tool_venvs import datumaro_python
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


EXPORTS = ("voc_segmentation", "cityscapes", "coco_instances", "coco_panoptic")


@pytest.fixture(scope="module")
def datumaro_exports(tmp_path_factory) -> Path:
    python = datumaro_python()
    if isinstance(python, str):
        pytest.skip(python)
    out = tmp_path_factory.mktemp("datumaro")
    script = Path(__file__).with_name("datumaro_export.py")
    done = subprocess.run([str(python), str(script), str(out), *EXPORTS],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


# Our name of a class where it differs from Datumaro's: COCO panoptic leaves Datumaro's
# background unpainted (segment id 0), which we read as void.
ALIASES = {"coco_panoptic": {"void": "background"}}


@pytest.mark.parametrize("export", EXPORTS)
def test_datumaro_exports_read_with_equal_pixels(datumaro_exports, export):
    truth = np.load(datumaro_exports / "truth.npz")
    names = list(truth["names"])
    dataset = load_dataset(datumaro_exports / export)
    layout = export.split("_")[0]
    assert dataset.notes[0].startswith(f"Layout {layout}, recognised as"), dataset.notes[0]
    alias = ALIASES.get(export, {})
    ours = np.array([alias.get(n, n) for n in dataset.class_names])
    masks = dict(zip(dataset.ids, dataset.masks))
    stems = [k for k in truth.files if k != "names"]
    assert sorted(masks) == sorted(stems)
    for stem in stems:
        expected = np.array(names)[truth[stem]]
        got = ours[np.asarray(masks[stem])]
        assert (got == expected).all(), (export, stem, np.argwhere(got != expected)[:5])
    splits = dict(zip(dataset.ids, dataset.manifest["source_split"]))
    assert splits["lindau_000001_000007"] == "val" and splits["aachen_000000_000019"] == "train"
