"""--mask-fixes reads a corrected mask exactly as an input mask is read: the same label map,
the same merge refusal, the same value space; it says what it replaced and records where from."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from curate.cli.main import app

runner = CliRunner()
RAW_MAP = ["--label-map", "0:1,1:2,2:3,3:4,255:0", "--num-classes", "5"]  # AI4Mars' release


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def raw(tmp_path) -> Path:
    """A folder in AI4Mars' raw encoding: 0 soil, 1 bedrock, 2 sand, 3 big rock, 255 none."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "raw"
    for sub in ("images", "masks"):
        (folder / sub).mkdir(parents=True)
    for k in range(8):
        image = rng.integers(0, 256, (32, 48), dtype=np.uint8)
        mask = np.full((32, 48), 255, np.uint8)
        mask[:, :12], mask[:, 12:24], mask[:, 24:36] = 0, 1, 2
        mask[:4, 36:40] = 3
        mask[4 + k, 40:] = 1  # no two masks alike
        Image.fromarray(image).save(folder / "images" / f"p{k}.png")
        Image.fromarray(mask).save(folder / "masks" / f"p{k}.png")
    return folder


def fix(folder: Path, name: str, values: list[int]) -> Path:
    folder.mkdir(exist_ok=True)
    mask = np.repeat(np.array(values, np.uint8), 32 * 48 // len(values)).reshape(32, 48)
    Image.fromarray(mask).save(folder / name)
    return folder


def test_a_fix_that_would_merge_classes_is_refused_like_an_input_mask(raw, tmp_path):
    """Raw 4 is no value of this encoding: the map sends raw 3 to label 4, so a raw 4 left
    as it is would merge with big rock. An input mask holding it is refused; so is a fix,
    with the same words, and nothing is written (it used to store 1, 3, 4 silently)."""
    fixes = fix(tmp_path / "fixes", "p0.png", [0, 2, 4])
    result = invoke("outliers", raw, "-o", tmp_path / "out", *RAW_MAP, "--mask-fixes", fixes)
    assert result.exit_code == 1
    assert "would merge classes: raw 3 is mapped to 4, but raw 4 also occurs" in result.output
    assert "read like the input's masks" in result.output
    assert not (tmp_path / "out").exists()
    bad_input = Path(shutil.copytree(raw, tmp_path / "bad_input"))
    (bad_input / "masks" / "p0.png").write_bytes((fixes / "p0.png").read_bytes())
    result = invoke("outliers", bad_input, "--dry-run", *RAW_MAP)
    assert result.exit_code == 1
    assert "would merge classes: raw 3 is mapped to 4, but raw 4 also occurs" in result.output


def test_a_fix_in_raw_values_goes_through_the_label_map(raw, tmp_path):
    fixes = fix(tmp_path / "fixes", "p1.png", [255, 0, 2])  # none, soil, sand
    out = tmp_path / "out"
    result = invoke("outliers", raw, "-o", out, *RAW_MAP, "--mask-fixes", fixes)
    assert result.exit_code == 0, result.output
    assert "Mask fixes: 1 mask(s) replaced" in result.output
    assert "raw values, through --label-map 0:1,1:2,2:3,3:4,255:0" in result.output
    stored = np.asarray(Image.open(out / "masks" / "p1.png"))
    assert sorted(np.unique(stored)) == [0, 1, 3]
    manifest = pd.read_csv(out / "manifest.csv", keep_default_na=False).set_index("id")
    assert manifest.loc["p1", "mask_fix"] == str((fixes / "p1.png").resolve())
    options = json.loads((out / "dataset.json").read_text())["history"][-1]["options"]
    assert options["mask_fixes"] == str(fixes.resolve())


def test_a_curated_folder_takes_fixes_as_labels(raw, tmp_path, monkeypatch):
    """A curated folder stores labels; its fixes are labels too, not raw values sent through
    the map the folder was first read with (that would turn soil 1 into bedrock 2)."""
    curated = tmp_path / "curated"
    assert invoke("outliers", raw, "-o", curated, *RAW_MAP).exit_code == 0
    monkeypatch.chdir(tmp_path)  # a relative --mask-fixes is stored as an absolute path
    fix(tmp_path / "fixes", "p2.png", [1, 3, 4])
    out = tmp_path / "out"
    result = invoke("outliers", curated, "-o", out, "--mask-fixes", "fixes")
    assert result.exit_code == 0, result.output
    assert "read as labels, like the input's masks" in result.output
    assert sorted(np.unique(np.asarray(Image.open(out / "masks" / "p2.png")))) == [1, 3, 4]
    manifest = pd.read_csv(out / "manifest.csv", keep_default_na=False).set_index("id")
    assert manifest.loc["p2", "mask_fix"] == str(tmp_path / "fixes" / "p2.png")


def test_an_empty_fixes_folder_is_an_error(raw, tmp_path):
    (tmp_path / "fixes").mkdir()
    result = invoke("outliers", raw, "-o", tmp_path / "out", *RAW_MAP,
                    "--mask-fixes", tmp_path / "fixes")
    assert result.exit_code == 1 and "holds no PNG masks" in result.output
    assert not (tmp_path / "out").exists()


def test_a_colour_fix_is_refused_in_one_clean_sentence(raw, tmp_path):
    """The decoder's own sentence ends in a full stop; the refusal used to read
    'Convert colours to labels first.. Each must be ...'."""
    (tmp_path / "fixes").mkdir()
    rgb = np.zeros((32, 48, 3), np.uint8)
    rgb[..., 0] = 200
    Image.fromarray(rgb).save(tmp_path / "fixes" / "p0.png")
    result = invoke("outliers", raw, "-o", tmp_path / "out", *RAW_MAP,
                    "--mask-fixes", tmp_path / "fixes")
    text = " ".join(result.output.split())
    assert result.exit_code == 1 and "is a colour (RGB) mask" in text
    assert ".." not in text.replace("0..4", "")
