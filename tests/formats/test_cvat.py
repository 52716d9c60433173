"""CVAT's Segmentation mask 1.1 against an independent implementation (slow): CVAT itself
needs Docker, so Datumaro, whose voc_segmentation format CVAT's is, reads our export with the
same labels, repaints a block, exports again, and --mask-fixes reads that export (folder and
zip): exactly the repainted pixels differ. Datumaro runs in its own virtual environment
(tests/tool_venvs.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.io.image_files import read_mask
from tool_venvs import datumaro_python

pytestmark = pytest.mark.slow
MARS300 = Path(__file__).parents[2] / "curate" / "samples" / "mars300.npz"
runner = CliRunner()


def masks_of(folder: Path) -> dict[str, np.ndarray]:
    manifest = pd.read_csv(folder / "manifest.csv", dtype={"id": str})
    return {i: read_mask(folder / m) for i, m in zip(manifest["id"], manifest["mask"])}


@pytest.fixture(scope="module")
def through_datumaro(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(curated folder, our CVAT export of its queue, Datumaro's output)."""
    python = datumaro_python()
    if isinstance(python, str):
        pytest.skip(python)
    root = tmp_path_factory.mktemp("cvat")
    for args in (["outliers", str(MARS300), "-o", str(root / "curated")],
                 ["export", str(root / "curated"), "-o", str(root / "cvat"), "--to", "cvat"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    (root / "datumaro").mkdir()
    done = subprocess.run([str(python), str(Path(__file__).with_name("datumaro_cvat.py")),
                           str(root / "cvat"), str(root / "datumaro"), "bedrock"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return root / "curated", root / "cvat", root / "datumaro"


def test_datumaro_reads_our_export_with_our_labels(through_datumaro):
    curated, ours, theirs = through_datumaro
    names = json.loads((curated / "dataset.json").read_text())["class_names"]
    truth = np.load(theirs / "truth.npz")
    their_names = list(truth["names"]) + ["background"]          # -1: nothing painted
    queue = (ours / "ImageSets/Segmentation/default.txt").read_text().split()
    assert list(truth["order"]) == queue or sorted(truth["order"]) == sorted(queue)
    masks = masks_of(curated)
    for pair in queue:
        got = np.array(their_names)[truth[pair]]
        assert (got == np.array(names)[masks[pair]]).all(), pair


@pytest.mark.parametrize("packed", [False, True], ids=["folder", "zip"])
def test_datumaro_export_applies_with_mask_fixes(through_datumaro, tmp_path, packed):
    curated, ours, theirs = through_datumaro
    names = json.loads((curated / "dataset.json").read_text())["class_names"]
    export = theirs / "export"
    if packed:
        export = Path(shutil.make_archive(str(tmp_path / "task_export"), "zip", export))
    result = runner.invoke(app, ["outliers", str(curated), "-o", str(tmp_path / "fixed"),
                                 "--mask-fixes", str(export)])
    assert result.exit_code == 0, result.output
    queue = (ours / "ImageSets/Segmentation/default.txt").read_text().split()
    assert f"{len(queue)} corrected in CVAT" in result.output
    before, after = masks_of(curated), masks_of(tmp_path / "fixed")
    first = next(iter(np.load(theirs / "truth.npz")["order"]))
    block = np.zeros(before[first].shape, bool)
    block[4:20, 8:40] = True
    for pair in before:
        differs = after[pair] != before[pair]
        if pair == first:
            assert (differs == (block & (before[pair] != names.index("bedrock")))).all()
        else:
            assert not differs.any(), pair
