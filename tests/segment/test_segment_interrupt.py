"""Ctrl-C through the `segment` CLI: one line saying what is left, exit 130."""

from __future__ import annotations

import importlib

import pytest
from typer.testing import CliRunner

from segment.cli import app
from segment.interrupt import BEFORE_FIRST_EPOCH, DEFAULT


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize("command, module, name, message", [
    (["train", "DATA", "-o", "RUN"], "segment.training.loop", "train", BEFORE_FIRST_EPOCH),
    (["evaluate", "RUN/best.pt", "DATA", "--split", "test"], "segment.evaluation.scores", "evaluate_set",
     DEFAULT),
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


def _interrupt_at(epoch_to_stop: int, monkeypatch):
    """Ctrl-C in the middle of training epoch `epoch_to_stop` (the epochs before it finish)."""
    train_module = importlib.import_module("segment.training.loop")
    real = train_module._train_epoch

    def epoch(run, data, epoch, hooks):
        if epoch == epoch_to_stop:
            raise KeyboardInterrupt
        return real(run, data, epoch, hooks)

    monkeypatch.setattr(train_module, "_train_epoch", epoch)


TINY_ARGS = ["--epochs", "2", "--set", "base_width=4", "--set", "depth=2", "--batch-size", "4",
             "--set", "threads=1", "--device", "cpu", "--set", "augment=false"]


def test_ctrl_c_before_the_first_epoch_says_there_is_nothing_to_resume(small_dataset, tmp_path,
                                                                       monkeypatch):
    run = tmp_path / "run"
    command = ["train", str(small_dataset), "-o", str(run), *TINY_ARGS]
    _interrupt_at(1, monkeypatch)
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 130
    assert BEFORE_FIRST_EPOCH in result.output and "--resume`" not in result.output
    assert not run.exists()                 # nothing half-made that would block a second run
    monkeypatch.undo()
    again = CliRunner().invoke(app, command)  # "run the same command again" works
    assert again.exit_code == 0, again.output


def test_ctrl_c_after_an_epoch_points_to_a_resume_that_works(small_dataset, tmp_path,
                                                              monkeypatch):
    run = tmp_path / "run"
    command = ["train", str(small_dataset), "-o", str(run), *TINY_ARGS]
    _interrupt_at(2, monkeypatch)
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 130
    assert f"-o {run} --resume" in result.output and (run / "last.pt").is_file()
    monkeypatch.undo()
    resumed = CliRunner().invoke(app, [*command, "--resume"])
    assert resumed.exit_code == 0, resumed.output
