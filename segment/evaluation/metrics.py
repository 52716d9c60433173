"""Confusion counts accumulated over a whole split, and the per-class scores derived from them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


def confusion_counts(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(K, K) int64 counts, rows = true class, columns = predicted; labels outside 0..K-1 skipped."""
    target = target.reshape(-1).long()
    pred = pred.reshape(-1).long()
    keep = (target >= 0) & (target < num_classes)
    flat = target[keep] * num_classes + pred[keep]
    return torch.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)


@dataclass
class ClassScores:
    """Per-class precision, recall, F1 and IoU plus mean IoU over the scored classes."""

    class_names: list[str]
    scored: list[int]  # the classes that enter the mean (all but ignore_index by default)
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    iou: np.ndarray
    mean_iou: float
    confusion: np.ndarray

    def to_dict(self) -> dict:
        per_class = {
            name: {
                "precision": _num(self.precision[c]),
                "recall": _num(self.recall[c]),
                "f1": _num(self.f1[c]),
                "iou": _num(self.iou[c]),
                "support": int(self.confusion[c].sum()),
                "scored": c in self.scored,
            }
            for c, name in enumerate(self.class_names)
        }
        return {
            "mean_iou": _num(self.mean_iou),
            "scored_classes": [self.class_names[c] for c in self.scored],
            "per_class": per_class,
            "confusion": self.confusion.tolist(),
        }


def _num(x: float) -> float | None:
    return None if np.isnan(x) else round(float(x), 6)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.maximum(den, 1), np.nan)


def class_scores(
    confusion: np.ndarray | torch.Tensor,
    class_names: list[str],
    ignore_index: int | None = None,
    void_pixels: bool = True,
) -> ClassScores:
    """Scores from a (K, K) confusion matrix.

    With ignore_index set, that class is left out of the mean; with void_pixels (the default) the
    pixels whose *true* label is ignore_index are also dropped (they are unlabelled, so predicting
    anything there is neither right nor wrong). void_pixels=False keeps them, so predicting class
    c on an unlabelled pixel counts as a false positive of c (a stricter, Kaggle-style reading).
    """
    conf = np.asarray(confusion, dtype=np.float64).copy()
    k = conf.shape[0]
    if ignore_index is not None and void_pixels:
        conf[ignore_index, :] = 0
    tp = np.diag(conf)
    pred_total, true_total = conf.sum(0), conf.sum(1)
    precision = _ratio(tp, pred_total)
    recall = _ratio(tp, true_total)
    f1 = _ratio(2 * tp, pred_total + true_total)
    iou = _ratio(tp, pred_total + true_total - tp)
    scored = [c for c in range(k) if c != ignore_index]
    valid = [c for c in scored if not np.isnan(iou[c])]
    mean_iou = float(np.mean(iou[valid])) if valid else float("nan")
    return ClassScores(
        list(class_names), scored, precision, recall, f1, iou, mean_iou,
        np.asarray(confusion, dtype=np.int64),
    )


def format_table(scores: ClassScores, title: str = "") -> str:
    """The per-class table in the course-report layout: Class | Precision | Recall | F1 | IoU."""
    width = max(12, *(len(n) for n in scores.class_names))
    lines = [title] if title else []
    lines.append(f"{'Class':<{width}}  Precision  Recall     F1         IoU")
    for c, name in enumerate(scores.class_names):
        cells = [scores.precision[c], scores.recall[c], scores.f1[c], scores.iou[c]]
        text = "  ".join(f"{'-':<9}" if np.isnan(v) else f"{v:<9.4f}" for v in cells)
        mark = "" if c in scores.scored else "  (not scored)"
        lines.append(f"{name:<{width}}  {text}{mark}")
    names = ",".join(str(c) for c in scores.scored)
    lines.append(f"{'Mean IoU':<{width}}  {scores.mean_iou:.4f}  (classes {names})")
    return "\n".join(lines)
