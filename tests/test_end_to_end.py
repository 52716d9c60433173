"""The contract between the two stages: `segment` trains on, scores and predicts for the
folder that `curate run` wrote, importing nothing of `curate` but its I/O layer."""

from __future__ import annotations

import pytest

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from curate.cli.main import app as curate_app
from segment.cli import app as segment_app

SAMPLE = Path(__file__).parents[1] / "curate" / "samples" / "mars300.npz"
runner = CliRunner()


def test_segment_loads_only_the_io_layer_and_the_ui_kit_of_curate():
    code = ("import sys, segment, segment.cli, segment.training.loop, segment.evaluation.scores, "
            "segment.evaluation.predict, segment.report.html; print(sorted(m for m in sys.modules "
            "if m.split('.')[0] == 'curate'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    loaded = eval(out.stdout)   # a printed list of module names
    assert "curate.io.raw" in loaded
    assert [m for m in loaded if m != "curate"
            and not m.startswith(("curate.io", "curate.ui"))] == []


@pytest.mark.slow
def test_curate_run_then_segment_train_evaluate_predict(tmp_path):
    pairs = np.load(SAMPLE)
    small = tmp_path / "small.npz"
    np.savez(small, training_set=pairs["training_set"][:90], names=pairs["names"][:90])
    data = tmp_path / "curated"
    result = runner.invoke(curate_app, ["run", str(small), "-o", str(data), "--num-classes",
                                        "5", "--class", "4", "--count", "6", "--no-card"])
    assert result.exit_code == 0, result.output
    manifest = (data / "manifest.csv").read_text().splitlines()
    header = manifest[0].split(",")
    assert header[:6] == ["id", "image", "mask", "source", "split", "origin"]

    run = tmp_path / "run"
    result = runner.invoke(segment_app, [
        "train", str(data), "-o", str(run), "--epochs", "1", "--set", "base_width=4",
        "--batch-size", "16", "--set", "threads=1", "--set", "compile=false"])
    assert result.exit_code == 0, result.output
    assert (run / "best.pt").is_file() and (run / "last.pt").is_file()

    result = runner.invoke(segment_app, ["evaluate", str(run / "best.pt"), str(data),
                                         "--split", "test", "--print-json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output[result.output.index("{"):])
    assert 0.0 <= scores["mean_iou"] <= 1.0

    preds = tmp_path / "pred"
    result = runner.invoke(segment_app, ["predict", str(run / "best.pt"), str(data), "-o",
                                         str(preds), "--split", "test", "--overlay", "none"])
    assert result.exit_code == 0, result.output
    test_ids = [line.split(",")[0] for line in manifest[1:] if line.split(",")[4] == "test"]
    written = sorted(p.stem for p in (preds / "masks").glob("*.png"))
    assert written == sorted(test_ids)
    mask = np.asarray(Image.open(preds / "masks" / f"{test_ids[0]}.png"))
    assert mask.shape == (64, 128) and mask.max() < 5
