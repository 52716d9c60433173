"""Every output option of every command of both apps refuses to write over, into or around an
input, or over a hard link of one, even with --force; every input byte stays as it was.

The commands and their options are read from the Typer apps themselves. The rule that says
which parameters are outputs: a parameter whose annotation is `pathlib.Path` is an OUTPUT when
its name is in OUTPUT_NAMES, an INPUT when its name is in INPUT_NAMES; any other Path
parameter fails `test_every_path_parameter_is_classified`, so a new option must be named
here before it ships, and a new output option is then tried against every target below.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import typer.main
from PIL import Image
from typer.testing import CliRunner

from curate.cli.main import app as curate_app
from curate.io.outputs import (
    OutputError, atomic_dir, check_not_input, guard_output, write_text,
)
from segment.cli import app as segment_app

REPO = Path(__file__).parents[1]
MARS300 = REPO / "curate" / "samples" / "mars300.npz"
APPS = {"curate": curate_app, "segment": segment_app}
OUTPUT_NAMES = {"out", "csv", "json_path", "png", "sheet", "jsonld"}
INPUT_NAMES = {"data", "checkpoint", "run", "label_quality", "class_bias", "split_file",
               "folder", "decisions", "mask_fixes", "config", "config_file", "colors", "source",
               "predictions", "input_data"}
REFUSED = "inputs are never modified"
runner = CliRunner()


def path_parameters():
    """(app, command, parameter name, its option string) of every Path parameter."""
    for app_name, app in APPS.items():
        for command_name, command in typer.main.get_command(app).commands.items():
            for param in command.params:
                if param.type_descriptor.annotation is Path or param.name in OUTPUT_NAMES:
                    yield app_name, command_name, param.name, param.opts[0]


def output_options():
    return [p for p in path_parameters() if p[2] in OUTPUT_NAMES]


def test_every_path_parameter_is_classified():
    unknown = [p for p in path_parameters() if p[2] not in OUTPUT_NAMES | INPUT_NAMES]
    assert not unknown, ("name these path parameters as outputs or inputs in "
                         f"tests/test_output_guard.py: {unknown}")
    assert len(output_options()) >= 18  # today's 18: a lost option would pass silently


# --- the planted world: inputs whose every byte is hashed before and after ------------------

class World:
    """s.npz, a raw folder RAW, its linked curated split L (hardlinks to RAW's files), a run
    trained on L, a bias file and a label-quality table, all under `root`."""

    def __init__(self, root: Path):
        self.root = root
        self.npz = root / "data" / "s.npz"
        self.raw = root / "data" / "RAW"
        self.linked = root / "data" / "L"
        self.run = root / "run"
        self.checkpoint = self.run / "best.pt"
        self.bias = root / "bias" / "bias.json"
        self.label_quality = root / "lq" / "label_quality.csv"
        self.flagged = root / "flagged"  # what `curate outliers` wrote from RAW: review reads it
        self._fresh = itertools.count()

    def fresh(self, suffix: str = "") -> Path:
        """A path that does not exist yet, outside every input."""
        return self.root / "outs" / f"o{next(self._fresh)}{suffix}"

    def twin(self, folder: Path) -> Path | None:
        """A file of the other folder of RAW / L that is the same file as one of `folder`'s."""
        other = {self.raw: self.linked, self.linked: self.raw}.get(folder)
        if other is None:
            return None
        inodes = {f.stat().st_ino: f for f in (folder / "images").iterdir()}
        return next(f for f in sorted((other / "images").iterdir()) if f.stat().st_ino in inodes)

    def hashes(self) -> dict[str, str]:
        return {str(p.relative_to(self.root)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(self.root.rglob("*"))
                if p.is_file() and p.parts[len(self.root.parts)] != "outs"}


def _ok(app, *args) -> None:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    w = World(tmp_path_factory.mktemp("guard"))
    pairs = np.load(MARS300)["training_set"][:16]  # (16, 2, 64, 128)
    w.npz.parent.mkdir()
    np.savez(w.npz, training_set=pairs)
    for sub in ("images", "masks"):
        (w.raw / sub).mkdir(parents=True)
    for i, (image, mask) in enumerate(pairs):
        Image.fromarray(image).save(w.raw / "images" / f"f{i:02d}.png")
        Image.fromarray(mask).save(w.raw / "masks" / f"f{i:02d}.png")
    _ok(curate_app, "split", w.raw, "-o", w.linked, "--files", "link", "--num-classes", "5",
        "--ratios", "0.5,0.25,0.25")
    if w.twin(w.linked) is None:
        pytest.skip("this file system refused hard links")
    _ok(segment_app, "train", w.linked, "-o", w.run, "--epochs", "1", "--set", "base_width=4",
        "--set", "depth=2", "--batch-size", "4", "--set", "threads=1", "--device", "cpu", "--set", "augment=false")
    _ok(segment_app, "calibrate", w.checkpoint, w.linked, "-o", w.bias, "--device", "cpu")
    w.label_quality.parent.mkdir()
    w.label_quality.write_text("id,score\n")
    _ok(curate_app, "outliers", w.raw, "-o", w.flagged, "--num-classes", "5")
    return w


# --- one base invocation per command that writes: positional inputs, then options ------------

READERS = ("npz", "raw", "linked")  # what the commands reading any dataset are tried on


def _base(w: World, app: str, command: str, data: Path) -> tuple[list, dict]:
    """(positional arguments, {option: value}) of a valid call writing to fresh paths."""
    out = {"--out": w.fresh()}
    base = {
        ("curate", "outliers"): ([data], {**out, "--label-quality": w.label_quality}),
        ("curate", "stats"): ([data], {}),
        ("curate", "run"): ([data], {**out, "--label-quality": w.label_quality}),
        ("curate", "augment"): ([data], {**out, "--class": "3", "--count": "2"}),
        ("curate", "split"): ([data], out),
        ("curate", "card"): ([data], {"--out": w.fresh(".md")}),
        ("curate", "report"): ([data], {"--out": w.fresh(".html")}),
        ("curate", "export"): ([data], {**out, "--to": "folder"}),
        ("curate", "review"): ([w.flagged], {"--out": w.fresh(".html"), "--input": data}),
        ("segment", "train"): ([data], out),
        ("segment", "crossval"): ([data], {**out, "--folds": "2"}),
        ("segment", "evaluate"): ([w.checkpoint, data], {**out, "--class-bias": w.bias,
                                                         "--device": "cpu"}),
        ("segment", "calibrate"): ([w.checkpoint, data], {"--out": w.fresh(".json"),
                                                          "--device": "cpu"}),
        ("segment", "predict"): ([w.checkpoint, data], {**out, "--class-bias": w.bias,
                                                        "--device": "cpu"}),
        ("segment", "report"): ([w.run, data], {"--out": w.fresh(".html"), "--device": "cpu"}),
    }
    return base[(app, command)]


def _data_kinds(app: str, command: str) -> tuple[str, ...]:
    """Which datasets a command reads: curated folders only, or any reader input."""
    if (app, command) == ("curate", "review"):
        return ("raw",)  # the input `curate outliers` read to write the reviewed folder
    if (app, command) in {("curate", "card"), ("curate", "report"), ("curate", "export"),
                          ("segment", "train"),
                          ("segment", "crossval"), ("segment", "report")}:
        return ("linked",)
    return READERS


def _targets(w: World, inputs: list[Path]) -> list[tuple[str, Path]]:
    """For each input: the file itself; a folder, a file inside it, and its parent; the
    file's folder; and a file hard-linked to one of the input's (RAW <-> L)."""
    found: dict[Path, str] = {}
    for inp in inputs:
        if inp.is_file():
            found.setdefault(inp, f"the input file {inp.name}")
            found.setdefault(inp.parent, f"the folder of {inp.name}")
            continue
        inside = next(p for p in sorted(inp.rglob("*")) if p.is_file())
        found.setdefault(inp, f"the input folder {inp.name}")
        found.setdefault(inside, f"{inside.relative_to(inp)} inside {inp.name}")
        found.setdefault(inp.parent, f"the parent of {inp.name}")
        twin = w.twin(inp)
        if twin is not None:
            found.setdefault(twin, f"a hard link of {inp.name}'s file ({twin.name})")
    return [(label, path) for path, label in found.items()]


# Where a command may write although the path holds an input, by design: `segment evaluate`
# adds its files to the checkpoint's folder (its default -o), never over the checkpoint.
ALLOWED = {("segment", "evaluate", "--out", "the folder of best.pt")}


def _cases():
    for app, command, name, option in output_options():
        for kind in _data_kinds(app, command):
            yield pytest.param(app, command, option, kind, id=f"{app}-{command}-{option}-{kind}")


@pytest.mark.parametrize("app, command, option, kind", list(_cases()))
def test_output_option_never_touches_an_input(world, app, command, option, kind):
    data = {"npz": world.npz, "raw": world.raw, "linked": world.linked}[kind]
    positional, options = _base(world, app, command, data)
    inputs = [Path(p) for p in positional] + [
        Path(v) for k, v in options.items() if k in ("--label-quality", "--class-bias", "--data")]
    for label, target in _targets(world, inputs):
        before = world.hashes()
        args = positional + list(itertools.chain(*{**options, option: target}.items()))
        result = runner.invoke(APPS[app], [command, *map(str, args), "--force"])
        after = world.hashes()
        where = f"{app} {command} {option} {target} ({label})"
        if (app, command, option, label) in ALLOWED:
            assert result.exit_code == 0, f"{where}: {result.output}"
            assert {k: after[k] for k in before} == before, where
            continue
        assert result.exit_code != 0, f"{where} was not refused: {result.output}"
        assert REFUSED in result.output, f"{where}: {result.output}"
        assert after == before, f"{where} changed an input"


# --- the guard itself ---------------------------------------------------------------------

def test_guard_relations_and_force(tmp_path):
    inp = tmp_path / "in"
    (inp / "images").mkdir(parents=True)
    (inp / "images" / "a.png").write_bytes(b"a")
    for out, relation in [(inp, "is"), (inp / "images" / "a.png", "lies inside"),
                          (tmp_path, "contains")]:
        with pytest.raises(OutputError, match=f"{relation} the input"):
            guard_output(out, [inp], force=True)
    (tmp_path / "old.txt").write_text("x")
    with pytest.raises(OutputError, match="--force"):
        guard_output(tmp_path / "old.txt", [inp], force=False)
    assert guard_output(tmp_path / "old.txt", [inp], force=True) == tmp_path / "old.txt"
    (tmp_path / "empty").mkdir()
    guard_output(tmp_path / "empty", [inp], force=False, kind="folder")  # empty: nothing lost
    with pytest.raises(OutputError, match="is a file"):
        guard_output(tmp_path / "old.txt", [inp], force=True, kind="folder")


def test_hard_links_are_the_same_file(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "a.png").write_bytes(b"original")
    plain = tmp_path / "plain"
    plain.mkdir()
    os.link(source / "a.png", plain / "a.png")
    with pytest.raises(OutputError, match="same file"):
        check_not_input(plain / "a.png", [source])
    # A plain folder holding a link of an input is taken for the user's source folder ...
    with pytest.raises(OutputError, match="same file"):
        check_not_input(plain, [source])
    # ... a curated folder's links are the tool's, and replacing it leaves the input whole.
    (plain / "dataset.json").write_text("{}")
    check_not_input(plain, [source])
    with atomic_dir(plain, force=True) as tmp:
        (tmp / "new.txt").write_text("new")
    assert (source / "a.png").read_bytes() == b"original"
    assert sorted(p.name for p in plain.iterdir()) == ["new.txt"]


def test_a_file_is_replaced_never_rewritten_in_place(tmp_path):
    """A write to a path that is a hard link leaves the other name's bytes alone."""
    (tmp_path / "a").write_text("keep")
    os.link(tmp_path / "a", tmp_path / "b")
    write_text(tmp_path / "b", "new")
    assert (tmp_path / "a").read_text() == "keep" and (tmp_path / "b").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]  # no temporary left


def test_atomic_dir_leaves_the_old_folder_on_error(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_dir(out, force=True) as tmp:
            (tmp / "half.txt").write_text("half")
            raise RuntimeError("stopped")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert (out / "old.txt").read_text() == "old"


# --- segment evaluate: a second set never replaces the first -----------------------------

@pytest.mark.slow
def test_evaluate_names_scores_after_the_input_and_never_replaces_another(world, tmp_path):
    out = tmp_path / "scores"
    for data in (world.npz, world.raw):
        _ok(segment_app, "evaluate", world.checkpoint, data, "-o", out, "--device", "cpu")
    assert {"scores_all_s.json", "scores_all_RAW.json"} <= {p.name for p in out.iterdir()}
    _ok(segment_app, "evaluate", world.checkpoint, world.linked, "-o", out, "--device", "cpu")
    first = (out / "scores_test.json").read_bytes()
    _ok(segment_app, "evaluate", world.checkpoint, world.linked, "-o", out, "--device", "cpu")
    other = Path(shutil.copytree(world.linked, tmp_path / "copy_of_L"))  # another test split
    result = runner.invoke(segment_app, ["evaluate", str(world.checkpoint), str(other), "-o",
                                         str(out), "--device", "cpu"])
    assert result.exit_code == 1 and "--force" in result.output
    assert (out / "scores_test.json").read_bytes() == first
    _ok(segment_app, "evaluate", world.checkpoint, other, "-o", out, "--device", "cpu", "--force")


# --- outputs are as readable as anything else the user makes -------------------------------

@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_outputs_follow_the_umask(tmp_path, umask):
    """A curated folder, its subfolders and files get the modes the user's umask gives any
    new folder (0o777 & ~umask) or file (0o666 & ~umask): colleagues on a shared machine read
    a curated dataset under umask 022, and nobody does under 077."""
    old = os.umask(umask)
    try:
        out = tmp_path / "clean"
        _ok(curate_app, "outliers", MARS300, "-o", out, "--num-classes", "5")
        with atomic_dir(tmp_path / "direct", force=False) as tmp:
            (tmp / "a.txt").write_text("a")
    finally:
        os.umask(old)
    for folder in (out, out / "images", out / "masks", out / "reports", tmp_path / "direct"):
        assert oct(folder.stat().st_mode & 0o777) == oct(0o777 & ~umask), folder
    for file in (out / "dataset.json", out / "manifest.csv", next((out / "masks").iterdir())):
        assert oct(file.stat().st_mode & 0o777) == oct(0o666 & ~umask), file
