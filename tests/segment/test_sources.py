"""evaluate and predict read every input curate reads: AN2DL npz, images/ + masks/ folders
(label maps, 0/255 masks, --ignore-index), scoring the whole set; train says to split first."""

import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from conftest import TINY, file_bytes, write_dataset
from segment import TrainConfig, train
from segment.cli import app

runner = CliRunner()


def _raw_ai4mars(masks: np.ndarray) -> np.ndarray:
    """Course labels (0 no label, 1..4) -> the raw release's values (0..3 soil.., 255 no label)."""
    return np.where(masks == 0, 255, masks - 1).astype(np.uint8)


def _folder(root, images, masks, image_suffix=".png"):
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i, (image, mask) in enumerate(zip(images, masks)):
        Image.fromarray(image).save(root / "images" / f"f{i:02d}{image_suffix}", quality=95)
        Image.fromarray(mask).save(root / "masks" / f"f{i:02d}.png")
    return root


def _scores(path):
    return json.loads(path.read_text())["per_class"]


def test_evaluate_npz_and_raw_folder_score_the_whole_set_alike(tiny_run, mars_pairs, tmp_path):
    images, masks = mars_pairs[0][24:40], mars_pairs[1][24:40]
    np.savez(tmp_path / "held_out.npz", training_set=np.stack([images, masks], 1))
    raw = _folder(tmp_path / "raw", images, _raw_ai4mars(masks))
    ckpt = str(tiny_run / "best.pt")
    a = runner.invoke(app, ["evaluate", ckpt, str(tmp_path / "held_out.npz"), "-o", str(tmp_path / "a")])
    assert a.exit_code == 0, a.output
    assert "whole set, 16 pairs" in a.output and "Mean IoU" in a.output
    b = runner.invoke(app, ["evaluate", ckpt, str(raw), "-o", str(tmp_path / "b"),
                            "--label-map", "0:1,1:2,2:3,3:4,255:0"])
    assert b.exit_code == 0, b.output
    # A set scored whole is named after the input, so a second set never replaces the first.
    assert _scores(tmp_path / "a" / "scores_all_held_out.json") == _scores(tmp_path / "b" / "scores_all_raw.json")
    assert (tmp_path / "b" / "confusion_all_raw.png").is_file()


def test_evaluate_raw_labels_need_a_map_and_refuse_a_merging_one(tiny_run, mars_pairs, tmp_path):
    raw = _folder(tmp_path / "raw", mars_pairs[0][:12], _raw_ai4mars(mars_pairs[1][:12]))
    ckpt = str(tiny_run / "best.pt")
    bare = runner.invoke(app, ["evaluate", ckpt, str(raw), "-o", str(tmp_path / "o")])
    assert bare.exit_code == 1 and "label 255" in bare.stderr and "--label-map" in bare.stderr
    merge = runner.invoke(app, ["evaluate", ckpt, str(raw), "-o", str(tmp_path / "o"),
                                "--label-map", "255:0"])
    assert merge.exit_code == 1 and "both would become label 0" in merge.stderr
    split = runner.invoke(app, ["evaluate", ckpt, str(raw), "--split", "test",
                                "--label-map", "0:1,1:2,2:3,3:4,255:0"])
    assert split.exit_code == 1 and "no splits" in split.stderr
    assert not (tmp_path / "o").exists()


@pytest.fixture(scope="module")
def binary_run(tmp_path_factory):
    """A 2-class model (no ignored class) trained one epoch on 8 synthetic 32x32 gray pairs."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (8, 32, 32), dtype=np.uint8)
    masks = (images > 127).astype(np.uint8)
    root = tmp_path_factory.mktemp("binary")
    data = write_dataset(root / "data", images, masks, ["train"] * 6 + ["val"] * 2, None)
    meta = json.loads((data / "dataset.json").read_text())
    (data / "dataset.json").write_text(json.dumps({**meta, "num_classes": 2,
                                                   "class_names": ["bg", "membrane"]}))
    train(TrainConfig.from_dict({"data": str(data), "out": str(root / "run"), **{**TINY, "epochs": 1}}))
    return root / "run", images


def test_evaluate_jpeg_folder_with_0_255_masks(binary_run, tmp_path):
    run, images = binary_run
    folder = _folder(tmp_path / "isbi_like", images, np.where(images > 127, 255, 0).astype(np.uint8),
                     ".jpg")
    result = runner.invoke(app, ["evaluate", str(run / "best.pt"), str(folder), "-o", str(tmp_path / "o"),
                                 "--ignore-index", "-1"])
    assert result.exit_code == 0, result.output
    assert "read as 0:0,255:1" in result.stderr and "whole set, 8 pairs" in result.output
    scores = json.loads((tmp_path / "o" / "scores_all_isbi_like.json").read_text())
    assert scores["scored_classes"] == ["bg", "membrane"]  # --ignore-index -1: both count


def test_predict_images_masks_folder_and_training_npz(tiny_run, mars_pairs, tmp_path):
    images, masks = mars_pairs[0][:3], mars_pairs[1][:3]
    folder = _folder(tmp_path / "pairs", images, masks)
    ckpt = str(tiny_run / "best.pt")
    result = runner.invoke(app, ["predict", ckpt, str(folder), "-o", str(tmp_path / "p1"), "--overlay", "none"])
    assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "p1" / "masks" / "f00.png") as mask:
        assert mask.mode == "L" and mask.size == (128, 64)
    np.savez(tmp_path / "train.npz", training_set=np.stack([images, masks], 1))
    result = runner.invoke(app, ["predict", ckpt, str(tmp_path / "train.npz"), "-o", str(tmp_path / "p2"),
                                 "--format", "csv", "--overlay", "none"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "p2" / "submission.csv").read_text().count("\n") == 4


def test_evaluate_unsplit_dataset_folder_scores_the_whole_set(tiny_run, mars_pairs, tmp_path):
    data = write_dataset(tmp_path / "unsplit", mars_pairs[0][:5], mars_pairs[1][:5], [""] * 5)
    result = runner.invoke(app, ["evaluate", str(tiny_run / "best.pt"), str(data), "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "whole set, 5 pairs" in result.output


def test_train_on_a_raw_input_says_to_split_first(mars_pairs, tmp_path):
    np.savez(tmp_path / "raw.npz", training_set=np.stack([mars_pairs[0][:4], mars_pairs[1][:4]], 1))
    folder = _folder(tmp_path / "pairs", mars_pairs[0][:2], mars_pairs[1][:2])
    before = file_bytes(tmp_path)
    for data in (tmp_path / "raw.npz", folder):
        result = runner.invoke(app, ["train", str(data), "-o", str(tmp_path / "run")])
        assert result.exit_code == 1 and "curate split" in result.stderr and "curate run" in result.stderr
    assert file_bytes(tmp_path) == before and not (tmp_path / "run").exists()


def test_evaluate_names_a_colour_mask_and_a_broken_npz(tiny_run, mars_pairs, tmp_path):
    folder = _folder(tmp_path / "coloured", mars_pairs[0][:2], mars_pairs[1][:2])
    colour = np.zeros((64, 128, 3), np.uint8)
    colour[:, :64] = (200, 30, 30)
    Image.fromarray(colour).save(folder / "masks" / "f01.png")
    ckpt = str(tiny_run / "best.pt")
    result = runner.invoke(app, ["evaluate", ckpt, str(folder), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1 and "f01.png is a colour (RGB) mask" in result.stderr
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 truncated")
    result = runner.invoke(app, ["evaluate", ckpt, str(tmp_path / "broken.npz"), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1 and "cannot be read as an .npz" in result.stderr
