"""Which class is ignored comes from somewhere the user can see, and every read says so."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from curate.cli.main import app
from planted import load_sample, write_folder, write_npz

runner = CliRunner()


def said(result) -> str:
    """stdout and stderr with the console's line wrapping undone."""
    try:
        text = result.output + result.stderr
    except ValueError:  # older Click mixes stderr into output
        text = result.output
    return " ".join(text.split())


def street_folder(tmp_path, void: int | None = None):
    """24 pairs of 12 classes 0..11 (a CamVid-like layout: 0 sky, 11 void), no declaration."""
    rng = np.random.default_rng(0)
    images, masks = [], []
    for k in range(24):
        mask = np.zeros((32, 48), np.uint8)
        mask[:8] = 0                                   # sky on top
        mask[8:] = rng.integers(1, 11)                 # one street class below
        mask[20:, k % 48:] = 11 if void is None else void
        masks.append(mask)
        images.append(rng.integers(0, 255, (32, 48), dtype=np.uint8))
    return write_folder(tmp_path / "street", images, masks, [f"f{k:03d}" for k in range(24)])


def meta_of(out) -> dict:
    return json.loads((out / "dataset.json").read_text())


def test_raw_folder_without_declaration_ignores_nothing_and_says_so(tmp_path):
    data = street_folder(tmp_path)
    out = tmp_path / "split"
    result = runner.invoke(app, ["split", str(data), "-o", str(out), "--num-classes", "12"])
    assert result.exit_code == 0, said(result)
    assert "No class is ignored in metrics: the masks declare no void class" in said(result)
    assert "--ignore-index K" in said(result)
    meta = meta_of(out)
    assert meta["ignore_index"] is None
    assert meta["ignore_reason"].startswith("No class is ignored")
    card = (out / "card.md").read_text() if (out / "card.md").is_file() else None
    if card is not None:
        assert "**Ignored class:** No class is ignored" in card


def test_the_option_sets_it_and_is_named_as_the_reason(tmp_path):
    data = street_folder(tmp_path)
    out = tmp_path / "split"
    result = runner.invoke(app, ["split", str(data), "-o", str(out), "--num-classes", "12",
                                 "--ignore-index", "11"])
    assert result.exit_code == 0, said(result)
    assert "Class 11 is ignored in metrics (--ignore-index 11)." in said(result)
    assert meta_of(out)["ignore_index"] == 11


def test_void_value_255_is_ignored_where_the_label_map_sends_it(tmp_path):
    data = street_folder(tmp_path, void=255)
    result = runner.invoke(app, ["stats", str(data), "--num-classes", "12",
                                 "--label-map", "255:11"])
    assert result.exit_code == 0, said(result)
    assert ("Class 11 is ignored in metrics: the masks hold the common void value 255, which "
            "the label map sends to class 11.") in said(result)


def test_an2dl_npz_ignores_class_0_by_its_convention(tmp_path):
    pairs, ids = load_sample()
    data = write_npz(tmp_path / "mars.npz", pairs[:40], ids[:40])
    out = tmp_path / "split"
    result = runner.invoke(app, ["split", str(data), "-o", str(out), "--num-classes", "5"])
    assert result.exit_code == 0, said(result)
    assert "Class 0 is ignored in metrics: the AN2DL layout ('training_set')" in said(result)
    assert meta_of(out)["ignore_index"] == 0
    every = runner.invoke(app, ["stats", str(data), "--num-classes", "5",
                                "--ignore-index", "-1"])
    assert "No class is ignored in metrics (--ignore-index -1)." in said(every)


def test_the_same_sample_as_a_folder_declares_nothing(tmp_path):
    """The AN2DL convention belongs to the npz layout, not to any mask holding zeros."""
    pairs, ids = load_sample()
    data = write_folder(tmp_path / "mars", list(pairs[:40, 0]), list(pairs[:40, 1]), ids[:40])
    result = runner.invoke(app, ["stats", str(data), "--num-classes", "5"])
    assert result.exit_code == 0, said(result)
    assert "No class is ignored in metrics" in said(result)
