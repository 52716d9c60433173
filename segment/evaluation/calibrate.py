"""`segment calibrate`: per-class logit biases of a checkpoint, tuned on a labelled split
(segment/evaluation/class_bias.py explains the search), written as a small JSON file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from curate.io.outputs import guard_output, write_json
from segment.model import checkpoints
from segment.evaluation import inference
from segment import device as devices_of
from segment.evaluation.class_bias import MAX_PIXELS, SEED, BiasFit, log_probs, sample_pixels, tune
from segment.config import inference_batch_size
from segment.errors import InputError
from segment.data.file_stack import gather, size_groups
from segment.evaluation.scores import LabelOptions, labelled_pairs, scored_ignore_index
from curate.io.raw import check_exists, raw_kind


@dataclass
class Calibration:
    fit: BiasFit
    title: str                  # "val split" or "whole set, N pairs"
    path: Path
    class_names: list[str]
    notes: list[str]


def calibrate(checkpoint: str | Path, data: str | Path, out: str | Path,
              split: str | None = "val", device: str = "auto", tta: bool = False,
              force: bool = False, options: LabelOptions | None = None) -> Calibration:
    """Tune the biases on `split` of `data` (the whole set for raw inputs: split=None) and
    write them to `out` (.json; never over an input, an existing file only with `force`)."""
    options = options or LabelOptions()
    out = Path(out)
    check_exists(data)
    guard_output(out, [data, checkpoint], force, what="bias file")
    if out.suffix != ".json":
        raise InputError(f"-o {out}: the biases are written as a .json file; give a name "
                         "ending in .json")
    if raw_kind(data) is not None:
        split = None
    saved = checkpoints.load_checkpoint(checkpoint)
    meta = saved.meta
    ignore = scored_ignore_index(meta, options)
    images, masks, title, notes, _ = labelled_pairs(meta, data, split, options)
    scores, labels = _sampled(saved, images, masks, ignore, device, tta)
    if not len(labels):
        raise InputError(f"{title} of {data} has no labelled pixels to tune on")
    fit = tune(scores, labels, meta.class_names, ignore, meta.ignore_index)
    payload = {"checkpoint": str(checkpoint), "data": str(data), "split": split or "all",
               "pairs": len(masks), **({"tta": "hflip"} if tta else {}),
               **fit.to_dict(meta.class_names)}
    write_json(out, payload)
    return Calibration(fit, title, out, list(meta.class_names), notes)


def _sampled(saved: checkpoints.Checkpoint, images, masks, ignore, device, tta) -> tuple[np.ndarray, np.ndarray]:
    """(P, K) log-probabilities and (P,) true labels of at most ~MAX_PIXELS labelled pixels."""
    labelled = sum(int(m.size - (np.count_nonzero(m == ignore) if ignore is not None else 0))
                   for m in masks)
    rate = min(1.0, MAX_PIXELS / max(labelled, 1))
    rng = np.random.default_rng(SEED)
    dev = devices_of.select_device(device)
    model = checkpoints.model_from_checkpoint(saved, dev)
    parts_s, parts_l = [], []
    for indices in size_groups(images):
        stack, true = gather(images, indices), gather(masks, indices)
        size = inference_batch_size(*stack.shape[-2:])
        for where, out in inference.outputs(model, stack, saved.meta.normalization, dev, size,
                                            tta=tta):
            s, lab = sample_pixels(log_probs(out, tta).cpu(), true[where], ignore, rate, rng)
            parts_s.append(s)
            parts_l.append(lab)
    k = saved.meta.num_classes
    return (np.concatenate(parts_s) if parts_s else np.zeros((0, k), np.float32),
            np.concatenate(parts_l) if parts_l else np.zeros(0, np.int64))
