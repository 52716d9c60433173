"""No command writes over, into or around an input (dataset, npz, checkpoint), even with --force."""

import shutil

import pytest
from typer.testing import CliRunner

from conftest import file_bytes
from segment.cli import app

runner = CliRunner()


@pytest.fixture
def data(small_dataset, tmp_path):
    """A private copy of the dataset folder, so a failing test cannot spoil the shared one."""
    return shutil.copytree(small_dataset, tmp_path / "data")


@pytest.fixture
def run(tiny_run, tmp_path):
    return shutil.copytree(tiny_run, tmp_path / "run")


@pytest.mark.parametrize("where, relation", [(".", "is"), ("masks", "lies inside"), ("..", "contains")])
def test_predict_never_writes_over_into_or_around_the_dataset(data, run, where, relation):
    before = file_bytes(data.parent)
    out = (data / where).resolve() if where != "." else data
    result = runner.invoke(app, ["predict", str(run / "best.pt"), str(data), "-o", str(out), "--force"])
    assert result.exit_code == 1
    assert f"{relation} the input" in result.stderr and "--force" in result.stderr
    assert file_bytes(data.parent) == before  # every mask byte-identical, nothing added


def test_predict_refuses_the_checkpoint_folder(data, run):
    before = file_bytes(run)
    result = runner.invoke(app, ["predict", str(run / "best.pt"), str(data), "-o", str(run), "--force"])
    assert result.exit_code == 1 and "contains the input" in result.stderr
    assert file_bytes(run) == before


def test_predict_force_replaces_only_the_output_in_one_rename(data, run, tmp_path):
    out = tmp_path / "pred"
    out.mkdir()
    (out / "stale.png").write_bytes(b"old")
    (tmp_path / "neighbour.txt").write_text("keep")
    refused = runner.invoke(app, ["predict", str(run / "best.pt"), str(data), "-o", str(out)])
    assert refused.exit_code == 1 and "--force" in refused.stderr
    assert (out / "stale.png").read_bytes() == b"old"
    result = runner.invoke(app, ["predict", str(run / "best.pt"), str(data), "-o", str(out),
                                 "--force", "--overlay", "none", "--split", "test"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["masks"]  # the stale file went with the old folder
    assert len(list((out / "masks").iterdir())) == 6
    assert (tmp_path / "neighbour.txt").read_text() == "keep"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left behind


@pytest.mark.parametrize("where", [".", "run"])
def test_train_refuses_a_run_folder_in_the_dataset(data, where):
    before = file_bytes(data)
    result = runner.invoke(app, ["train", str(data), "-o", str(data / where), "--force",
                                 "--epochs", "1", "--device", "cpu"])
    assert result.exit_code == 1 and "the input" in result.stderr
    assert file_bytes(data) == before and not (data / "run").exists()


def test_train_refuses_a_run_folder_around_the_dataset(small_dataset, tmp_path):
    data = shutil.copytree(small_dataset, tmp_path / "run" / "data")
    result = runner.invoke(app, ["train", str(data), "-o", str(tmp_path / "run"), "--force",
                                 "--epochs", "1", "--device", "cpu"])
    assert result.exit_code == 1 and "contains the input" in result.stderr
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["data"]


def test_evaluate_never_writes_scores_into_the_dataset(data, run):
    before = file_bytes(data)
    result = runner.invoke(app, ["evaluate", str(run / "best.pt"), str(data), "-o", str(data), "--print-json"])
    assert result.exit_code == 1 and "is the input" in result.stderr
    assert file_bytes(data) == before


def test_evaluate_default_output_is_beside_the_checkpoint(data, run):
    checkpoint = (run / "best.pt").read_bytes()
    result = runner.invoke(app, ["evaluate", str(run / "best.pt"), str(data), "--split", "val"])
    assert result.exit_code == 0, result.output
    assert (run / "scores_val.json").is_file() and (run / "best.pt").read_bytes() == checkpoint


def test_report_never_writes_into_the_dataset(data, run):
    before = file_bytes(data)
    result = runner.invoke(app, ["report", str(run), str(data), "-o",
                                 str(data / "report.html"), "--force"])
    assert result.exit_code == 1 and "lies inside the input" in result.stderr
    assert file_bytes(data) == before


TINY_ARGS = ["--epochs", "1", "--set", "base_width=4", "--set", "depth=2", "--batch-size", "4",
             "--set", "threads=1", "--device", "cpu", "--set", "augment=false"]


def test_train_force_replaces_the_old_run_and_nothing_else(data, run, tmp_path):
    (run / "scores_test.json").write_text("{}")  # the old run's evaluation: stale after retraining
    (tmp_path / "neighbour.txt").write_text("keep")
    result = runner.invoke(app, ["train", str(data), "-o", str(run), "--force", *TINY_ARGS])
    assert result.exit_code == 0, result.output
    assert not (run / "scores_test.json").exists() and (run / "best.pt").is_file()
    assert (tmp_path / "neighbour.txt").read_text() == "keep"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_train_force_that_fails_early_leaves_the_old_run_as_it_was(run, tmp_path, mars_pairs, dataset_writer):
    images, masks = mars_pairs
    no_val = dataset_writer(tmp_path / "no_val", images[:4], masks[:4], ["train"] * 4)
    before = file_bytes(run)
    result = runner.invoke(app, ["train", str(no_val), "-o", str(run), "--force", *TINY_ARGS])
    assert result.exit_code == 1 and "val" in result.stderr
    assert file_bytes(run) == before
