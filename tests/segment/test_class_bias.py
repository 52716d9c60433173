"""Per-class logit bias: the search on planted log-probabilities, and `segment calibrate`
with `evaluate`/`predict --class-bias` through the CLI on a tiny real run."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from conftest import file_bytes
from segment.evaluation.class_bias import log_probs, read_bias, tune
from segment.cli import app
from segment.errors import InputError

runner = CliRunner()
NAMES = ["background", "soil", "rock"]


def _planted(n: int = 20_000, seed: int = 0):
    """Three classes; the rare class 2 (5 % of pixels) is always a close second to the class
    the model prefers, so bias 0 never predicts it and a bias of about +0.5 recovers it."""
    rng = np.random.default_rng(seed)
    labels = rng.choice([1, 2], size=n, p=[0.95, 0.05])
    logits = rng.normal(0, 0.03, (n, 3))
    logits[:, 0] -= 5.0
    logits[:, 1] += 1.0
    logits[labels == 2, 2] += 0.8       # rare pixels: class 2 just below class 1
    logits[labels == 1, 2] -= 0.5
    scores = torch.from_numpy(logits).log_softmax(1).numpy().astype(np.float32)
    return scores, labels


def test_the_search_recovers_an_under_predicted_class_and_never_lowers_the_mean():
    scores, labels = _planted()
    fit = tune(scores, labels, NAMES, ignore_index=0)
    assert fit.before.iou[2] == 0.0                     # bias 0: the rare class is never predicted
    assert fit.after.iou[2] > 0.9
    assert fit.bias[2] - fit.bias[1] > 0.2              # the rare class was pushed up
    assert fit.after.mean_iou > fit.before.mean_iou
    # already balanced scores: nothing to gain, biases that change nothing are not taken
    balanced = np.where(np.eye(3, dtype=bool)[labels], 0.0, -3.0).astype(np.float32)
    again = tune(balanced, labels, NAMES, ignore_index=0)
    assert again.after.mean_iou == again.before.mean_iou == 1.0
    assert not again.bias.any()


def test_log_probs_of_a_tta_sum_equal_the_log_of_the_mean_probability():
    logits = torch.randn(2, 3, 4, 5)
    probs = logits.softmax(1)
    assert torch.allclose(log_probs(probs + probs, tta=True), probs.log(), atol=1e-6)
    assert torch.allclose(log_probs(logits, tta=False), logits.log_softmax(1))


def test_read_bias_refuses_another_checkpoints_classes_and_other_files(tmp_path):
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"class_bias": [0, 1, 2], "class_names": NAMES}))
    assert read_bias(path, NAMES).tolist() == [0, 1, 2]
    with pytest.raises(InputError, match="tuned for the classes"):
        read_bias(path, ["a", "b"])
    path.write_text("{}")
    with pytest.raises(InputError, match="not a `segment calibrate` file"):
        read_bias(path, NAMES)
    with pytest.raises(InputError, match="does not exist"):
        read_bias(tmp_path / "none.json", NAMES)


def test_calibrate_then_evaluate_and_predict_apply_the_biases(tiny_run, small_dataset, tmp_path):
    before = file_bytes(small_dataset)
    bias_file = tmp_path / "bias.json"
    result = runner.invoke(app, ["calibrate", str(tiny_run / "best.pt"), str(small_dataset),
                                 "-o", str(bias_file)])
    assert result.exit_code == 0, result.output
    assert "Tuned on val split" in result.output and "mean IoU" in result.output
    written = json.loads(bias_file.read_text())
    assert written["split"] == "val" and len(written["class_bias"]) == 5
    assert written["mean_iou_after"] >= written["mean_iou_before"]
    # refused without --force, and never over an input
    again = runner.invoke(app, ["calibrate", str(tiny_run / "best.pt"), str(small_dataset),
                                "-o", str(bias_file)])
    assert again.exit_code == 1 and "--force" in again.output
    inside = runner.invoke(app, ["calibrate", str(tiny_run / "best.pt"), str(small_dataset),
                                 "-o", str(small_dataset / "bias.json")])
    assert inside.exit_code == 1
    assert file_bytes(small_dataset) == before

    # a bias file that pushes one class far up makes evaluate and predict choose it everywhere
    forced = tmp_path / "forced.json"
    forced.write_text(json.dumps({**written, "class_bias": [0, 0, 50, 0, 0]}))
    out = tmp_path / "eval"
    result = runner.invoke(app, ["evaluate", str(tiny_run / "best.pt"), str(small_dataset),
                                 "-o", str(out), "--class-bias", str(forced), "--print-json"])
    assert result.exit_code == 0, result.output
    scores = json.loads((out / "scores_test.json").read_text())
    assert scores["bias"] == [0, 0, 50, 0, 0]
    per_class = list(scores["per_class"].values())
    assert per_class[2]["recall"] == 1.0
    assert all(c["recall"] in (0.0, None) for i, c in enumerate(per_class) if i != 2)
    pred = tmp_path / "pred"
    result = runner.invoke(app, ["predict", str(tiny_run / "best.pt"), str(small_dataset),
                                 "-o", str(pred), "--class-bias", str(forced), "--overlay", "none"])
    assert result.exit_code == 0, result.output
    from PIL import Image
    masks = [np.asarray(Image.open(p)) for p in sorted((pred / "masks").glob("*.png"))]
    assert masks and all((m == 2).all() for m in masks)


def _abstaining():
    """Classes 1 and 2 with equal margins; on the 30 % wrong pixels every logit is low, so a
    bias on the ignored class 0 would predict it exactly there: an abstention that removes
    false positives and raises the mean IoU (issue 31, 8: the Mars search set it to 4.0)."""
    rng = np.random.default_rng(0)
    n = 20_000
    labels = rng.choice([1, 2], size=n)
    wrong = rng.random(n) < 0.3
    logits = np.zeros((n, 3))
    logits[np.arange(n), labels] = np.where(wrong, 0.0, 3.0)
    logits[np.arange(n), 3 - labels] = np.where(wrong, 0.5, 2.5)
    logits[:, 0] = -1.0
    return torch.from_numpy(logits).log_softmax(1).numpy().astype(np.float32), labels


def test_the_search_never_biases_nor_predicts_the_ignored_class():
    scores, labels = _abstaining()
    fit = tune(scores, labels, NAMES, ignore_index=0, untrained=0)
    assert fit.bias[0] == 0
    assert fit.after.confusion[:, 0].sum() == 0 and fit.before.confusion[:, 0].sum() == 0
    assert fit.after.mean_iou >= fit.before.mean_iou


def test_a_bias_on_the_ignored_class_is_not_applied(tiny_run, small_dataset, tmp_path):
    # An old calibrate file that pushes background (ignored) up: evaluate and predict still
    # never predict it on any pixel.
    names = ["background", "soil", "bedrock", "sand", "big rock"]
    forced = tmp_path / "old.json"
    forced.write_text(json.dumps({"class_bias": [50, 0, 0, 0, 0], "class_names": names}))
    out = tmp_path / "eval"
    result = runner.invoke(app, ["evaluate", str(tiny_run / "best.pt"), str(small_dataset),
                                 "-o", str(out), "--class-bias", str(forced)])
    assert result.exit_code == 0, result.output
    scores = json.loads((out / "scores_test.json").read_text())
    assert np.asarray(scores["confusion"])[:, 0].sum() == 0
    pred = tmp_path / "pred"
    result = runner.invoke(app, ["predict", str(tiny_run / "best.pt"), str(small_dataset),
                                 "-o", str(pred), "--class-bias", str(forced), "--overlay", "none"])
    assert result.exit_code == 0, result.output
    from PIL import Image
    masks = [np.asarray(Image.open(p)) for p in sorted((pred / "masks").glob("*.png"))]
    assert masks and not any((m == 0).any() for m in masks)
