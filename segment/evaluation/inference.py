"""Batched inference over a whole split: predicted labels batch by batch, and the confusion
counts of a model on a split (used by train, evaluate and crossval)."""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch

from segment.evaluation.class_bias import log_probs
from segment.config import inference_batch_size
from segment.data.folder import to_input
from segment.evaluation.metrics import confusion_counts
from segment import precision
from segment.model.checkpoints import RunMeta


@torch.no_grad()
def predict_batches(
    model: torch.nn.Module,
    images: np.ndarray,
    norm: dict[str, list[float]],
    device: torch.device,
    batch_size: int = 64,
    channels_last: bool = False,
    tta: bool = False,
    bias: np.ndarray | None = None,
) -> Iterator[tuple[slice, torch.Tensor]]:
    """Yield (index slice, predicted labels (B, H, W) uint8 on CPU) over images (N, C, H, W).

    With `tta`, the class probabilities are the mean of the image's and its left-right
    mirror's (mirrored back): the flip the training augmentation uses. With `bias` (K,), the
    label is the argmax of the log-probabilities plus the bias (`segment calibrate`).
    """
    for where, out in outputs(model, images, norm, device, batch_size, channels_last, tta):
        if bias is not None:
            shift = torch.as_tensor(bias, dtype=torch.float32, device=out.device)
            out = log_probs(out, tta) + shift.view(1, -1, 1, 1)
        yield where, out.argmax(1).to("cpu", torch.uint8)


@torch.no_grad()
def outputs(model, images, norm, device, batch_size=64, channels_last=False,
            tta=False) -> Iterator[tuple[slice, torch.Tensor]]:
    """Yield (index slice, model output (B, K, H, W) on `device`): the logits, or with `tta`
    the sum of the softmax of the image and of its mirror (mirrored back)."""
    model.eval()
    for start in range(0, len(images), batch_size):
        part = torch.from_numpy(images[start : start + batch_size]).to(device)
        x = to_input(part, norm)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with precision.autocast(device, precision.uses_amp(device, True)):
            logits = model(x)
            if tta:  # (B, C, H, W): average the softmax of x and of x mirrored along W
                mirrored = model(x.flip(-1)).flip(-1)
                logits = logits.float().softmax(1) + mirrored.float().softmax(1)
        yield slice(start, start + len(part)), logits


def split_confusion(model, images, masks, meta: RunMeta, device, channels_last=False,
                    tta: bool = False) -> np.ndarray:
    """(K, K) confusion counts of a model over a whole split, accumulated batch by batch."""
    k = meta.num_classes
    conf = torch.zeros(k, k, dtype=torch.int64)
    size = inference_batch_size(*images.shape[-2:])
    batches = predict_batches(model, images, meta.normalization, device, size, channels_last,
                              tta)
    for where, pred in batches:
        conf += confusion_counts(pred, torch.from_numpy(masks[where]), k)
    return conf.numpy()
