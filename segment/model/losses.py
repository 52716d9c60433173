"""Segmentation losses with a functional core: weighted CE, Dice, Tversky, Focal Tversky,
Lovasz-softmax, sums."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from segment.config import loss_terms

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def class_weights(
    pixel_counts: Sequence[int], ignore_index: int | None, mode: str = "balanced", power: float = 1.0
) -> np.ndarray:
    """Per-class CE weights from training-split pixel counts; the ignored class gets weight 0.

    'balanced' is n / (k * n_c) over the k counted classes (scikit-learn's rule), 'sqrt' its
    square root (milder for very rare classes), 'none' all ones. `power` raises the balanced
    weights to that power (0.5 is 'sqrt'). A class absent from training gets 0.
    """
    counts = np.asarray(pixel_counts, dtype=np.float64)
    counted = np.ones(len(counts), dtype=bool)
    if ignore_index is not None:
        counted[ignore_index] = False
    present = counted & (counts > 0)
    weights = np.zeros(len(counts))
    if mode == "none":
        weights[counted] = 1.0
        return weights
    weights[present] = counts[present].sum() / (present.sum() * counts[present])
    return weights ** (0.5 if mode == "sqrt" else power)


def cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    ignore_index: int | None = None,
) -> torch.Tensor:
    """Weighted mean CE over the pixels whose label is not ignore_index. logits (B, K, H, W)."""
    ignore = -100 if ignore_index is None else ignore_index
    return F.cross_entropy(logits.float(), target.long(), weight=weight, ignore_index=ignore)


def tversky_index(
    logits: torch.Tensor,
    target: torch.Tensor,
    alpha: float,
    beta: float,
    ignore_index: int | None = None,
    smooth: float = 1e-6,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Soft Tversky index per class over the batch, and which classes the loss should average.

    TI_c = TP / (TP + alpha * FP + beta * FN) with soft counts from softmax probabilities, summed
    over every pixel whose label is not ignore_index. Returns (index (K,), use (K,) bool): a class
    is used when it is present in the target and is not the ignored class, so that a batch with no
    'big rock' pixel does not push its probability to zero everywhere.
    """
    num_classes = logits.shape[1]
    probs = logits.float().softmax(1)  # (B, K, H, W)
    labels = target.long()
    valid = (labels >= 0) & (labels < num_classes)
    if ignore_index is not None:
        valid &= labels != ignore_index
    labels = torch.where(valid, labels, 0)
    # Soft counts without a one-hot tensor: TP gathers each pixel's probability of its own
    # class; FP and FN follow from the per-class probability mass and the per-class pixel counts.
    p_true = probs.gather(1, labels.unsqueeze(1)).squeeze(1)[valid]  # (P,)
    tp = torch.zeros(num_classes, device=logits.device).index_add(0, labels[valid], p_true)
    prob_mass = (probs * valid.unsqueeze(1)).sum((0, 2, 3))  # (K,) = TP + FP
    count = torch.bincount(labels[valid], minlength=num_classes).float()  # (K,) = TP + FN
    fp, fn = prob_mass - tp, count - tp
    index = (tp + smooth) / (tp + alpha * fp + beta * fn + smooth)
    use = count > 0
    if ignore_index is not None:
        use[ignore_index] = False
    return index, use


def _mean_over(values: torch.Tensor, use: torch.Tensor) -> torch.Tensor:
    if not bool(use.any()):
        return values.sum() * 0.0  # keeps the graph; nothing to learn from this batch
    return values[use].mean()


def tversky_loss(logits, target, alpha=0.3, beta=0.7, ignore_index=None, gamma=1.0):
    """Mean over used classes of (1 - TI_c) ** gamma; gamma != 1 is the Focal Tversky loss."""
    index, use = tversky_index(logits, target, alpha, beta, ignore_index)
    return _mean_over((1 - index).clamp_min(0) ** gamma, use)


def dice_loss(logits, target, ignore_index=None):
    """Soft Dice loss: the Tversky loss with alpha = beta = 0.5."""
    return tversky_loss(logits, target, 0.5, 0.5, ignore_index)


def _lovasz_gradient(fg_sorted: torch.Tensor) -> torch.Tensor:
    """Gradient of the Lovasz extension of the Jaccard loss at errors sorted in decreasing
    order, given the foreground indicator in that order (Berman et al., CVPR 2018, Alg. 1)."""
    total = fg_sorted.sum()
    intersection = total - fg_sorted.cumsum(0)
    union = total + (1.0 - fg_sorted).cumsum(0)
    jaccard = 1.0 - intersection / union
    if len(jaccard) > 1:
        jaccard = torch.cat([jaccard[:1], jaccard[1:] - jaccard[:-1]])
    return jaccard


def lovasz_softmax(logits: torch.Tensor, target: torch.Tensor,
                   ignore_index: int | None = None) -> torch.Tensor:
    """Lovasz-softmax: a convex surrogate of 1 - IoU per class, from softmax probabilities,
    over every pixel of the batch whose label is not ignore_index, averaged over the classes
    present in the target (as Dice/Tversky here: an absent class is not pushed to zero)."""
    num_classes = logits.shape[1]
    probs = logits.float().softmax(1).permute(0, 2, 3, 1).reshape(-1, num_classes)  # (P, K)
    labels = target.long().reshape(-1)
    valid = (labels >= 0) & (labels < num_classes)
    if ignore_index is not None:
        valid &= labels != ignore_index
    probs, labels = probs[valid], labels[valid]
    losses = []
    for c in torch.unique(labels).tolist():
        if c == ignore_index:
            continue
        fg = (labels == c).float()
        errors = (fg - probs[:, c]).abs()
        errors_sorted, order = torch.sort(errors, descending=True)
        losses.append(torch.dot(errors_sorted, _lovasz_gradient(fg[order])))
    if not losses:
        return logits.sum() * 0.0  # keeps the graph; nothing to learn from this batch
    return torch.stack(losses).mean()


def build_loss(
    spec: str,
    weight: torch.Tensor | None = None,
    ignore_index: int | None = None,
    alpha: float = 0.3,
    beta: float = 0.7,
    gamma: float = 0.75,
) -> LossFn:
    """A callable (logits, target) -> scalar summing the terms of a spec like 'ce+dice'."""
    table: dict[str, LossFn] = {
        "ce": lambda lo, t: cross_entropy(lo, t, weight, ignore_index),
        "dice": lambda lo, t: dice_loss(lo, t, ignore_index),
        "tversky": lambda lo, t: tversky_loss(lo, t, alpha, beta, ignore_index),
        "focal_tversky": lambda lo, t: tversky_loss(lo, t, alpha, beta, ignore_index, gamma),
        "lovasz": lambda lo, t: lovasz_softmax(lo, t, ignore_index),
    }
    terms = [table[name] for name in loss_terms(spec)]

    def loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return sum(term(logits, target) for term in terms)

    return loss
