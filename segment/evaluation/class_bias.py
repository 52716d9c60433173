"""Per-class logit bias tuned on a labelled split, after training.

A model trained with a rare class drawn more often (or weighted up) predicts it too often; one
trained without predicts it too rarely. Adding a constant to each class's log-probability
before the argmax moves that trade without retraining. `calibrate` collects the model's
log-probabilities on a split (the val split by default: tuning on test would make the test
score a fit), then searches the biases class by class on a grid (coordinate ascent, a few
rounds) for the highest mean IoU over the scored classes; the pixels whose true label is the
ignore class are left out, as `class_scores` leaves them out. The checkpoint's ignored class
is left out of the search and of every biased argmax (its channel was never trained, and
predicting it on a labelled pixel abstains: it removes a false positive at the price of a
miss, which the mean IoU rewards, so the search once pushed it up by 4). Starting from zero,
a round never lowers the split's mean IoU. The result is a small JSON file that
`segment evaluate --class-bias` and `segment predict --class-bias` apply.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from segment.errors import InputError
from segment.evaluation.metrics import ClassScores, class_scores

GRID = np.round(np.arange(-4.0, 4.01, 0.25), 2)   # candidate biases, log-probability units
ROUNDS = 3
MAX_PIXELS = 2_000_000   # labelled pixels kept for the search (a seeded sample beyond it)
SEED = 0


@dataclass
class BiasFit:
    bias: np.ndarray            # (K,) added to the log-probabilities
    before: ClassScores         # on the sampled pixels, bias 0
    after: ClassScores          # on the sampled pixels, with the bias
    pixels: int                 # labelled pixels the search used

    def to_dict(self, class_names: list[str]) -> dict:
        return {
            "class_bias": [round(float(b), 2) for b in self.bias],
            "class_names": list(class_names),
            "pixels": self.pixels,
            "mean_iou_before": round(self.before.mean_iou, 4),
            "mean_iou_after": round(self.after.mean_iou, 4),
            "iou_before": _ious(self.before, class_names),
            "iou_after": _ious(self.after, class_names),
        }


def _ious(scores: ClassScores, class_names: list[str]) -> dict[str, float | None]:
    return {name: (None if np.isnan(v) else round(float(v), 4))
            for name, v in zip(class_names, scores.iou)}


def log_probs(logits: torch.Tensor, tta: bool) -> torch.Tensor:
    """(B, K, H, W) log-probabilities from the model's output as `predict_batches` holds it:
    logits, or with `tta` the sum of two softmaxes."""
    if tta:
        return (logits.float() / 2).clamp_min(1e-12).log()
    return logits.float().log_softmax(1)


def without_class(bias: np.ndarray, untrained: int | None) -> np.ndarray:
    """`bias` (K,) as float32 with -inf for class `untrained` (the checkpoint's ignore_index),
    so that an argmax over biased log-probabilities never picks it."""
    shift = np.asarray(bias, dtype=np.float32).copy()
    if untrained is not None:
        shift[untrained] = -np.inf
    return shift


def tune(scores: np.ndarray, labels: np.ndarray, class_names: list[str],
         ignore_index: int | None, untrained: int | None = None) -> BiasFit:
    """Biases for (P, K) log-probabilities of P labelled pixels with true `labels` (P,);
    class `untrained` (the checkpoint's ignore_index) is never searched nor predicted."""
    k = scores.shape[1]
    bias = np.zeros(k)
    scores = scores + without_class(np.zeros(k), untrained)
    before = _scores(scores, labels, bias, class_names, ignore_index)
    best = before.mean_iou
    for _ in range(ROUNDS):
        moved = False
        for c in (c for c in range(k) if c != untrained):
            for value in GRID:
                trial = bias.copy()
                trial[c] = value
                miou = _scores(scores, labels, trial, class_names, ignore_index).mean_iou
                if miou > best + 1e-9:
                    best, bias, moved = miou, trial, True
        if not moved:
            break
    after = _scores(scores, labels, bias, class_names, ignore_index)
    return BiasFit(bias, before, after, len(labels))


def _scores(scores, labels, bias, class_names, ignore_index) -> ClassScores:
    k = scores.shape[1]
    pred = (scores + bias.astype(np.float32)).argmax(axis=1)
    conf = np.bincount(labels * k + pred, minlength=k * k).reshape(k, k)
    return class_scores(conf, class_names, ignore_index)


def sample_pixels(batch_scores: torch.Tensor, masks: np.ndarray, ignore_index: int | None,
                  rate: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(P, K) log-probabilities and (P,) labels of a seeded share `rate` of a batch's
    labelled pixels (those whose true label is not the ignore class)."""
    k = batch_scores.shape[1]
    flat = batch_scores.permute(0, 2, 3, 1).reshape(-1, k).numpy()
    labels = masks.reshape(-1).astype(np.int64)
    keep = labels != ignore_index if ignore_index is not None else np.ones(len(labels), bool)
    if rate < 1.0:
        keep &= rng.random(len(labels)) < rate
    return flat[keep].astype(np.float32), labels[keep]


def read_bias(path: str | Path, class_names: list[str]) -> np.ndarray:
    """The (K,) biases of a `segment calibrate` file, checked against the checkpoint's classes."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        bias = np.asarray(data["class_bias"], dtype=np.float64)
        names = list(data["class_names"])
    except FileNotFoundError:
        raise InputError(f"--class-bias {path} does not exist; write it with "
                         "`segment calibrate CKPT DATA -o FILE.json`") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"--class-bias {path} is not a `segment calibrate` file "
                         f"({type(exc).__name__}: {exc})") from None
    if names != list(class_names) or bias.shape != (len(class_names),):
        raise InputError(f"--class-bias {path} was tuned for the classes {names}; this "
                         f"checkpoint has {list(class_names)}")
    return bias
