"""Training-run HTML report: sections and numbers as text, then rendered in headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from browser import CHROMIUM, SKIP_REASON, probe, screenshot
from conftest import TINY, write_dataset
from segment import TrainConfig, evaluate, train
from segment.cli import app
from segment.errors import ConfigError, OutputExistsError
from segment.report.html import SECTION_IDS, render_report, write_report
from segment.model.checkpoints import load_checkpoint

IMAGES = ["img-confusion-test", "img-confusion-val", "img-learning-curve", "img-predictions"]
runner = CliRunner()


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


@pytest.fixture(scope="module")
def trained(tmp_path_factory, mars_pairs) -> tuple[Path, Path]:
    """A 2-epoch run on 40 real pairs (24 train, 8 val, 8 test), scored on test."""
    images, masks = mars_pairs
    root = tmp_path_factory.mktemp("run_report")
    data = write_dataset(root / "mars40", images[:40], masks[:40],
                         ["train"] * 24 + ["val"] * 8 + ["test"] * 8)
    run = root / "run"
    train(TrainConfig.from_dict({"data": str(data), "out": str(run), **{**TINY, "patience": 50}}))
    evaluate(run / "best.pt", data, "test", "cpu", run)
    return run, data


def test_sections_numbers_and_images(trained):
    run, data = trained
    page = render_report(run, data)
    for section_id in SECTION_IDS:
        assert f'<section id="{section_id}">' in page
    images = re.findall(r'<img id="([^"]+)"[^>]* src="data:image/png;base64,', page)
    assert sorted(images) == IMAGES
    assert "src=\"http" not in page and "href=\"http" not in page and "not available" not in page
    best = load_checkpoint(run / "best.pt")
    assert f'<div id="n-best-epoch"><b>{best.epoch}</b>' in page
    assert f'<div id="n-best-val-mean-IoU"><b>{best.best_metric:.4f}</b>' in page
    assert '<div id="n-epochs-run"><b>2 of 2</b>' in page
    assert f"<tr class=best><td>{best.epoch}</td>" in page   # best row of the epoch table
    test = json.loads((run / "scores_test.json").read_text())
    assert f"Mean IoU {test['mean_iou']:.4f} over soil, bedrock, sand, big rock" in page
    for name, s in test["per_class"].items():
        cells = "".join(f"<td>{_num(s[m])}</td>" for m in ("precision", "recall", "f1", "iou"))
        assert f"<td class=text>{name}</td>{cells}<td>{s['support']}</td>" in page
    metrics = pd.read_csv(run / "metrics.csv")
    for loss in metrics["train_loss"]:
        assert f"<td>{loss:.6f}</td>" in page                  # the per-epoch table
    assert "<th>val IoU big rock</th>" in page                # class names in the headers
    assert 'id="legend"' in page and "First 8 test images of mars40" in page
    assert render_report(run, data) == page                    # deterministic


def test_without_data_uses_a_sheet_in_the_run_or_says_not_available(trained, tmp_path):
    run, data = trained
    bare = tmp_path / "bare"
    shutil.copytree(run, bare)
    for name in ("learning_curve.png", "scores_test.json", "confusion_test.png",
                 "confusion_val.png"):
        (bare / name).unlink()
    page = render_report(bare)
    assert 'id="predictions-missing"' in page and "pass DATA" in page
    assert 'id="img-confusion-val"' not in page and "Confusion matrices: not available" in page
    # A run still training has no learning_curve.png: the report draws one from metrics.csv.
    assert 'id="img-learning-curve"' in page and "drawn from metrics.csv" in page
    result = runner.invoke(app, ["predict", str(bare / "best.pt"), str(data), "-o",
                                 str(bare / "pred"), "--split", "val"])
    assert result.exit_code == 0, result.output
    page = render_report(bare)
    assert 'id="img-predictions"' in page and "(pred/contact_sheet.png" in page


def test_write_refuses_overwrite_non_html_and_the_dataset(trained, tmp_path):
    run, data = trained
    out = write_report(run, tmp_path / "r.html")
    with pytest.raises(OutputExistsError, match="--force"):
        write_report(run, out)
    assert write_report(run, out, force=True) == out
    with pytest.raises(OutputExistsError, match="is the input"):
        write_report(run, run / "best.pt", force=True)      # never clobbers a checkpoint
    with pytest.raises(ConfigError, match=r"\.html"):
        write_report(run, tmp_path / "r.txt")
    with pytest.raises(OutputExistsError, match="lies inside the input"):
        write_report(run, data / "report.html", data)
    assert not list(tmp_path.glob(".*.tmp"))                  # atomic: no temp left behind


def test_cli_report_defaults_into_the_run_folder(trained, tmp_path):
    run, data = trained
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    result = runner.invoke(app, ["report", str(copy)])
    assert result.exit_code == 0, result.output
    assert (copy / "report.html").is_file() and "Wrote" in result.output
    again = runner.invoke(app, ["report", str(copy)])
    assert again.exit_code == 1 and "--force" in again.stderr
    missing = runner.invoke(app, ["report", str(tmp_path / "nope"), "-o", str(tmp_path / "x.html")])
    assert missing.exit_code == 1 and "does not exist" in missing.stderr


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)
def test_chromium_renders_sections_and_images(trained, tmp_path):
    run, data = trained
    images, sections = probe(render_report(run, data), tmp_path)
    assert sorted(images) == IMAGES
    assert all(width > 100 and height > 50 for width, height in images.values()), images
    assert set(sections) == set(SECTION_IDS) and all(h > 20 for h in sections.values())
    # A screenshot of the report itself (no probe), for a person to look at:
    # RUN_REPORT_SCREENSHOT=/tmp/run_report.png pytest tests/segment/test_run_report.py
    shot = Path(os.environ.get("RUN_REPORT_SCREENSHOT") or tmp_path / "run_report.png")
    shot.unlink(missing_ok=True)
    report = write_report(run, tmp_path / "report.html", data)
    screenshot(report, shot, tmp_path)
    assert shot.is_file() and shot.stat().st_size > 10_000


def test_report_shows_the_device_and_amp_that_ran_and_the_time_per_epoch(small_dataset, tmp_path):
    # Issue 31, 13: a CPU run reported "device auto", "amp true" and a sum as "epoch time".
    run = tmp_path / "run"
    args = ["train", str(small_dataset), "-o", str(run), "--epochs", "2", "--device", "auto",
            "--set", "amp=true", "--set", "base_width=4", "--set", "depth=2",
            "--set", "threads=1", "--batch-size", "6"]
    assert runner.invoke(app, args).exit_code == 0
    config = json.loads((run / "config.json").read_text())
    assert (config["device_used"], config["amp_used"]) == ("cpu", False)
    result = runner.invoke(app, ["report", str(run)])
    assert result.exit_code == 0, result.output
    page = (run / "report.html").read_text()
    assert "<td class=text>cpu (--device auto)</td>" in page
    assert "<td class=text>off (asked on; AMP runs on CUDA only)</td>" in page
    assert re.search(r"<b>[0-9.]+ s total, [0-9.]+ s per epoch</b>", page)
    assert "epoch time" not in page
