"""What a training run prepares before its first epoch: the checks on the dataset folder,
the batch size and steps per epoch, the train split as the loop draws it (oversampling,
copy-paste) and the run's meta (model spec, normalization, class weights)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
import numpy as np

from curate.io.raw import raw_kind
from segment.config import FEW_STEPS, PIXEL_BUDGET, TrainConfig, auto_batch_size
from segment.data.copy_paste import copy_paste
from segment.data.folder import (DatasetInfo, PairDataset, class_counts, load_dataset,
                                 normalization, split_rows)
from segment.data.sampling import draw_weights, has_class
from segment.errors import InputError
from segment.model.checkpoints import RunMeta
from segment.model.losses import class_weights
from segment.model.unet import UNetSpec
from segment.training import distributed
from segment.training.run_state import TrainHooks, tell


def check_training_data(data: str | Path) -> DatasetInfo:
    """The dataset folder to train on. Training needs a curated dataset folder with train and
    val rows; say how to get one from a raw input or an unsplit folder (before the run folder
    is made)."""
    kind = raw_kind(data)
    if kind is not None:
        raise InputError(
            f"{data} is {kind}, a raw input without a train/val split; segment train needs a "
            f"dataset folder written by curate: run `curate split {data} -o DATASET` (or "
            f"`curate run {data} -o DATASET` to clean and augment too), then "
            "`segment train DATASET`"
        )
    info = load_dataset(data)
    for split in ("train", "val"):  # raises with the command that splits the folder
        split_rows(info, split)
    return info


def steps_per_epoch(pairs: int, batch: int) -> int:
    """Optimizer steps in an epoch of `pairs` (one process's share) at `batch`: the loaders
    drop the last partial batch when there is more than one batch."""
    return pairs // batch if pairs > batch else 1


def choose_batch_size(config: TrainConfig, images: np.ndarray, hooks: TrainHooks,
                      resumed: bool = False) -> TrainConfig:
    """The config with batch_size set (from the pixel budget when 0); says what it chose and
    where the number came from, and warns when the whole run has fewer than FEW_STEPS
    optimizer steps."""
    h, w = images.shape[-2:]
    if resumed:
        tell(hooks, f"batch {config.batch_size} (saved in the resumed run) for {h}x{w} images")
    elif config.batch_size:
        tell(hooks, f"batch {config.batch_size} (given: --batch-size or the batch_size setting) "
                     f"for {h}x{w} images")
    else:
        config = dataclasses.replace(config, batch_size=auto_batch_size(h, w))
        tell(hooks, f"batch {config.batch_size} (pixel budget {PIXEL_BUDGET:,} px per batch for "
                     f"{h}x{w} images; --batch-size to override)")
    n, b = len(images), config.batch_size
    pairs = "training pairs"
    if distributed.world_size() > 1:
        world = distributed.world_size()
        tell(hooks, f"{world} processes ({distributed.backend()}) x batch {b} = {world * b} "
                     "pairs per optimizer step "
                     "(--batch-size is per process)")
        n, pairs = distributed.share(n), "training pairs per process"
    _warn_few_steps(hooks, n, b, config.epochs, pairs)
    return config


def _warn_few_steps(hooks: TrainHooks, n: int, batch: int, epochs: int, pairs: str) -> None:
    """Warn when epochs x steps per epoch is under FEW_STEPS; the fixes come with numbers."""
    steps = steps_per_epoch(n, batch)
    if steps * epochs >= FEW_STEPS:
        return
    per_epoch = -(-FEW_STEPS // epochs)  # steps per epoch that reach FEW_STEPS in `epochs`
    smaller = max(2, n // per_epoch)
    hint = (f"a smaller --batch-size (--batch-size {smaller} gives "
            f"{steps_per_epoch(n, smaller) * epochs}), " if smaller < batch else "")
    more = -(-FEW_STEPS // steps)
    tell(hooks, f"the run has only {steps * epochs} optimizer step(s) ({epochs} epoch(s) x "
                 f"{steps} step(s); {n} {pairs}, batch {batch}); the model may barely learn. Use "
                 f"{hint}more epochs (--epochs {more} gives {more * steps}), or more training "
                 "pairs (e.g. `curate augment`)", warning=True)


def training_data(config: TrainConfig, info, images, masks,
                  hooks: TrainHooks) -> tuple[PairDataset, np.ndarray | None]:
    """The train split as the loop draws it, and per-pair draw weights (None = plain shuffle):
    The oversample_class and copy_paste_class settings are checked here, before anything is trained
    or written."""
    data, weights = PairDataset(images, masks, config.augment, config.seed), None
    # which masks hold each class a lever names; the masks are scanned once per class
    holding = {k: has_class(masks, k) for k in {config.oversample_class, config.copy_paste_class}
               if k >= 0}
    if config.oversample_class >= 0:
        has = holding[config.oversample_class]
        weights = draw_weights(has, config.oversample_class, config.oversample_factor)
        tell(hooks, f"oversampling: {int(has.sum())} of {len(weights)} training pairs "
                     f"contain class {config.oversample_class}; drawn {config.oversample_factor:g}x "
                     "as often")
    k = config.copy_paste_class
    if k >= 0:
        if k == info.ignore_index:
            raise InputError(f"--set copy_paste_class={k} is the ignored class ({info.class_names[k]}); "
                             "pasting it teaches nothing: pick a labelled class")
        data.paste = copy_paste(images, masks, holding[k], k, config.copy_paste_prob, config.seed)
        tell(hooks, f"copy-paste: class {k} of {len(data.paste.donors)} training pairs pasted "
                     f"into {config.copy_paste_prob:.0%} of the drawn pairs")
    return data, weights


def run_meta(cfg: TrainConfig, info: DatasetInfo, images: np.ndarray,
             masks: np.ndarray) -> RunMeta:
    """The meta a new run saves in its checkpoints, from its config and its train split."""
    counts = class_counts(masks, info.num_classes)
    spec = UNetSpec(in_channels=images.shape[1], num_classes=info.num_classes,
                    **dataclasses.asdict(cfg.model))
    weights = class_weights(counts, info.ignore_index, cfg.class_weights, cfg.class_weight_power)
    return RunMeta(spec, info.class_names, info.num_classes, info.ignore_index,
                   normalization(images), weights.tolist(), counts.tolist())
