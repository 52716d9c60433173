"""Errors suggest only options the printing command has; the ignore class cannot be grown."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image
from typer.main import get_command
from typer.testing import CliRunner

from curate.cli.main import app

runner = CliRunner()


def _folder(root, sizes=((32, 32),) * 12):
    """Pairs with classes 0..2; class 2 is a small square in every third pair."""
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    rng = np.random.default_rng(0)
    for k, (h, w) in enumerate(sizes):
        mask = np.where(rng.random((h, w)) < 0.5, 1, 0).astype(np.uint8)
        if k % 3 == 0:
            mask[4:8, 4:8] = 2
        Image.fromarray(rng.integers(0, 255, (h, w), dtype=np.uint8)).save(
            root / "images" / f"p{k:02d}.png")
        Image.fromarray(mask).save(root / "masks" / f"p{k:02d}.png")
    return root


def _options(command: str) -> set[str]:
    params = get_command(app).commands[command].params
    return {o for p in params for o in p.opts + p.secondary_opts if o.startswith("--")}


def _assert_suggests_only_own_options(result, command: str, expected: str):
    assert result.exit_code == 1, result.output
    message = " ".join(result.output.split())
    assert expected in message
    named = set(re.findall(r"--[a-z][a-z-]+", message))
    assert named and named <= _options(command), named - _options(command)


@pytest.mark.parametrize("command, extra", [("run", []), ("augment", ["--allow-unsplit"])])
def test_out_of_reach_share_names_options_of_the_command(tmp_path, command, extra):
    data = _folder(tmp_path / "data")
    result = runner.invoke(app, [command, str(data), "-o", str(tmp_path / "out"), "--class",
                                 "2", "--pixel-share", "0.9", *extra])
    _assert_suggests_only_own_options(result, command, "raise --copy-paste-fraction")
    # Following the advice: the option is accepted by this command.
    result = runner.invoke(app, [command, str(data), "-o", str(tmp_path / "out"), "--class",
                                 "2", "--count", "3", "--copy-paste-fraction", "1", *extra])
    assert result.exit_code == 0, result.output


def test_copy_paste_without_a_same_size_partner_names_an_augment_option(tmp_path):
    data = _folder(tmp_path / "data", sizes=[(40, 40)] + [(32, 32)] * 5)  # class 2: p00 only
    result = runner.invoke(app, ["augment", str(data), "-o", str(tmp_path / "out"), "--class",
                                 "2", "--count", "4", "--allow-unsplit",
                                 "--copy-paste-fraction", "1"])
    _assert_suggests_only_own_options(result, "augment", "--copy-paste-fraction 0")


@pytest.mark.parametrize("command, extra", [("run", ["--count", "2"]),
                                            ("augment", ["--count", "2", "--allow-unsplit"])])
def test_the_ignore_class_cannot_be_grown(tmp_path, command, extra):
    data = _folder(tmp_path / "data")
    result = runner.invoke(app, [command, str(data), "-o", str(tmp_path / "out"), "--class",
                                 "0", "--ignore-index", "0", *extra])
    _assert_suggests_only_own_options(result, command, "--class 0 (class 0) is the ignore class")
    assert not (tmp_path / "out").exists()
    result = runner.invoke(app, [command, str(data), "-o", str(tmp_path / "out"), "--class",
                                 "0", "--ignore-index", "-1", *extra])
    assert result.exit_code == 0, result.output
