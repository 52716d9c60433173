"""Metrics against a hand-built confusion matrix; the ignored class stays out."""

import numpy as np
import pytest
import torch

from segment.evaluation.metrics import class_scores, confusion_counts, format_table

NAMES = ["background", "a", "b"]
# rows = true, columns = predicted
CONF = np.array([
    [50, 5, 5],  # unlabelled pixels (ignored class)
    [2, 8, 2],  # class a: 12 pixels, 8 right
    [0, 4, 16],  # class b: 20 pixels, 16 right
])


def test_confusion_counts_by_hand():
    target = torch.tensor([0, 1, 1, 2, 2, 2, 7])  # 7 is outside 0..2 and is skipped
    pred = torch.tensor([0, 1, 2, 2, 2, 0, 1])
    expected = [[1, 0, 0], [0, 1, 1], [1, 0, 2]]
    assert confusion_counts(pred, target, 3).tolist() == expected


def test_scores_by_hand_with_void_pixels_dropped():
    s = class_scores(CONF, NAMES, ignore_index=0)
    # a: tp 8, predicted a (labelled rows only) 8 + 4 = 12, true a 12
    assert s.precision[1] == pytest.approx(8 / 12)
    assert s.recall[1] == pytest.approx(8 / 12)
    assert s.iou[1] == pytest.approx(8 / 16)
    # b: tp 16, predicted 2 + 16 = 18, true 20 -> IoU 16 / 22
    assert s.iou[2] == pytest.approx(16 / 22)
    assert s.f1[2] == pytest.approx(32 / 38)
    assert s.mean_iou == pytest.approx((8 / 16 + 16 / 22) / 2)
    assert s.scored == [1, 2]


def test_background_truly_excluded_from_mean():
    changed = CONF.copy()
    changed[0] = [0, 1000, 1000]  # whatever the model says on unlabelled pixels
    changed[1, 0] = 2  # predicting background on a labelled pixel still is a miss
    a = class_scores(CONF, NAMES, ignore_index=0).mean_iou
    b = class_scores(changed, NAMES, ignore_index=0).mean_iou
    assert a == pytest.approx(b)


def test_strict_mode_counts_predictions_on_unlabelled_pixels():
    s = class_scores(CONF, NAMES, ignore_index=0, void_pixels=False)
    assert s.iou[1] == pytest.approx(8 / (12 + 17 - 8))
    assert s.mean_iou < class_scores(CONF, NAMES, ignore_index=0).mean_iou


def test_no_ignore_index_scores_every_class():
    s = class_scores(CONF, NAMES, ignore_index=None)
    assert s.scored == [0, 1, 2]
    assert s.iou[0] == pytest.approx(50 / (60 + 52 - 50))


def test_absent_class_is_nan_and_left_out_of_mean():
    conf = np.array([[0, 0, 0], [0, 5, 0], [0, 0, 0]])
    s = class_scores(conf, NAMES, ignore_index=0)
    assert np.isnan(s.iou[2]) and s.mean_iou == 1.0
    assert s.to_dict()["per_class"]["b"]["iou"] is None


def test_table_layout():
    text = format_table(class_scores(CONF, NAMES, ignore_index=0))
    assert text.splitlines()[0].split() == ["Class", "Precision", "Recall", "F1", "IoU"]
    assert "(not scored)" in text.splitlines()[1]
    assert text.splitlines()[-1].startswith("Mean IoU") and "0.6136" in text
