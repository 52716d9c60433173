"""Ctrl-C through the `segment` CLI: one line saying what is left, exit 130."""

from __future__ import annotations

import importlib

import pytest
from typer.testing import CliRunner

from segment.cli import app
from segment.interrupt import DEFAULT, MESSAGES


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize("command, module, name, message", [
    (["train", "DATA", "-o", "RUN"], "segment.train", "train", MESSAGES["train"]),
    (["evaluate", "RUN/best.pt", "DATA"], "segment.evaluate", "evaluate", DEFAULT),
])
def test_ctrl_c_prints_one_line_and_exits_130(tmp_path, monkeypatch, command, module, name,
                                              message):
    # segment/__init__ re-exports functions named like their modules: import the modules.
    monkeypatch.setattr(importlib.import_module(module), name, _interrupt)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 130, result.output
    assert message in result.output
    assert list(tmp_path.iterdir()) == []                      # nothing written, no temp file
