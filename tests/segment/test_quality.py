"""Issue 12 levers and views through the CLI: the rare-class error view (evaluate + report),
EMA of weights, rare-class oversampling, flip TTA, presets; on real Mars pairs with big rock."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from conftest import write_dataset
from segment.model.checkpoints import load_checkpoint
from segment.cli import app
from segment.config import TrainConfig
from segment.model.ema import WeightAverage
from segment.evaluation.inference import predict_batches
from segment.evaluation.rare_errors import error_table, rarest_class
from segment.data.sampling import epoch_order

runner = CliRunner()
ROCK = [16, 91, 119, 147, 150, 172, 173, 193, 199, 211]  # mars300 rows holding big rock (4)
TINY_ARGS = ["--set", "base_width=4", "--set", "depth=2", "--batch-size", "4", "--set", "threads=1",
             "--device", "cpu", "--set", "spatial_dropout=0", "--set", "dropout=0", "--set", "patience=50"]


@pytest.fixture(scope="module")
def rock_data(tmp_path_factory, mars_pairs):
    """24 real pairs, big rock in 4 train, 2 val and 4 test masks."""
    images, masks = mars_pairs
    others = [i for i in range(40) if i not in ROCK]
    rows = ROCK[:4] + others[:8] + ROCK[4:6] + others[8:12] + ROCK[6:] + others[12:14]
    splits = ["train"] * 12 + ["val"] * 6 + ["test"] * 6
    return write_dataset(tmp_path_factory.mktemp("rock") / "rock24", images[rows], masks[rows], splits)


def _train(data, out, *extra):
    result = runner.invoke(app, ["train", str(data), "-o", str(out), *TINY_ARGS, *extra])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def run(rock_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("qrun") / "run"
    _train(rock_data, out, "--epochs", "2")
    return out


# --- rare-class error view ------------------------------------------------------------------

def test_error_table_counts_hand_planted_errors_and_skips_unlabelled_pixels():
    truth = np.array([[4, 4, 4, 1], [1, 1, 0, 0]], np.uint8)  # 3 px of class 4, 2 unlabelled
    pred = np.array([[4, 1, 1, 4], [4, 1, 4, 4]], np.uint8)   # hit 1, miss 2, FP 2 (+2 on ignore)
    clean = np.array([[1, 1, 1, 1], [1, 1, 1, 1]], np.uint8)
    table = error_table(["a", "b"], [truth, clean], [pred, clean], 4, 0)
    first = table.iloc[0].to_dict()
    assert first == {"id": "a", "true_pixels": 3, "predicted_pixels": 3, "hit_pixels": 1,
                     "false_positive_pixels": 2, "missed_pixels": 2, "error_pixels": 4, "iou": 0.2}
    assert table.iloc[1]["error_pixels"] == 0 and np.isnan(table.iloc[1]["iou"])
    # Without an ignore class the two predictions on class 0 are false positives too.
    assert error_table(["a"], [truth], [pred], 4, None).iloc[0]["false_positive_pixels"] == 4


def test_rarest_class_skips_the_ignore_class_and_absent_classes():
    assert rarest_class([5, 900, 800, 70, 0], 0) == 3
    assert rarest_class([5, 900, 800, 70, 0], None) == 0


def test_evaluate_writes_rare_errors_that_match_predict_masks(run, rock_data, tmp_path):
    result = runner.invoke(app, ["evaluate", str(run / "best.pt"), str(rock_data), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "rare_errors_test.csv" in result.output
    scores = json.loads((tmp_path / "scores_test.json").read_text())
    assert scores["rare_class"] == 4 and scores["rare_class_name"] == "big rock"  # the rarest
    table = pd.read_csv(tmp_path / "rare_errors_test.csv", dtype={"id": str})
    # Cross-check every row against the masks `segment predict` writes, read back from PNG.
    pred = tmp_path / "pred"
    assert runner.invoke(app, ["predict", str(run / "best.pt"), str(rock_data), "-o", str(pred),
                               "--split", "test", "--overlay", "none"]).exit_code == 0
    manifest = pd.read_csv(rock_data / "manifest.csv", dtype=str).set_index("id")
    assert len(table) == 6 and (table["true_pixels"] > 0).sum() == 4
    for row in table.itertuples(index=False):
        truth = np.asarray(Image.open(rock_data / manifest.loc[row.id, "mask"]))
        mask = np.asarray(Image.open(pred / "masks" / f"{row.id}.png"))
        assert row.missed_pixels == ((truth == 4) & (mask != 4)).sum()
        assert row.false_positive_pixels == ((truth != 4) & (truth != 0) & (mask == 4)).sum()
    assert list(table["error_pixels"]) == sorted(table["error_pixels"], reverse=True)
    worst = int((table["error_pixels"] > 0).sum())
    with Image.open(tmp_path / "rare_errors_test.png") as sheet:
        # the error legend and the class legend, then min(8, images with errors) rows of 4
        # panels, each 2x the 64x128 image, with captions sized to the sheet and 6-px gaps.
        from curate.ui import plots
        from segment.evaluation.rare_errors import _legend

        width = 4 * 256 + 3 * 4
        legend = plots.class_legend(["background", "soil", "bedrock", "sand", "big rock"], 0,
                                    edged=True, numbered=True)
        head = _legend(width, 4).shape[0] + plots.legend_strip(legend, width).shape[0]
        caption = plots.text_strip("x", width).shape[0]
        assert sheet.size == (width, head + min(8, worst) * (6 + caption + 128))


def test_evaluate_class_option_and_its_refusal(run, rock_data, tmp_path):
    ok = runner.invoke(app, ["evaluate", str(run / "best.pt"), str(rock_data), "--split", "val",
                             "--class", "3", "-o", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert json.loads((tmp_path / "scores_val.json").read_text())["rare_class"] == 3
    bad = runner.invoke(app, ["evaluate", str(run / "best.pt"), str(rock_data), "--class", "0",
                              "-o", str(tmp_path / "x")])
    assert bad.exit_code == 1 and bad.stderr.startswith("Error: --class 0 is not a scored class")
    assert "4 big rock" in bad.stderr and not (tmp_path / "x").exists()


def test_report_shows_the_rare_error_table_sheet_and_embedded_csv(run, rock_data, tmp_path):
    assert runner.invoke(app, ["evaluate", str(run / "best.pt"), str(rock_data)]).exit_code == 0
    result = runner.invoke(app, ["report", str(run), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "r.html").read_text()
    section = html[html.index('<section id="rare-errors">'):]
    section = section[:section.index("</section>")]
    csv = (run / "rare_errors_test.csv").read_bytes()
    link = re.search(r'download="rare_errors_test.csv" href="data:text/csv;base64,([^"]+)"', section)
    assert link and base64.b64decode(link.group(1)) == csv
    table = pd.read_csv(run / "rare_errors_test.csv", dtype={"id": str})
    assert "Class 4 (big rock) on the test split: 4 of 6 images hold it" in section
    assert f"{int(table['missed_pixels'].sum()):,} missed pixels" in section
    assert 'id="rare-table-test"' in section and table["id"].iloc[0] in section
    assert 'id="img-rare-test"' in section


# --- training levers ----------------------------------------------------------------------

def test_weight_average_follows_the_hand_computed_decay():
    model = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.constant_(model.weight, 1.0)
    ema = WeightAverage(model, 0.5)
    torch.nn.init.constant_(model.weight, 3.0)
    ema.update(model)  # decay min(0.5, 1/10) = 0.1: 0.1 * 1 + 0.9 * 3
    assert ema.model.weight.item() == pytest.approx(2.8)
    torch.nn.init.constant_(model.weight, 0.0)
    ema.update(model)  # decay min(0.5, 2/11)
    assert ema.model.weight.item() == pytest.approx(2.8 * 2 / 11)


@pytest.mark.slow
def test_ema_and_oversampling_resume_exactly_and_save_the_average(rock_data, tmp_path):
    levers = ["--set", "ema=0.9", "--set", "oversample_class=4", "--set", "oversample_factor=3"]
    _train(rock_data, tmp_path / "a", "--epochs", "2", *levers)
    out = _train(rock_data, tmp_path / "b", "--epochs", "2", "--max-minutes", "1e-9", *levers)
    assert "oversampling: 4 of 12 training pairs contain class 4; drawn 3x" in out.output
    _train(rock_data, tmp_path / "b", "--epochs", "2", "--resume")
    a, b = load_checkpoint(tmp_path / "a" / "last.pt"), load_checkpoint(tmp_path / "b" / "last.pt")
    assert b.config["ema"] == 0.9 and b.config["oversample_class"] == 4
    for key in a.model:
        torch.testing.assert_close(b.model[key], a.model[key], rtol=0, atol=0, msg=key)
        torch.testing.assert_close(b.train_model[key], a.train_model[key], rtol=0, atol=0)
    differs = [k for k in a.model if a.model[k].is_floating_point()
               and not torch.equal(a.model[k], a.train_model[k])]
    assert differs and a.ema_updates == 2 * 3  # 12 pairs, batch 4: 3 steps per epoch
    evaluated = runner.invoke(app, ["evaluate", str(tmp_path / "a" / "best.pt"), str(rock_data),
                                    "--split", "val", "--print-json"])
    val = json.loads((tmp_path / "a" / "val_scores.json").read_text())
    assert json.loads(evaluated.stdout)["mean_iou"] == pytest.approx(val["mean_iou"])


def test_old_checkpoints_without_the_lever_fields_still_resume(run, rock_data, tmp_path):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(run, old)
    state = torch.load(old / "last.pt", weights_only=True)
    for key in ("ema", "oversample_class", "oversample_factor"):
        del state["config"][key]  # as written before issue 12
    torch.save(state, old / "last.pt")
    _train(rock_data, old, "--epochs", "3", "--resume")
    assert load_checkpoint(old / "last.pt").epoch == 3
    assert TrainConfig.from_dict(state["config"]).ema == 0.0


def test_epoch_order_is_seeded_weighted_and_split_across_ranks():
    weights = np.array([1.0] * 90 + [10.0] * 10)  # the last 10 pairs hold the rare class
    order = epoch_order(weights, seed=3, epoch=1)
    assert order == epoch_order(weights, seed=3, epoch=1) != epoch_order(weights, seed=3, epoch=2)
    assert len(order) == 100 and sum(i >= 90 for i in order) > 35  # expected ~53, not 10
    ranks = [epoch_order(weights, 3, 1, world=3, rank=r) for r in range(3)]
    assert [len(r) for r in ranks] == [34, 34, 34]
    assert sorted(sum(ranks, [])) == sorted(order + order[:2])


def test_oversampling_an_absent_class_is_refused_before_training(rock_data, tmp_path):
    result = runner.invoke(app, ["train", str(rock_data), "-o", str(tmp_path / "r"), *TINY_ARGS,
                                 "--set", "oversample_class=7"])
    assert result.exit_code == 1 and "no training mask contains class 7" in result.stderr
    assert not (tmp_path / "r" / "last.pt").exists()


class _LeftRight(torch.nn.Module):
    """Ignores the image: class 1 on the left half with logit 3, class 2 on the right with 1."""

    def forward(self, x):
        b, _, h, w = x.shape
        logits = torch.zeros(b, 3, h, w)
        logits[:, 1, :, : w // 2] = 3.0
        logits[:, 2, :, w // 2:] = 1.0
        return logits


def test_flip_tta_averages_the_mirrored_prediction():
    images = np.zeros((2, 1, 4, 8), np.uint8)
    norm = {"mean": [0.0], "std": [1.0]}
    plain = next(predict_batches(_LeftRight(), images, norm, torch.device("cpu")))[1]
    tta = next(predict_batches(_LeftRight(), images, norm, torch.device("cpu"), tta=True))[1]
    assert (plain[:, :, :4] == 1).all() and (plain[:, :, 4:] == 2).all()
    assert (tta == 1).all()  # the mirrored left half's logit 3 outweighs the right's 1


def test_tta_options_of_evaluate_and_predict(run, rock_data, tmp_path):
    result = runner.invoke(app, ["evaluate", str(run / "best.pt"), str(rock_data), "--tta",
                                 "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "scores_test.json").read_text())["tta"] == "hflip"
    pred = runner.invoke(app, ["predict", str(run / "best.pt"), str(rock_data), "--tta",
                               "-o", str(tmp_path / "p"), "--split", "test"])
    assert pred.exit_code == 0 and len(list((tmp_path / "p" / "masks").iterdir())) == 6


def test_preset_sets_options_prints_them_and_explicit_options_win(rock_data, tmp_path):
    result = _train(rock_data, tmp_path / "r", "--preset", "cpu-quick", "--epochs", "1")
    assert ("preset cpu-quick: amp off, channels_last on, workers 0; given as options or "
            "settings, kept: base_width, batch_size, epochs, patience") in result.output
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    # TINY_ARGS gives base_width=4 and --batch-size 4, which win over the preset's 8 and the
    # pixel budget.
    assert (config["base_width"], config["batch_size"], config["epochs"]) == (4, 4, 1)
    result = runner.invoke(app, ["train", str(rock_data), "-o", str(tmp_path / "q"), "--preset",
                                 "cpu-quick", "--epochs", "1", "--set", "threads=1", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "preset cpu-quick: base_width 8, batch_size from the pixel budget, " in result.output
    config = json.loads((tmp_path / "q" / "config.json").read_text())
    assert (config["base_width"], config["batch_size"], config["patience"]) == (8, 32, 6)


# --- online copy-paste, warm-up schedule, Lovasz through the CLI ------------------------------

def _paste_pairs():
    """Three 1x8x16 pairs; pair 2 holds class 4 on rows 2-3, columns 5-7, image value 200."""
    images = np.full((3, 1, 8, 16), 50, np.uint8)
    masks = np.ones((3, 8, 16), np.uint8)
    masks[:, 6:, :] = 0  # unlabelled bottom rows
    masks[2, 2:4, 5:8], images[2, 0, 2:4, 5:8] = 4, 200
    return images, masks


def test_copy_paste_moves_the_donor_region_sideways_with_its_pixels():
    from segment.data.copy_paste import copy_paste

    images, masks = _paste_pairs()
    paste = copy_paste(images, masks, masks.reshape(3, -1).__eq__(4).any(1), 4, 1.0, seed=0)
    offsets = set()
    for key in range(40):
        image, mask = paste(images[0], masks[0], 0, epoch=1, key=key)
        region = mask == 4
        assert region.sum() == 6 and set(np.flatnonzero(region.any(1))) == {2, 3}  # rows kept
        assert (image[0][region] == 200).all() and (image[0][~region] == 50).all()
        assert (mask[~region] == masks[0][~region]).all()
        offsets.add(int(np.flatnonzero(region.any(0))[0]))
        again = paste(images[0], masks[0], 0, epoch=1, key=key)
        assert (again[1] == mask).all() and (again[0] == image).all()  # a function of the draw
    assert len(offsets) > 5 and min(offsets) >= 0 and max(offsets) <= 13
    assert (images[0] == 50).all() and (masks[0] != 4).all()  # the inputs are not written
    # the donor itself is never its own donor, and prob < 1 leaves some pairs alone
    alone = copy_paste(images, masks, np.array([False, False, True]), 4, 1.0, seed=0)
    assert (alone(images[2], masks[2], 2, 1, 0)[1] == masks[2]).all()
    half = copy_paste(images, masks, np.array([False, False, True]), 4, 0.5, seed=0)
    pasted = [(half(images[0], masks[0], 0, 1, k)[1] == 4).any() for k in range(60)]
    assert 10 < sum(pasted) < 50


def test_warmup_schedule_rises_then_falls_to_the_floor():
    from segment.training.run_state import LR_FLOOR, warmup_cosine

    factor = warmup_cosine(epochs=4, steps_per_epoch=25, warmup_share=0.1)  # 10 warm-up steps
    assert factor(0) == pytest.approx(0.1) and factor(9) == pytest.approx(1.0)
    tail = [factor(s) for s in range(9, 100)]
    assert all(a >= b for a, b in zip(tail, tail[1:]))
    assert factor(99) == pytest.approx(LR_FLOOR, abs=1e-3) and factor(500) == pytest.approx(LR_FLOOR)


@pytest.mark.slow
def test_warmup_copy_paste_and_lovasz_train_and_resume_exactly(rock_data, tmp_path):
    levers = ["--set", "scheduler=warmup", "--set", "copy_paste_class=4", "--set", "copy_paste_prob=0.7",
              "--set", "loss=ce+dice+lovasz"]
    _train(rock_data, tmp_path / "a", "--epochs", "2", *levers)
    out = _train(rock_data, tmp_path / "b", "--epochs", "2", "--max-minutes", "1e-9", *levers)
    assert "copy-paste: class 4 of 4 training pairs pasted into 70% of the drawn pairs" in out.output
    _train(rock_data, tmp_path / "b", "--epochs", "2", "--resume")
    a, b = load_checkpoint(tmp_path / "a" / "last.pt"), load_checkpoint(tmp_path / "b" / "last.pt")
    assert b.config["copy_paste_class"] == 4 and b.config["scheduler"] == "warmup"
    for key in a.model:
        torch.testing.assert_close(b.model[key], a.model[key], rtol=0, atol=0, msg=key)
    lrs = pd.read_csv(tmp_path / "a" / "metrics.csv")["lr"].tolist()
    # 12 pairs, batch 4: 3 steps an epoch, 6 in all, 1 of warm-up; after epoch 1 (3 steps)
    # the cosine is 2/5 of its way down, after the last step at its floor
    assert lrs[0] == pytest.approx(2e-3 * (0.01 + 0.99 * 0.5 * (1 + np.cos(np.pi * 2 / 5))))
    assert lrs[1] == pytest.approx(2e-3 * 0.01)


def test_copy_paste_of_the_ignored_or_an_absent_class_is_refused(rock_data, tmp_path):
    for k, said in ((0, "is the ignored class"), (7, "no training mask contains class 7")):
        result = runner.invoke(app, ["train", str(rock_data), "-o", str(tmp_path / f"r{k}"),
                                     *TINY_ARGS, "--set", f"copy_paste_class={k}"])
        assert result.exit_code == 1 and said in result.stderr, result.output
        assert not (tmp_path / f"r{k}" / "last.pt").exists()
