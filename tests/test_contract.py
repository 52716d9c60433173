"""The dataset-folder contract (curate.io.contract), end to end: curate writes a folder, segment
reads it pair for pair; an unknown format_version is refused by both; label_quality.csv's
columns are the ones segment writes and curate reads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from curate.checks.label_issue import read_label_quality
from curate.cli.main import app as curate_app
from curate.io import contract
from curate.io.errors import InputError as CurateInputError
from curate.data.readers import load_dataset as curate_dataset
from segment.label_quality import score as label_quality
from segment.cli import app as segment_app
from segment.data.folder import load_dataset, load_split
from segment.errors import USER_ERRORS

MARS300 = Path(__file__).parents[1] / "curate" / "samples" / "mars300.npz"
runner = CliRunner()


@pytest.fixture(scope="module")
def curated(tmp_path_factory) -> Path:
    """40 Mars pairs through `curate split` (70/15/15)."""
    root = tmp_path_factory.mktemp("contract")
    pairs = np.load(MARS300)["training_set"][:40]
    np.savez(root / "mars40.npz", training_set=pairs)
    result = runner.invoke(curate_app, ["split", str(root / "mars40.npz"), "-o", str(root / "data"),
                                        "--num-classes", "5"])
    assert result.exit_code == 0, result.output
    return root / "data"


def test_curate_writes_the_contract(curated):
    meta = json.loads((curated / "dataset.json").read_text())
    assert tuple(meta) == contract.DATASET_FIELDS
    assert meta["format"] == contract.FORMAT and meta["format_version"] == contract.FORMAT_VERSION
    columns = pd.read_csv(curated / "manifest.csv", nrows=0).columns.tolist()
    assert tuple(columns[:len(contract.LEADING_COLUMNS)]) == contract.LEADING_COLUMNS
    assert set(pd.read_csv(curated / "manifest.csv")["split"]) <= set(contract.SPLITS)


def test_segment_reads_what_curate_wrote(curated):
    info = load_dataset(curated)
    data = curate_dataset(curated)
    assert (info.num_classes, info.class_names, info.ignore_index) == \
        (data.num_classes, data.class_names, data.ignore_index)
    by_id = {pid: i for i, pid in enumerate(data.ids)}
    seen = 0
    for split in contract.SPLITS:
        images, masks, ids = load_split(info, split)
        for image, mask, pid in zip(images, masks, ids):
            assert np.array_equal(image[0], data.images[by_id[pid]])    # (1, H, W) gray
            assert np.array_equal(mask, data.masks[by_id[pid]])
        seen += len(ids)
    assert seen == len(data.ids) == 40


def test_an_unknown_format_version_is_refused_by_both(curated, tmp_path):
    newer = tmp_path / "newer"
    shutil.copytree(curated, newer)
    meta = json.loads((newer / "dataset.json").read_text())
    (newer / "dataset.json").write_text(json.dumps({**meta, "format_version": 2}))
    with pytest.raises(USER_ERRORS, match="format_version 2.*reads format_version 1"):
        load_dataset(newer)
    with pytest.raises(CurateInputError, match="format_version 2"):
        curate_dataset(newer)
    result = runner.invoke(segment_app, ["train", str(newer), "-o", str(tmp_path / "run")])
    assert result.exit_code == 1 and "format_version 2" in result.stderr
    assert "upgrade" in result.stderr


def test_label_quality_columns_are_written_by_segment_and_read_by_curate(tmp_path):
    assert label_quality.QUALITY_COLUMNS == list(contract.LABEL_QUALITY_COLUMNS)
    assert set(contract.LABEL_QUALITY_REQUIRED) <= set(contract.LABEL_QUALITY_COLUMNS)
    row = {c: 0.0 for c in contract.LABEL_QUALITY_COLUMNS}
    row.update(id="007", row=0, fold=1, given_class="soil", predicted_class="sand")
    path = tmp_path / "label_quality.csv"
    pd.DataFrame([row], columns=label_quality.QUALITY_COLUMNS).to_csv(path, index=False)
    table = read_label_quality(path)
    assert table["id"].tolist() == ["007"]            # ids stay text, leading zeros kept
    pd.DataFrame([row]).drop(columns="low_share").to_csv(path, index=False)
    with pytest.raises(CurateInputError, match="lacks column"):
        read_label_quality(path)
