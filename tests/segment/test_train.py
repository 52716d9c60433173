"""Early stopping without training, overfitting real pairs, checkpoint/resume equality."""

import dataclasses

import numpy as np
import pytest
import torch

from segment import TrainConfig, train
from segment.errors import ConfigError, OutputExistsError
from segment.model.losses import build_loss, class_weights
from segment.evaluation.metrics import class_scores, confusion_counts
from segment.model.unet import UNet, UNetSpec
from segment.model.checkpoints import load_checkpoint
from segment.training.run_state import EarlyStopping


def test_early_stopping_counts_epochs_without_gain():
    stopper = EarlyStopping(patience=2, min_delta=0.01)
    decisions = [stopper.step(v, e) for e, v in enumerate([0.5, 0.6, 0.605, 0.59], start=1)]
    assert [d[0] for d in decisions] == [False, False, False, True]
    assert stopper.best == 0.6 and stopper.best_epoch == 2
    assert "patience 2" in decisions[-1][1]


def test_early_stopping_improvement_resets_and_nan_never_improves():
    stopper = EarlyStopping(patience=2)
    stopper.step(0.5, 1)
    assert stopper.step(float("nan"), 2) == (False, "no improvement for 1/2 epochs")
    assert stopper.step(0.7, 3)[0] is False and stopper.improved
    state = stopper.state_dict()
    other = EarlyStopping(patience=2)
    other.load_state_dict(state)
    assert other.step(0.1, 4)[0] is False and other.step(0.1, 5)[0] is True


def test_bad_config_is_rejected_with_choices():
    with pytest.raises(ConfigError, match="ce, dice, tversky, focal_tversky, lovasz"):
        TrainConfig(loss="ce+jaccard")
    with pytest.raises(ConfigError, match="scheduler must be one of"):
        TrainConfig(scheduler="step")


@pytest.mark.slow
def test_tiny_model_overfits_a_few_real_pairs(mars_pairs):
    images, masks = mars_pairs
    x = torch.from_numpy(images[:4]).float().unsqueeze(1) / 255.0 - 0.5  # (4, 1, 64, 128)
    y = torch.from_numpy(masks[:4]).long()
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(0)  # deterministic init for this test; restored below
    model = UNet(UNetSpec(base_width=8, depth=2, spatial_dropout=0.0, dropout=0.0))
    torch.random.set_rng_state(gen_state)
    weight = torch.tensor(class_weights(np.bincount(masks[:4].ravel(), minlength=5), 0)).float()
    loss_fn = build_loss("ce+dice", weight, ignore_index=0)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(40):
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        pred = model(x).argmax(1)
    scores = class_scores(confusion_counts(pred, y, 5), ["bg", "soil", "bedrock", "sand", "rock"], 0)
    assert scores.mean_iou > 0.8


def test_train_writes_run_and_refuses_to_overwrite(small_dataset, tmp_path, tiny):
    cfg = TrainConfig.from_dict({"data": str(small_dataset), "out": str(tmp_path / "run"), **tiny})
    result = train(cfg)
    for name in ("best.pt", "last.pt", "metrics.csv", "learning_curve.png", "confusion_val.png",
                 "val_scores.json", "config.json"):
        assert (tmp_path / "run" / name).is_file(), name
    assert result.epochs_run == 2 and 0.0 <= result.best_val_miou <= 1.0
    state = load_checkpoint(tmp_path / "run" / "best.pt")
    assert state.config["base_width"] == 4 and state.meta.class_weights[0] == 0.0
    with pytest.raises(OutputExistsError, match="--force"):
        train(cfg)


@pytest.mark.slow
def test_resume_gives_the_same_weights_as_one_run(small_dataset, tmp_path, tiny):
    base = TrainConfig.from_dict({"data": str(small_dataset), **{**tiny, "epochs": 2, "patience": 50}})
    straight = train(dataclasses.replace(base, out=str(tmp_path / "a")))
    # A run cut short after epoch 1 (the time bound stands in for a crash), then resumed.
    cut = train(dataclasses.replace(base, out=str(tmp_path / "b"), max_minutes=1e-9))
    assert cut.epochs_run == 1 and cut.stop_reason.startswith("time limit")
    train(dataclasses.replace(base, out=str(tmp_path / "b")), resume=True)
    a = load_checkpoint(tmp_path / "a" / "last.pt")
    b = load_checkpoint(tmp_path / "b" / "last.pt")
    assert b.epoch == 2 and len(b.history) == 2
    for key, value in a.model.items():
        torch.testing.assert_close(b.model[key], value, rtol=0, atol=0, msg=key)
    assert straight.history[-1]["val_mean_iou"] == b.history[-1]["val_mean_iou"]


def test_training_leaves_global_rng_alone(small_dataset, tmp_path, tiny):
    before = torch.random.get_rng_state()
    train(TrainConfig.from_dict({"data": str(small_dataset), "out": str(tmp_path / "r"), **{**tiny, "epochs": 1}}))
    assert torch.equal(before, torch.random.get_rng_state())


def test_worker_processes_do_not_change_the_result(small_dataset, tmp_path, tiny):
    base = TrainConfig.from_dict({"data": str(small_dataset), **{**tiny, "epochs": 1, "augment": True}})
    train(dataclasses.replace(base, out=str(tmp_path / "w0")))
    train(dataclasses.replace(base, out=str(tmp_path / "w1"), workers=1))
    a = load_checkpoint(tmp_path / "w0" / "last.pt").model
    b = load_checkpoint(tmp_path / "w1" / "last.pt").model
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)


def test_epoch_line_and_stopper_note_print_the_same_number(small_dataset, tmp_path, tiny):
    from types import SimpleNamespace

    from segment.training.loop import monitored

    # 0.56324999999 prints as 0.5632 raw but 0.5633 once rounded to 6 places (issue 21).
    value = monitored(SimpleNamespace(mean_iou=0.56324999999))
    _, reason = EarlyStopping(patience=3).step(value, 1)
    assert f"{value:.4f}" in reason and reason == "improved to 0.5633"

    rows = []

    class Hooks:
        def on_epoch_start(self, *a): ...
        def on_step(self, loss): ...
        def on_epoch_end(self, row): rows.append(row)

    train(TrainConfig.from_dict({"data": str(small_dataset), "out": str(tmp_path / "r"), **tiny}),
          Hooks())
    assert rows[0]["note"] == f"improved to {rows[0]['val_mean_iou']:.4f}"
