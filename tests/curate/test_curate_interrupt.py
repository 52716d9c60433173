"""Ctrl-C through the CLI: one line, exit 130, and no output or temporary folder left."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from curate.data import writers
from curate.cli.main import app
from curate.ui.interrupt import MESSAGE


def _folder(root, n: int = 8):
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    rng = np.random.default_rng(0)
    for k in range(n):
        Image.fromarray(rng.integers(0, 255, (32, 32), dtype=np.uint8)).save(
            root / "images" / f"p{k}.png")
        Image.fromarray(rng.integers(0, 3, (32, 32), dtype=np.uint8)).save(
            root / "masks" / f"p{k}.png")
    return root


@pytest.mark.parametrize("command", [["split"], ["outliers"], ["run", "--no-card"]])
def test_ctrl_c_while_writing_leaves_nothing(tmp_path, monkeypatch, command):
    data = _folder(tmp_path / "data")
    written = []
    original = writers._write_pair

    def write_then_interrupt(folder, *args, **kwargs):
        if len(written) == 3:          # a few pairs are already in the temporary folder
            raise KeyboardInterrupt
        written.append(folder)
        return original(folder, *args, **kwargs)

    monkeypatch.setattr(writers, "_write_pair", write_then_interrupt)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [command[0], str(data), "-o", str(out), *command[1:]])
    assert result.exit_code == 130, result.output
    assert MESSAGE in result.output
    assert written and not written[0].exists()                 # the temporary folder is gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_ctrl_c_before_writing_says_so(tmp_path, monkeypatch):
    import curate.data.manifest

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(curate.data.manifest, "scan", interrupt)
    data = _folder(tmp_path / "data")
    result = CliRunner().invoke(app, ["stats", str(data)])
    assert result.exit_code == 130 and MESSAGE in result.output
