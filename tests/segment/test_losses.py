"""Losses against hand-computed values; the ignored class truly has no effect."""

import math

import numpy as np
import pytest
import torch

from segment.model.losses import (
    build_loss, class_weights, cross_entropy, dice_loss, lovasz_softmax, tversky_loss,
)


def probs_to_logits(p):
    return torch.log(torch.tensor(p, dtype=torch.float32))


# 1 image, 2 classes, 1x2 pixels: pixel A p=(0.8, 0.2) label 0, pixel B p=(0.4, 0.6) label 1.
LOGITS = probs_to_logits([[[[0.8, 0.4]], [[0.2, 0.6]]]])  # (1, 2, 1, 2)
TARGET = torch.tensor([[[0, 1]]])  # (1, 1, 2)


def test_cross_entropy_unweighted_is_mean_negative_log_likelihood():
    expected = -(math.log(0.8) + math.log(0.6)) / 2
    assert cross_entropy(LOGITS, TARGET).item() == pytest.approx(expected, rel=1e-5)


def test_cross_entropy_weighted_mean_divides_by_weight_sum():
    w = torch.tensor([1.0, 3.0])
    expected = -(1 * math.log(0.8) + 3 * math.log(0.6)) / 4
    assert cross_entropy(LOGITS, TARGET, w).item() == pytest.approx(expected, rel=1e-5)


def test_cross_entropy_ignore_index_drops_those_pixels():
    assert cross_entropy(LOGITS, TARGET, ignore_index=0).item() == pytest.approx(-math.log(0.6), rel=1e-5)


def test_dice_by_hand():
    # dice = 2tp / (2tp + fp + fn). class 0: tp 0.8, fp 0.4, fn 0.2; class 1: tp 0.6, fp 0.2, fn 0.4
    expected = 1 - (1.6 / 2.2 + 1.2 / 1.8) / 2
    assert dice_loss(LOGITS, TARGET).item() == pytest.approx(expected, rel=1e-4)


def test_tversky_and_focal_tversky_by_hand():
    a, b = 0.3, 0.7
    ti0 = 0.8 / (0.8 + a * 0.4 + b * 0.2)
    ti1 = 0.6 / (0.6 + a * 0.2 + b * 0.4)
    assert tversky_loss(LOGITS, TARGET, a, b).item() == pytest.approx(1 - (ti0 + ti1) / 2, rel=1e-4)
    focal = ((1 - ti0) ** 0.75 + (1 - ti1) ** 0.75) / 2
    assert tversky_loss(LOGITS, TARGET, a, b, gamma=0.75).item() == pytest.approx(focal, rel=1e-4)


def test_dice_with_ignore_index_scores_only_labelled_pixels_and_classes():
    # Only pixel B counts (label 1), only class 1 is averaged: tp 0.6, fp 0, fn 0.4.
    assert dice_loss(LOGITS, TARGET, ignore_index=0).item() == pytest.approx(1 - 1.2 / 1.6, rel=1e-4)


def test_sum_of_terms_is_the_sum():
    total = build_loss("ce+dice+tversky")(LOGITS, TARGET).item()
    parts = cross_entropy(LOGITS, TARGET) + dice_loss(LOGITS, TARGET) + tversky_loss(LOGITS, TARGET)
    assert total == pytest.approx(parts.item(), rel=1e-5)


@pytest.mark.parametrize("spec", ["ce", "dice", "tversky", "focal_tversky", "ce+dice"])
def test_background_pixels_have_no_effect(spec):
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 5, 8, 8, generator=gen)
    target = torch.randint(0, 5, (2, 8, 8), generator=gen)
    weight = torch.tensor(class_weights(np.bincount(target.flatten(), minlength=5), 0))
    loss = build_loss(spec, weight.float(), ignore_index=0)
    changed = logits.clone().permute(0, 2, 3, 1)  # (B, H, W, K) view
    background = target == 0
    changed[background] = 10 * torch.randn(int(background.sum()), 5, generator=gen)
    changed = changed.permute(0, 3, 1, 2)
    assert loss(changed, target).item() == pytest.approx(loss(logits, target).item(), rel=1e-5)


def test_balanced_weights_by_hand_and_background_zero():
    w = class_weights([1000, 60, 30, 10], ignore_index=0)
    # n = 100 over 3 counted classes: 100 / (3 * n_c)
    np.testing.assert_allclose(w, [0.0, 100 / 180, 100 / 90, 100 / 30])
    assert class_weights([5, 0, 10], ignore_index=None).tolist() == [1.5, 0.0, 0.75]
    np.testing.assert_allclose(class_weights([1000, 60, 30, 10], 0, "sqrt"), np.sqrt(w))
    np.testing.assert_allclose(class_weights([1000, 60, 30, 10], 0, power=0.75), w**0.75)


def test_lovasz_by_hand():
    # class 0: errors (A 0.2 fg, B 0.4 bg), sorted B, A; Jaccard steps 0.5, 0.5 -> 0.3.
    # class 1: errors (A 0.2 bg, B 0.4 fg), sorted B, A; steps 1, 0 -> 0.4. Mean 0.35.
    assert lovasz_softmax(LOGITS, TARGET).item() == pytest.approx(0.35, rel=1e-5)
    assert lovasz_softmax(LOGITS, TARGET, ignore_index=0).item() == pytest.approx(0.4, rel=1e-5)


def test_lovasz_at_hard_predictions_is_one_minus_iou():
    """At one-hot probabilities the Lovasz extension equals the Jaccard loss it extends."""
    gen = torch.Generator().manual_seed(0)
    target = torch.randint(0, 3, (2, 8, 8), generator=gen)
    pred = torch.randint(0, 3, (2, 8, 8), generator=gen)
    logits = torch.nn.functional.one_hot(pred, 3).permute(0, 3, 1, 2).float() * 100
    iou = [((pred == c) & (target == c)).sum() / ((pred == c) | (target == c)).sum() for c in range(3)]
    expected = 1 - torch.stack(iou).float().mean().item()
    assert lovasz_softmax(logits, target).item() == pytest.approx(expected, rel=1e-5)
    assert build_loss("lovasz")(logits, target).item() == pytest.approx(expected, rel=1e-5)


def test_lovasz_has_a_gradient_and_is_zero_when_right():
    logits = LOGITS.clone().requires_grad_(True)
    lovasz_softmax(logits, TARGET).backward()
    assert logits.grad.abs().sum() > 0
    right = torch.tensor([[[[50.0, -50.0]], [[-50.0, 50.0]]]])
    assert lovasz_softmax(right, TARGET).item() == pytest.approx(0.0, abs=1e-6)
