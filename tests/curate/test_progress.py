"""Progress bars: on stderr when it is a terminal, never in stdout, silent when piped."""

from __future__ import annotations

import re

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from curate.cli.main import app

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
STEPS = ("reading image/mask files", "scanning pixels", "writing out", "augmenting class 1")


def _folder(root, n: int = 12):
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    rng = np.random.default_rng(0)
    for k in range(n):
        Image.fromarray(rng.integers(0, 255, (24, 24), dtype=np.uint8)).save(
            root / "images" / f"p{k}.png")
        mask = rng.integers(0, 3, (24, 24), dtype=np.uint8)
        Image.fromarray(mask).save(root / "masks" / f"p{k}.png")
    return root


def _run(tmp_path, name: str):
    args = ["run", str(tmp_path / "data"), "-o", str(tmp_path / name), "--class", "1",
            "--count", "4", "--no-card", "--ratios", "0.5,0.25,0.25"]
    return CliRunner().invoke(app, args)


def test_progress_goes_to_stderr_of_a_terminal_only(tmp_path, monkeypatch):
    _folder(tmp_path / "data")
    monkeypatch.setenv("COLUMNS", "200")
    piped = _run(tmp_path, "out")
    assert piped.exit_code == 0, piped.output
    assert not any(s in piped.stderr or s in piped.stdout for s in STEPS)  # quiet when piped

    monkeypatch.setenv("FORCE_COLOR", "1")      # rich then treats stdout and stderr as terminals
    shown = _run(tmp_path, "out2")
    assert shown.exit_code == 0, shown.output
    stderr = ANSI.sub("", shown.stderr).replace("out2", "out")
    for description in STEPS:
        assert description in stderr
    # stdout holds the same tables and summary either way: the bars never leak into it.
    # The same text on stdout; line breaks may fall elsewhere (the paths differ in length).
    assert "".join(ANSI.sub("", shown.stdout).replace("out2", "out").split()) == \
        "".join(piped.stdout.split())
