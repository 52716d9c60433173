"""Score a checkpoint on a dataset folder's split, or on a whole labelled set (curated or raw):
per-class table, JSON, confusion PNG."""

from __future__ import annotations

import json
import re

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from curate.io.label_maps import (VOID, VOID_GAP, LabelWords, complete_map, format_map,
                                  map_labels)
from curate.io.outputs import OutputError, check_free, check_not_input, write_json
from curate.io.raw import check_exists, raw_kind, read_raw
from segment.model import checkpoints
from segment.model.checkpoints import RunMeta
from segment.data.folder import load_dataset, load_split, read_image, read_mask, to_mode
from segment.data.file_stack import FileStack
from segment.evaluation.class_bias import read_bias
from segment.errors import InputError
from segment.evaluation.metrics import ClassScores, class_scores
from segment.evaluation.metrics import confusion_counts
from segment.evaluation.predict import predict_masks
from segment.evaluation.rare_errors import check_class, rarest_class, write_rare_errors

WHOLE = "all"  # scores_all_<input>.json / confusion_all_<input>.png: a set scored whole


@dataclass
class LabelOptions:
    """How to read raw masks: num_classes None = the checkpoint's; ignore_index a class or None
    for none, used when ignore_from_checkpoint is False (by default the checkpoint's)."""

    label_map: dict[int, int] | None = None
    num_classes: int | None = None
    ignore_index: int | None = None
    ignore_from_checkpoint: bool = True

    @classmethod
    def from_words(cls, words: LabelWords) -> LabelOptions:
        """The options --label-map, --num-classes and --ignore-index gave (curate reads the
        same words the same way): no --ignore-index keeps the checkpoint's, -1 is none."""
        return cls(words.label_map, words.num_classes, words.ignore_index,
                   ignore_from_checkpoint=not words.ignore_given)


@dataclass
class Evaluation:
    scores: ClassScores
    title: str  # "test split" or "whole set, 40 pairs"
    name: str  # the file name part: test, val, train or all
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def output_name(data: str | Path, split: str | None) -> str:
    """The name part of evaluate's files: the split, or for a set scored whole `all_` and the
    input's name (scores_all_mars.json), so scoring a second set does not replace the first."""
    if split is not None:
        return split
    stem = Path(data).resolve().stem if Path(data).is_file() else Path(data).resolve().name
    return f"{WHOLE}_" + (re.sub(r"[^A-Za-z0-9._-]+", "_", stem) or "data")


def check_earlier(scores: Path, data: str | Path) -> None:
    """Refuse to replace an earlier evaluation's files that score another input: a rerun on the
    same input replaces its own files, another set needs -o another folder or --force."""
    if not scores.is_file():
        return
    try:
        earlier = json.loads(scores.read_text()).get("data")
    except (OSError, ValueError, AttributeError):
        earlier = None
    if earlier is not None and Path(earlier).resolve() == Path(data).resolve():
        return
    raise OutputError(
        f"{scores} holds the scores of {earlier or 'another evaluation'}; scoring {data} "
        "would replace them (and the confusion and rare-class files beside them): give -o "
        "another folder, or pass --force to replace them")


def default_split(data: str | Path) -> str | None:
    """'test' for a split dataset folder; None (the whole set) for raw or unsplit inputs."""
    if raw_kind(data) is not None:
        return None
    manifest = Path(data) / "manifest.csv"
    if manifest.is_file() and (Path(data) / "dataset.json").is_file():
        info = load_dataset(data)
        if "split" not in info.manifest.columns or not (info.manifest["split"] != "").any():
            return None
    return "test"


def _curated_whole(info, mode: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Every pair of an unsplit dataset folder; labels checked against num_classes."""
    images = [read_image(info.root / p, mode) for p in info.manifest["image"]]
    masks = [read_mask(info.root / p) for p in info.manifest["mask"]]
    top = max((int(m.max()) for m in masks if m.size), default=0)
    if top >= info.num_classes:
        raise InputError(f"{info.root}: masks hold label {top} but num_classes is "
                         f"{info.num_classes}; remap the labels or fix dataset.json")
    return images, masks


def _check_top_label(masks: list[np.ndarray], k: int, raw_masks: list[np.ndarray],
                     ignore: int | None, given: dict[int, int] | None) -> None:
    """Refuse labels outside the checkpoint's 0..k-1 after mapping, naming the raw values and
    a whole --label-map that reads them (one the merge check accepts)."""
    top = max((int(m.max()) for m in masks if m.size), default=0)
    if top >= k:
        present = sorted({int(v) for m in raw_masks for v in np.unique(m)})
        shown = ", ".join(map(str, present[:12]))
        raise InputError(
            f"the masks hold label {top} after mapping, but the checkpoint has {k} "
            f"classes (0..{k - 1}); raw values found: {shown}. {_map_hint(present, k, ignore, given)}"
        )


def _map_hint(present: list[int], k: int, ignore: int | None,
              given: dict[int, int] | None) -> str:
    """A full map for the raw values: the given one completed, 255 ('no label' next to small
    labels) sent to the ignored class, the other values numbered in order."""
    start = dict(given or {})
    others = [v for v in present if v != VOID]
    if (VOID in present and VOID not in start and ignore is not None
            and max(others, default=0) < VOID_GAP):
        start[VOID] = ignore
    full = complete_map(start, present)
    if max(full.values()) < k:
        why = (f" ({VOID} looks like 'no label': it goes to class {ignore}, the class the "
               "checkpoint ignores; the other values keep their order)" if start.get(VOID) == ignore
               and VOID not in (given or {}) else "")
        return f"Pass --label-map {format_map(full)} to read them{why}"
    return (f"There are {len(present)} raw values for {k} classes: pass --label-map "
            "RAW:LABEL,... listing every raw value, those of one class sent to one label")


def labelled_pairs(meta: RunMeta, data: str | Path, split: str | None, options: LabelOptions):
    """What a checkpoint of `meta` is scored on: images (C, H, W) and label masks (H, W) as lists (FileStacks for a split held by
    reference), the title, notes and pair ids."""
    mode, k = meta.image_mode, meta.num_classes
    if raw_kind(data) is not None:
        if split is not None:
            raise InputError(f"{data} is {raw_kind(data)}, which has no splits; leave out --split "
                             "to score the whole set, or run `curate split` first")
        raw = read_raw(data)
        masks, notes = map_labels(raw.masks, options.label_map)
        _check_top_label(masks, k, raw.masks, meta.ignore_index, options.label_map)
        images = [to_mode(image, mode) for image in raw.images]
        return images, masks, f"whole set, {len(masks)} pairs", raw.notes + notes, raw.ids
    if options.label_map is not None or options.num_classes is not None:
        raise InputError(f"{data} is a curated dataset folder: its dataset.json gives the classes; "
                         "--label-map and --num-classes apply to raw inputs (.npz, images/ + masks/)")
    info = load_dataset(data)
    if info.num_classes != k:
        raise InputError(
            f"{data} has {info.num_classes} classes but the checkpoint was trained on "
            f"{k} ({', '.join(meta.class_names)})"
        )
    if split is None:
        images, masks = _curated_whole(info, mode)
        return images, masks, f"whole set, {len(masks)} pairs", [], list(info.manifest["id"])
    images, masks, ids = load_split(info, split, mode)
    if isinstance(images, FileStack):  # a list would decode the whole split; it is indexed alike
        return images, masks, f"{split} split", [], ids
    return list(images), list(masks), f"{split} split", [], ids


def _confusion(preds: list[np.ndarray], masks: list[np.ndarray], k: int) -> np.ndarray:
    """Confusion counts summed over the pairs (raw sets may mix image sizes)."""
    conf = torch.zeros(k, k, dtype=torch.int64)
    for pred, mask in zip(preds, masks):
        # np.require copies read-only arrays (masks read from PNG), which torch cannot wrap.
        conf += confusion_counts(torch.from_numpy(np.require(pred, requirements="W")),
                                 torch.from_numpy(np.require(mask, requirements="W")), k)
    return conf.numpy()


def scored_ignore_index(meta: RunMeta, options: LabelOptions) -> int | None:
    """The class left out of the scores: the checkpoint's, or --ignore-index."""
    if options.ignore_from_checkpoint and options.ignore_index is None:
        return meta.ignore_index
    ignore = options.ignore_index
    if ignore is not None and not 0 <= ignore < meta.num_classes:
        raise InputError(f"--ignore-index {ignore} is not a class of the checkpoint "
                         f"(0..{meta.num_classes - 1}); use -1 for none")
    return ignore


def evaluate_set(
    checkpoint: str | Path,
    data: str | Path,
    split: str | None = "test",
    device: str = "auto",
    out: str | Path | None = None,
    void_pixels: bool = True,
    options: LabelOptions | None = None,
    tta: bool = False,
    rare_class: int | None = None,
    class_bias: str | Path | None = None,
    force: bool = False,
) -> Evaluation:
    """Confusion counts over a split (or the whole set, split=None), then per-class scores.

    `data` is a dataset folder, an AN2DL .npz or an images/ + masks/ folder. With `out`,
    writes scores_<name>.json and confusion_<name>.png there (see `output_name`; never into,
    over or around `data` or the checkpoint; an earlier evaluation's files of the same name
    that score another input only with `force`, see `check_earlier`), and the rare-class error view: rare_errors_<name>.csv
    (per image, false-positive and missed pixels of `rare_class`, default the rarest class of
    the checkpoint's training split) and rare_errors_<name>.png (the worst images).
    `tta` adds the mirrored image's prediction; `class_bias` applies a `segment calibrate`
    file (per-class log-probability biases).
    """
    options = options or LabelOptions()
    check_exists(data)
    name = output_name(data, split)
    files = [] if out is None else [Path(out) / f"scores_{name}.json", Path(out) / f"confusion_{name}.png",
                                    Path(out) / f"rare_errors_{name}.csv", Path(out) / f"rare_errors_{name}.png"]
    if out is not None:
        # The folder may hold the checkpoint (its default), never be or surround the data.
        check_not_input(out, [data, class_bias], "scores folder")
    for f in files:
        check_not_input(f, [data, checkpoint, class_bias], "scores file")
    if out is not None:
        check_free(out, True, "folder")
    for f in files:
        check_free(f, True)  # a folder of that name is refused even with --force
    if files and not force:
        check_earlier(files[0], data)
    saved = checkpoints.load_checkpoint(checkpoint)
    meta = saved.meta
    if options.num_classes is not None and options.num_classes != meta.num_classes:
        raise InputError(f"--num-classes {options.num_classes} differs from the checkpoint's "
                         f"{meta.num_classes} ({', '.join(meta.class_names)}); leave it out "
                         "or map the labels onto the checkpoint's classes with --label-map")
    ignore = scored_ignore_index(meta, options)
    if rare_class is None:
        rare_class = rarest_class(meta.train_pixel_counts, meta.ignore_index)
    check_class(rare_class, meta.class_names, ignore)
    bias = None if class_bias is None else read_bias(class_bias, meta.class_names)
    images, masks, title, notes, ids = labelled_pairs(meta, data, split, options)
    preds = predict_masks(saved, images, device, tta, bias)
    conf = _confusion(preds, masks, meta.num_classes)
    scores = class_scores(conf, meta.class_names, ignore, void_pixels)
    if files:
        from segment import plots

        payload = {"checkpoint": str(checkpoint), "data": str(data), "split": split or WHOLE,
                   "pairs": len(masks), "epoch": saved.epoch, "void_pixels": void_pixels,
                   **({"tta": "hflip"} if tta else {}),
                   **({"class_bias": str(class_bias), "bias": [round(float(b), 2) for b in bias]}
                      if bias is not None else {}),
                   "rare_class": rare_class, "rare_class_name": meta.class_names[rare_class],
                   **scores.to_dict()}
        write_json(files[0], payload)
        plots.confusion_matrix(conf, meta.class_names, files[1])
        files[3].unlink(missing_ok=True)  # an old sheet must not outlive a run without errors
        write_rare_errors(files[2], files[3], [str(i) for i in ids], images, masks, preds,
                          rare_class, ignore, meta.class_names)
        files = [f for f in files if f.is_file()]
    return Evaluation(scores, title, name, files, notes)


def evaluate(
    checkpoint: str | Path,
    data: str | Path,
    split: str | None = "test",
    device: str = "auto",
    out: str | Path | None = None,
    void_pixels: bool = True,
) -> ClassScores:
    """Per-class precision/recall/F1/IoU of a checkpoint on one split (see evaluate_set)."""
    return evaluate_set(checkpoint, data, split, device, out, void_pixels).scores
