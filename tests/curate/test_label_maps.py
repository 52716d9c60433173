"""Label maps through the CLI: collisions refused, raw and colour-coded labels recognised,
the map in use explained once (note, dataset.json, card), many classes printed readably."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from curate.cli.main import app

runner = CliRunner()
AI4MARS_RAW = Path(__file__).parents[3] / "shared" / "data" / "ai4mars-256-raw"
FULL_MAP = "0:1,1:2,2:3,3:4,255:0"


def write_folder(root: Path, masks: list[np.ndarray], mode: str = "L") -> Path:
    """images/ + masks/ PNG pairs; images are a gray ramp, masks as given."""
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    for i, mask in enumerate(masks):
        image = (np.arange(mask.size).reshape(mask.shape) * 7 % 251).astype(np.uint8)
        Image.fromarray(image).save(root / "images" / f"p{i}.png")
        Image.fromarray(mask, mode if mask.ndim == 2 else "RGB").save(root / "masks" / f"p{i}.png")
    return root


def raw_ai4mars_like(root: Path) -> Path:
    """Three 16x16 masks in the raw AI4Mars coding: 0 soil, 1 bedrock, 2 sand, 3 rock, 255 none."""
    masks = []
    for i in range(3):
        mask = np.full((16, 16), 255, np.uint8)
        mask[:4] = 0 if i < 2 else 1          # soil in two masks, bedrock in the third
        mask[4:6] = 1
        mask[6:8, :8] = 2
        mask[8, :i + 1] = 3
        masks.append(mask)
    return write_folder(root, masks)


def test_map_onto_an_unmapped_raw_value_is_refused(tmp_path):
    data = raw_ai4mars_like(tmp_path / "raw")
    result = runner.invoke(app, ["stats", str(data), "--label-map", "255:0"])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "Error: --label-map 255:0 would merge classes" in text
    # soil (raw 0): 4 rows of 16 in two of the three masks
    assert "raw 0 also occurs (128 pixels in 2 of 3 masks)" in text
    assert f"--label-map {FULL_MAP} --num-classes 5" in text
    assert "--label-map 0:0,255:0" in text
    out = tmp_path / "out"
    result = runner.invoke(app, ["outliers", str(data), "-o", str(out), "--label-map", "255:0"])
    assert result.exit_code == 1 and not out.exists()


def test_listing_both_values_merges_on_purpose_and_says_so(tmp_path):
    data = raw_ai4mars_like(tmp_path / "raw")
    report = tmp_path / "stats.json"
    result = runner.invoke(app, ["stats", str(data), "--label-map", "0:0,255:0",
                                 "--json", str(report)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Raw 0 and 255 are merged into 0" in text
    pixels = {row["class"]: row["pixels"] for row in json.loads(report.read_text())["per_class"]}
    # raw 0 (soil rows of two masks) + raw 255 (what is left after rows 0..5, 8 pixels of
    # row 6, 8 of row 7 and i + 1 pixels of row 8 in mask i)
    assert pixels[0] == 128 + 3 * (256 - 64 - 32 - 16) - (1 + 2 + 3)


def test_full_map_is_explained_in_note_history_and_card(tmp_path):
    data = raw_ai4mars_like(tmp_path / "raw")
    out = tmp_path / "out"
    result = runner.invoke(app, ["outliers", str(data), "-o", str(out), "--label-map", FULL_MAP,
                                 "--num-classes", "5", "--keep", "unlabelled"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    sentence = (f"Label map from --label-map {FULL_MAP}: raw 0 -> 1 (soil), raw 1 -> 2 (bedrock), "
                "raw 2 -> 3 (sand), raw 3 -> 4 (big rock), raw 255 -> 0 (background).")
    assert f"Note: {sentence}" in text
    read = json.loads((out / "dataset.json").read_text())["history"][0]
    assert read["command"] == "read" and read["summary"]["label_map"].startswith(sentence)
    card = tmp_path / "card.md"
    assert runner.invoke(app, ["card", str(out), "-o", str(card)]).exit_code == 0
    assert f"**Label map:** {sentence}" in card.read_text()


def test_binary_masks_get_the_inferred_map_explained(tmp_path):
    mask = np.zeros((8, 8), np.uint8)
    mask[:3] = 255
    data = write_folder(tmp_path / "bin", [mask, mask[::-1].copy()])
    out = tmp_path / "out"
    result = runner.invoke(app, ["outliers", str(data), "-o", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "dataset.json").read_text())["history"][0]["summary"]
    assert summary["inferred"] is True
    assert "binary label map" in summary["label_map"]
    assert "raw 0 -> 0, raw 255 -> 1" in summary["label_map"]
    meta = json.loads((out / "dataset.json").read_text())
    assert meta["ignore_index"] is None and "both real" in meta["ignore_reason"]


def test_raw_labels_without_options_are_refused_with_the_map_to_pass(tmp_path):
    data = raw_ai4mars_like(tmp_path / "raw")
    out = tmp_path / "out"
    result = runner.invoke(app, ["outliers", str(data), "-o", str(out)])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "raw values 0, 1, 2, 3, 255" in text
    assert f"Pass --label-map {FULL_MAP} --num-classes 5" in text
    assert not out.exists()
    # the suggested options work
    result = runner.invoke(app, ["stats", str(data), "--label-map", FULL_MAP,
                                 "--num-classes", "5"])
    assert result.exit_code == 0, result.output


def test_gray_coded_labels_are_renumbered_in_the_suggestion(tmp_path):
    mask = np.zeros((8, 8), np.uint8)
    mask[2:4], mask[4:6], mask[6:] = 85, 170, 255
    data = write_folder(tmp_path / "coded", [mask])
    result = runner.invoke(app, ["stats", str(data)])
    assert result.exit_code == 1
    assert "--label-map 0:0,85:1,170:2,255:3 --num-classes 4" in " ".join(result.output.split())


def test_masks_with_many_values_are_not_taken_as_256_classes(tmp_path):
    rng = np.random.default_rng(0)
    masks = [rng.integers(0, 256, (16, 16), dtype=np.uint8) for _ in range(4)]
    data = write_folder(tmp_path / "noisy", masks)
    result = runner.invoke(app, ["stats", str(data)])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    distinct = len(np.unique(np.stack(masks)))
    assert f"{distinct} distinct values (0..255)" in text and "--num-classes 256" in text


def test_stats_with_many_classes_stays_short_and_quiet(tmp_path):
    rng = np.random.default_rng(0)
    data = write_folder(tmp_path / "noisy", [rng.integers(0, 256, (16, 16), dtype=np.uint8)
                                             for _ in range(4)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = runner.invoke(app, ["stats", str(data), "--num-classes", "256"])
    assert result.exit_code == 0, result.output
    assert not [w for w in caught if "fragmented" in str(w.message)]
    lines = result.output.splitlines()
    assert len(lines) < 100, len(lines)
    assert "32 of 256 classes shown" in " ".join(result.output.split())
    import re
    shown = re.search(r"Co-occurrence shown for the (\d+) classes", " ".join(result.output.split()))
    assert shown and 1 <= int(shown.group(1)) <= 12


def test_colour_coded_masks_are_named_as_such(tmp_path):
    masks = []
    for i in range(3):
        mask = np.zeros((8, 8, 3), np.uint8)
        mask[:4] = (128, 64, 128)
        mask[4:, : i + 2] = (220, 20, 60)
        masks.append(mask)
    data = write_folder(tmp_path / "colour", masks)
    result = runner.invoke(app, ["stats", str(data)])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "every mask is colour-coded (3 masks" in text
    assert "3 colours: (0, 0, 0), (128, 64, 128), (220, 20, 60)" in text
    assert "mode P" in text


@pytest.mark.slow
@pytest.mark.skipif(not AI4MARS_RAW.is_dir(),
                    reason=f"real raw AI4Mars pairs not found at {AI4MARS_RAW}")
def test_raw_ai4mars_release_needs_the_full_map(tmp_path):
    result = runner.invoke(app, ["stats", str(AI4MARS_RAW), "--label-map", "255:0"])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    soil = sum(int((np.asarray(Image.open(f)) == 0).sum())
               for f in sorted((AI4MARS_RAW / "masks").glob("*.png")))
    assert f"raw 0 also occurs ({soil:,} pixels" in text
    assert f"--label-map {FULL_MAP} --num-classes 5" in text
    report = tmp_path / "stats.json"
    result = runner.invoke(app, ["stats", str(AI4MARS_RAW), "--label-map", FULL_MAP,
                                 "--num-classes", "5", "--json", str(report)])
    assert result.exit_code == 0, result.output
    per_class = json.loads(report.read_text())["per_class"]
    assert per_class[1]["name"] == "soil" and per_class[1]["pixels"] == soil


@pytest.mark.parametrize("k", [2, 5, 12, 32])
@pytest.mark.parametrize("width", [80, 60])
def test_cooccurrence_table_is_whole_at_80_columns(tmp_path, k, width, monkeypatch):
    """Issue 21: with 11+ classes the table cut its headers ("bu…", "si… sy…") at 80 columns.
    Every header and row label is printed whole and no line is wider than the terminal."""
    import curate.cli.show

    from rich.console import Console

    rng = np.random.default_rng(k)
    names = [f"long class name {c}" if c % 3 else f"c{c}" for c in range(k)]
    masks = []
    for _ in range(12):
        mask = np.zeros((24, 24), np.uint8)
        for c in rng.choice(k, size=min(k, 5), replace=False):
            y, x = rng.integers(0, 20, 2)
            mask[y:y + 4, x:x + 4] = c
        masks.append(mask)
    data = write_folder(tmp_path / "d", masks)
    monkeypatch.setattr(curate.cli.show, "console", Console(width=width, force_terminal=False))
    result = runner.invoke(app, ["stats", str(data), "--num-classes", str(k),
                                 "--class-names", ",".join(names)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    top = next(i for i, line in enumerate(lines) if "Co-occurrence" in line)
    table = lines[next(i for i in range(top, len(lines)) if lines[i].startswith("┏")):]
    table = table[:next(i for i, line in enumerate(table) if line.startswith("└")) + 1]
    assert all(len(line) <= width for line in table)
    header = [cell.strip() for cell in table[1].strip("┃").split("┃")]
    rows = [[cell.strip() for cell in line.strip("│").split("│")] for line in table[3:-1]]
    assert header[0] == "" and all(h.isdigit() for h in header[1:])       # ids, never cut
    assert [r[0].split()[0] for r in rows] == header[1:]                  # rows name each id
    for r in rows:
        c = int(r[0].split()[0])
        assert r[0] in (f"{c} {names[c]}", f"{c} {names[c]}"[:17] + "…")
        assert all(v.isdigit() for v in r[1:])
    assert len(rows) >= min(k, 5)
