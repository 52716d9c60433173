"""Real data from ../shared/data when it is present: the ISBI membrane folder as plain images."""

import shutil
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from segment.cli import app

SHARED = Path(__file__).parents[2].parent / "shared" / "data"



@pytest.mark.slow
def test_predict_on_isbi_images_keeps_their_size(small_dataset, tmp_path):
    shared = SHARED / "isbi2012-membrane" / "images"
    if not shared.is_dir():
        pytest.skip(f"{shared} is absent (shared data lives next to the repo, not in it)")
    folder = tmp_path / "isbi"
    folder.mkdir()
    for path in sorted(shared.glob("*.png"))[:2]:
        shutil.copy(path, folder / path.name)
    runner = CliRunner()
    run = tmp_path / "run"
    result = runner.invoke(app, ["train", str(small_dataset), "-o", str(run), "--epochs", "1",
                                 "--set", "base_width=4", "--set", "depth=2", "--device", "cpu", "--set", "threads=1"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["predict", str(run / "best.pt"), str(folder), "-o", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    first = sorted(folder.iterdir())[0]
    with Image.open(first) as src, Image.open(tmp_path / "p" / "masks" / first.name) as mask:
        assert mask.size == src.size


@pytest.mark.slow
def test_evaluate_and_predict_on_the_raw_ai4mars_release(tiny_run, tmp_path):
    shared = SHARED / "ai4mars-256-raw"
    if not (shared / "images").is_dir():
        pytest.skip(f"{shared} is absent (shared data lives next to the repo, not in it)")
    folder = tmp_path / "raw"
    for sub in ("images", "masks"):
        (folder / sub).mkdir(parents=True)
    for image in sorted((shared / "images").glob("*.jpg"))[:20]:
        shutil.copy(image, folder / "images" / image.name)
        shutil.copy(shared / "masks" / f"{image.stem}.png", folder / "masks" / f"{image.stem}.png")
    runner = CliRunner()
    ckpt = str(tiny_run / "best.pt")
    result = runner.invoke(app, ["evaluate", ckpt, str(folder), "-o", str(tmp_path / "scores"),
                                 "--label-map", "0:1,1:2,2:3,3:4,255:0", "--ignore-index", "0"])
    assert result.exit_code == 0, result.output
    assert "whole set, 20 pairs" in result.output
    merged = runner.invoke(app, ["evaluate", ckpt, str(folder), "--label-map", "255:0"])
    assert merged.exit_code == 1 and "both would become label 0" in merged.stderr
    result = runner.invoke(app, ["predict", ckpt, str(folder), "-o", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    with Image.open(next((tmp_path / "p" / "masks").iterdir())) as mask:
        assert mask.mode == "L" and mask.size == (256, 256)  # gray stays gray
