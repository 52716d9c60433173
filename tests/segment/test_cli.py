"""The CLI end to end through Typer's CliRunner: train, evaluate, predict, errors."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from segment.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def run_dir(small_dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    args = ["train", str(small_dataset), "-o", str(out), "--epochs", "1", "--set", "base_width=4",
            "--set", "depth=2", "--batch-size", "4", "--set", "threads=1", "--device", "cpu", "--set", "augment=false"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "best val mean IoU" in result.output
    return out


def test_train_refuses_existing_output(small_dataset, run_dir):
    result = runner.invoke(app, ["train", str(small_dataset), "-o", str(run_dir)])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: the output folder") and "--force" in result.stderr


def test_train_rejects_bad_loss_with_choices(small_dataset, tmp_path):
    result = runner.invoke(app, ["train", str(small_dataset), "-o", str(tmp_path / "r"), "--set", "loss=ce+x"])
    assert result.exit_code == 1 and "focal_tversky" in result.stderr


def test_evaluate_prints_table_and_writes_json(small_dataset, run_dir, tmp_path):
    result = runner.invoke(app, ["evaluate", str(run_dir / "best.pt"), str(small_dataset),
                                 "--split", "test", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Precision" in result.output and "Mean IoU" in result.output
    scores = json.loads((tmp_path / "scores_test.json").read_text())
    assert scores["scored_classes"] == ["soil", "bedrock", "sand", "big rock"]
    assert (tmp_path / "confusion_test.png").is_file()


def test_evaluate_missing_checkpoint(small_dataset, tmp_path):
    result = runner.invoke(app, ["evaluate", str(tmp_path / "nope.pt"), str(small_dataset)])
    assert result.exit_code == 1 and "does not exist" in result.stderr


def test_predict_dataset_split_to_pngs(small_dataset, run_dir, tmp_path):
    out = tmp_path / "pred"
    result = runner.invoke(app, ["predict", str(run_dir / "best.pt"), str(small_dataset), "-o", str(out),
                                 "--split", "val", "--overlay", "each"])
    assert result.exit_code == 0, result.output
    masks = sorted(p.name for p in (out / "masks").iterdir())
    assert masks == [f"pair{i:03d}.png" for i in range(12, 18)]
    assert np.asarray(Image.open(out / "masks" / masks[0])).shape == (64, 128)
    assert len(list((out / "overlays").iterdir())) == 6


def test_predict_course_npz_to_kaggle_csv(mars_pairs, run_dir, tmp_path):
    images, _ = mars_pairs
    np.savez(tmp_path / "course.npz", test_set=images[:3])
    out = tmp_path / "kaggle"
    result = runner.invoke(app, ["predict", str(run_dir / "best.pt"), str(tmp_path / "course.npz"),
                                 "-o", str(out), "--format", "csv", "--overlay", "sheet"])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out / "submission.csv")
    assert frame.shape == (3, 1 + 64 * 128)
    assert frame.columns[0] == "id" and frame["id"].tolist() == [0, 1, 2]
    assert frame.columns[1] == "0" and frame.columns[-1] == str(64 * 128 - 1)
    assert (out / "contact_sheet.png").is_file()


def test_predict_plain_folder_of_odd_sizes(run_dir, tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    Image.fromarray(np.zeros((30, 50), np.uint8)).save(folder / "a.png")
    Image.fromarray(np.full((17, 9), 200, np.uint8)).save(folder / "b.png")
    out = tmp_path / "p"
    result = runner.invoke(app, ["predict", str(run_dir / "best.pt"), str(folder), "-o", str(out),
                                 "--overlay", "none"])
    assert result.exit_code == 0, result.output
    assert np.asarray(Image.open(out / "masks" / "b.png")).shape == (17, 9)


def test_predict_npz_without_known_arrays(run_dir, tmp_path):
    np.savez(tmp_path / "x.npz", pictures=np.zeros((1, 4, 4), np.uint8))
    result = runner.invoke(app, ["predict", str(run_dir / "best.pt"), str(tmp_path / "x.npz"),
                                 "-o", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "holds the arrays pictures" in result.stderr and "'training_set'" in result.stderr
    assert not (tmp_path / "o").exists()


def test_resume_continues_in_place(small_dataset, run_dir):
    args = ["train", str(small_dataset), "-o", str(run_dir), "--resume", "--epochs", "2", "--device", "cpu"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(run_dir / "metrics.csv")) == 2


def test_resume_without_epochs_keeps_the_saved_run_length(small_dataset, tmp_path):
    out = tmp_path / "run"
    args = ["train", str(small_dataset), "-o", str(out), "--epochs", "2", "--set", "base_width=4",
            "--set", "depth=2", "--batch-size", "4", "--set", "threads=1", "--device", "cpu"]
    assert runner.invoke(app, args).exit_code == 0
    result = runner.invoke(app, ["train", str(small_dataset), "-o", str(out), "--resume",
                                 "--device", "cpu", "--set", "threads=1"])
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(out / "metrics.csv")) == 2  # not the default 40
    assert json.loads((out / "config.json").read_text())["epochs"] == 2


def test_run_outputs_are_readable_by_others(run_dir):
    assert (run_dir / "best.pt").stat().st_mode & 0o044 == 0o044


def test_train_on_unsplit_folder_suggests_a_pasteable_split_and_leaves_no_run(
        mars_pairs, dataset_writer, tmp_path, monkeypatch):
    import re
    import shlex

    from curate.cli.main import app as curate_app

    images, masks = mars_pairs
    data = dataset_writer(tmp_path / "unsplit data", images[:12], masks[:12], [""] * 12)
    run = tmp_path / "run"
    result = runner.invoke(app, ["train", str(data), "-o", str(run), "--epochs", "1"])
    assert result.exit_code == 1 and "not split yet" in result.stderr
    assert not run.exists()                                     # no empty run folder left
    # The suggested command, pasted as it is, splits the folder; the suggested folder trains.
    suggested = re.search(r"`curate split ([^`]+)`", " ".join(result.stderr.split())).group(1)
    pasted = runner.invoke(curate_app, ["split", *shlex.split(suggested)])
    assert pasted.exit_code == 0, pasted.output
    assert (tmp_path / "unsplit data-split" / "manifest.csv").is_file()
    assert "unsplit data-split" in " ".join(result.stderr.split())


def test_failed_training_leaves_no_empty_run_folder(small_dataset, tmp_path, monkeypatch):
    import importlib

    train_module = importlib.import_module("segment.training.loop")

    def broken(*args, **kwargs):
        raise train_module.InputError("a planted read error")

    monkeypatch.setattr(train_module, "load_split", broken)
    run = tmp_path / "run"
    result = runner.invoke(app, ["train", str(small_dataset), "-o", str(run), "--epochs", "1"])
    assert result.exit_code == 1 and "planted" in result.stderr
    assert not run.exists()


def test_settings_reach_every_config_field_and_unknown_keys_list_the_known(small_dataset, tmp_path):
    """--set and --config reach the knobs that have no flag of their own; a typo is refused
    before anything is written, with the known keys in the message."""
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", str(small_dataset), "-o", str(out), "--set", "dpeth=2"])
    assert result.exit_code == 1
    assert "unknown key(s) dpeth" in result.output and "depth" in result.output
    assert not out.exists()
    config = tmp_path / "run.toml"
    config.write_text("depth = 2\nbase_width = 4\nse = false\nthreads = 1\naugment = false\n")
    result = runner.invoke(app, ["train", str(small_dataset), "-o", str(out), "--config",
                                 str(config), "--set", "base_width=8", "--epochs", "1",
                                 "--batch-size", "4", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "config.json").read_text())
    assert (saved["depth"], saved["base_width"], saved["se"], saved["augment"]) == (2, 8, False, False)


def test_train_help_shows_the_everyday_options_only():
    import typer.main

    command = typer.main.get_command(app).commands["train"]
    options = [p for p in command.params if p.param_type_name == "option" and p.name != "help"]
    assert "out" in [p.name for p in options] and len(options) <= 12, [p.name for p in options]
    result = runner.invoke(app, ["train", "--help"], env={"COLUMNS": "200"})
    text = " ".join(result.output.split())  # the help is wrapped at 80 columns under CliRunner
    assert "(default 40; with --resume: the saved run's)" in text  # not eaten as markup
    assert "copy_paste_prob=0.5" in text  # every setting is listed


def test_every_setting_is_described():
    from segment.cli import TRAIN_SETTINGS
    from segment.config import SETTINGS_HELP

    assert set(SETTINGS_HELP) == set(TRAIN_SETTINGS)


def test_evaluate_label_map_hint_is_a_whole_map_that_works(tiny_run, mars_pairs, tmp_path):
    # Issue 31, 9: on the raw AI4Mars layout (0 soil, 1 bedrock, 2 sand, 3 big rock, 255 no
    # label) the hint said 255:0, which the merge check then refused (soil would join 0).
    from PIL import Image

    images, masks = mars_pairs
    raw = tmp_path / "raw"
    (raw / "images").mkdir(parents=True)
    (raw / "masks").mkdir()
    to_raw = np.array([255, 0, 1, 2, 3] + [0] * 251, np.uint8)  # labels 0..4 -> raw values
    chosen = [i for i in range(len(masks)) if len(np.unique(masks[i])) >= 4][:3]
    chosen.append(next(i for i in range(len(masks)) if (masks[i] == 4).any()))
    for i in chosen:
        Image.fromarray(images[i]).save(raw / "images" / f"p{i}.png")
        Image.fromarray(to_raw[masks[i]]).save(raw / "masks" / f"p{i}.png")
    result = runner.invoke(app, ["evaluate", str(tiny_run / "best.pt"), str(raw),
                                 "-o", str(tmp_path / "e")])
    assert result.exit_code == 1
    hint = re.search(r"--label-map ([0-9:,]+)", result.output)
    assert hint and hint.group(1) == "0:1,1:2,2:3,3:4,255:0", result.output
    again = runner.invoke(app, ["evaluate", str(tiny_run / "best.pt"), str(raw),
                                "-o", str(tmp_path / "e"), "--label-map", hint.group(1)])
    assert again.exit_code == 0, again.output


def test_removed_training_flags_still_work_with_a_note(small_dataset, tmp_path):
    """`--threads 2` was in the README recipe until a release ago: it still trains, as
    `--set threads=2`, and one line names the replacement (same for on/off flags)."""
    from segment.cli import app as segment_app

    run = tmp_path / "run"
    result = CliRunner().invoke(segment_app, [
        "train", str(small_dataset), "-o", str(run), "--epochs", "1", "--device", "cpu",
        "--threads", "1", "--base-width", "4", "--depth", "2", "--no-se"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert ("--threads was removed in 0.1.0; it still works for now, but will stop: use --set "
            "threads=1 instead.") in text
    assert "use --set se=false instead" in text
    config = json.loads((run / "config.json").read_text())
    assert config["threads"] == 1 and config["base_width"] == 4 and config["se"] is False
