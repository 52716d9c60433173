"""Out-of-fold predictions on the train split and a per-pair label-quality table.

K models are trained, each on K-1 folds of the train split, and each predicts the fold it did
not see; a mask that disagrees with confident out-of-fold predictions is probably wrong.
Cost: K trainings of (K-1)/K of the train split each.
"""

from __future__ import annotations

import tempfile
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import GroupKFold

from curate.io.outputs import guard_output, replace_folder, write_json, write_text
from segment.model import checkpoints
from segment.model.checkpoints import RunMeta
from segment import device as devices
from segment.config import TrainConfig, inference_batch_size
from segment.data.folder import DatasetInfo, load_dataset, load_split, split_rows, to_input
from segment.errors import ConfigError
from segment.data.file_stack import take_rows
from segment.label_quality.evidence import LOW_PROBABILITY
from segment.label_quality.score import label_quality
from segment.training.loop import fit
from segment.training.prepare import choose_batch_size
from segment.training.run_state import NoHooks, TrainHooks, tell

GROUP_COLUMNS = ("split_group", "dup_group")


@dataclass
class CrossvalResult:
    run_dir: Path
    folds: int
    pairs: int
    fold_seconds: list[float]
    fold_val_miou: list[float]
    wall_seconds: float
    quality: pd.DataFrame = field(repr=False)
    regions: pd.DataFrame = field(repr=False, default=None)


def assign_folds(rows: pd.DataFrame, folds: int, seed: int) -> np.ndarray:
    """(N,) fold of each row; rows of one group (split_group, else dup_group, else itself)
    share a fold. scikit-learn's GroupKFold places the largest groups first, each in the
    fold with the fewest rows; `seed` orders the groups of equal size (GroupKFold sorts them
    stably from scikit-learn 1.9, the version pyproject.toml asks for)."""
    key = rows["id"].astype(str).to_numpy().copy()
    for column in reversed(GROUP_COLUMNS):  # split_group wins over dup_group
        if column in rows.columns:
            values = rows[column].astype(str).to_numpy()
            named = (values != "") & (values != "nan")
            key[named] = column + ":" + values[named]
    names, group = np.unique(key, return_inverse=True)
    if len(names) < folds:
        raise ConfigError(
            f"--folds {folds} needs at least {folds} groups of train pairs, found {len(names)}; "
            "use fewer folds"
        )
    # GroupKFold takes equal-size groups in descending label order: label each group by its
    # place in a seeded shuffle, the first place highest.
    order = np.random.default_rng(seed).permutation(len(names))
    label = np.empty(len(names), dtype=np.int64)
    label[order] = np.arange(len(names))[::-1]
    fold_of = np.empty(len(rows), dtype=np.int64)
    for k, (_, held) in enumerate(GroupKFold(folds).split(key, groups=label[group])):
        fold_of[held] = k
    return fold_of


@torch.no_grad()
def predict_probs(model: torch.nn.Module, images: np.ndarray, meta: RunMeta, device: torch.device,
                  batch_size: int = 0) -> np.ndarray:
    """Softmax probabilities (N, C, H, W) float16 over the classes other than ignore_index
    (its channel is 0 and the rest are renormalised: the loss never trained it)."""
    model.eval()
    parts = []
    ignore = meta.ignore_index
    batch_size = batch_size or inference_batch_size(*images.shape[-2:])
    for start in range(0, len(images), batch_size):
        x = to_input(torch.from_numpy(images[start:start + batch_size]).to(device),
                     meta.normalization)
        logits = model(x).float()  # (B, C, H, W)
        if ignore is not None:
            logits[:, ignore] = -torch.inf
        parts.append(torch.softmax(logits, 1).to("cpu", torch.float16).numpy())
    return np.concatenate(parts)


def _val_split(info: DatasetInfo, mode: str) -> tuple | None:
    """The dataset's val split, which selects each fold's epoch; None when it has none (the
    held-out fold selects then)."""
    if "split" in info.manifest.columns and (info.manifest["split"] == "val").any():
        images, masks, _ = load_split(info, "val", mode)
        return images, masks
    return None


def crossval(config: TrainConfig, folds: int = 5, hooks: TrainHooks | None = None,
             force: bool = False, on_fold=None) -> CrossvalResult:
    """Train `folds` models on config.data's train split and write, into config.out:
    oof_probs.npy (N, C, H, W) float16 out-of-fold probabilities in the order of
    label_quality.csv's `row`, label_quality.csv, label_regions.csv (the regions the model
    disputes, segment/label_quality/regions.py), crossval.json and fold_<k>/ (each a run)."""
    if folds < 2:
        raise ConfigError(f"--folds must be at least 2, got {folds}")
    data, out = Path(config.data), Path(config.out)
    guard_output(out, [data], force, "folder", what="crossval folder")
    info = load_dataset(data)
    rows = split_rows(info, "train").reset_index(drop=True)
    fold_of = assign_folds(rows, folds, config.seed)
    images, masks, ids = load_split(info, "train")
    hooks = hooks or NoHooks()
    config = choose_batch_size(config, images, hooks)
    val = _val_split(info, "L" if images.shape[1] == 1 else "RGB")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
    try:
        with devices.torch_threads(config.threads):
            result = _run_folds(config, info, (images, masks, ids), val, fold_of, folds, tmp,
                                hooks, on_fold)
        replace_folder(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result.run_dir = out
    return result


def _run_folds(config, info, train, val, fold_of, folds, tmp, hooks, on_fold):
    started = time.monotonic()
    images, masks, ids = train
    n, h, w = masks.shape
    probs = np.lib.format.open_memmap(tmp / "oof_probs.npy", mode="w+", dtype=np.float16,
                                      shape=(n, info.num_classes, h, w))
    seconds, mious = [], []
    selection = "val split" if val is not None else "held-out fold (no val split)"
    device = devices.select_device(config.device)
    for k in range(folds):
        t0 = time.monotonic()
        held = np.flatnonzero(fold_of == k)
        kept = np.flatnonzero(fold_of != k)
        # take_rows: a fold of a split held by reference stays file paths, decoded per batch.
        held_images, held_masks = take_rows(images, held), take_rows(masks, held)
        run_dir = tmp / f"fold_{k}"
        run_dir.mkdir()
        result = fit(replace(config, out=str(run_dir)), info,
                     (take_rows(images, kept), take_rows(masks, kept)),
                     val if val is not None else (held_images, held_masks), run_dir, hooks)
        best = checkpoints.load_checkpoint(result.checkpoint)
        model = checkpoints.model_from_checkpoint(best, device)
        probs[held] = predict_probs(model, held_images, best.meta, device)
        seconds.append(round(time.monotonic() - t0, 2))
        mious.append(round(float(result.best_val_miou), 6))
        if on_fold is not None:
            on_fold(k, folds, len(kept), len(held), seconds[-1], mious[-1])
    probs.flush()
    tell(hooks, f"scoring label quality: {n} pairs, the regions the model disputes and "
                "edited copies of their masks to learn from (segment/label_quality/score.py, "
                "regions.py)")
    table, regions = label_quality(probs, masks, ids, fold_of, info.ignore_index,
                                   info.class_names, config.seed, images)
    write_text(tmp / "label_quality.csv", table.to_csv(index=False))
    write_text(tmp / "label_regions.csv", regions.to_csv(index=False))
    wall = round(time.monotonic() - started, 2)
    write_json(tmp / "crossval.json", {
        "data": str(config.data), "folds": folds, "pairs": n, "probabilities": "oof_probs.npy",
        "probabilities_shape": [n, info.num_classes, h, w], "low_probability": LOW_PROBABILITY,
        "score": table.attrs["score"], "regions": "label_regions.csv",
        "region_count": len(regions),
        "epoch_selection": selection, "fold_seconds": seconds, "fold_val_miou": mious,
        "wall_seconds": wall, "class_names": info.class_names, "ignore_index": info.ignore_index,
        "config": config.to_dict(),
    })
    del probs
    return CrossvalResult(tmp, folds, n, seconds, mious, wall, table, regions)
