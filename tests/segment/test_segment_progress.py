"""The per-epoch progress bar of `segment train` goes to stderr; stdout keeps the summaries."""

from __future__ import annotations

import re

from rich.console import Console
from typer.testing import CliRunner

from segment import cli
from segment.cli import app

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_train_progress_bar_is_on_stderr(small_dataset, tmp_path, monkeypatch):
    # Both consoles as if on a terminal, so that rich draws the bar (it is silent when piped).
    monkeypatch.setattr(cli, "console", Console(force_terminal=True))
    monkeypatch.setattr(cli, "err_console", Console(stderr=True, force_terminal=True))
    args = ["train", str(small_dataset), "-o", str(tmp_path / "run"), "--epochs", "1",
            "--set", "base_width=4", "--set", "depth=2", "--batch-size", "4", "--set", "threads=1",
            "--device", "cpu"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    stdout, stderr = ANSI.sub("", result.stdout), ANSI.sub("", result.stderr)
    assert "epoch 1/1" in stderr and "epoch 1/1" not in stdout       # the bar
    assert re.search(r"epoch +1 +loss", stdout)                        # the summary line


def test_no_blank_stderr_lines_when_stderr_is_not_a_terminal(small_dataset, tmp_path):
    # Issue 31, 13: piped to a log, each epoch left one empty line on stderr.
    args = ["train", str(small_dataset), "-o", str(tmp_path / "run"), "--epochs", "3",
            "--set", "base_width=4", "--set", "depth=2", "--batch-size", "6", "--set", "threads=1",
            "--device", "cpu"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("Warning: the run has only 6 optimizer step(s)")
    assert "\n\n" not in result.stderr and not result.stderr.endswith("\n\n")
    assert len(re.findall(r"epoch +\d+ +loss", result.stdout)) == 3
