"""Score a checkpoint on one split of a dataset folder: per-class table, JSON, confusion PNG."""

from __future__ import annotations

from pathlib import Path

from segment import runtime
from segment.data import load_dataset, load_split
from segment.errors import InputError
from segment.metrics import ClassScores, class_scores
from segment.train import split_confusion


def evaluate(
    checkpoint: str | Path,
    data: str | Path,
    split: str = "test",
    device: str = "auto",
    out: str | Path | None = None,
    void_pixels: bool = True,
) -> ClassScores:
    """Confusion counts over the whole split, then per-class precision/recall/F1/IoU.

    With `out`, writes scores_<split>.json and confusion_<split>.png there.
    """
    state = runtime.load_checkpoint(checkpoint)
    info = load_dataset(data)
    if info.num_classes != state["num_classes"]:
        raise InputError(
            f"{data} has {info.num_classes} classes but the checkpoint was trained on "
            f"{state['num_classes']} ({', '.join(state['class_names'])})"
        )
    mode = "L" if state["spec"]["in_channels"] == 1 else "RGB"
    images, masks, _ = load_split(info, split, mode)
    dev = runtime.select_device(device)
    model = runtime.model_from_checkpoint(state, dev)
    conf = split_confusion(model, images, masks, state, dev)
    scores = class_scores(conf, state["class_names"], state["ignore_index"], void_pixels)
    if out is not None:
        from segment import plots

        out = Path(out)
        payload = {"checkpoint": str(checkpoint), "data": str(data), "split": split,
                   "epoch": state["epoch"], "void_pixels": void_pixels, **scores.to_dict()}
        runtime.write_json(out / f"scores_{split}.json", payload)
        plots.confusion_matrix(conf, state["class_names"], out / f"confusion_{split}.png")
    return scores
