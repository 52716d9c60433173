"""Real data from ../shared/data when it is present: the ISBI membrane folder as plain images."""

import shutil
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from segment.cli import app

SHARED = Path(__file__).parents[2].parent / "shared" / "data"



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
                                 "--base-width", "4", "--depth", "2", "--device", "cpu", "--threads", "1"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["predict", str(run / "best.pt"), str(folder), "-o", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    first = sorted(folder.iterdir())[0]
    with Image.open(first) as src, Image.open(tmp_path / "p" / "masks" / first.name) as mask:
        assert mask.size == src.size
