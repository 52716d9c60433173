"""The training loop: plain epochs, validation mean IoU, early stopping, atomic checkpoints."""

from __future__ import annotations

import csv
import io
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from curate.io.outputs import check_free, check_not_input, set_aside, write_json, write_text
from segment.config import TrainConfig
from segment.data.folder import DatasetInfo, PairDataset, load_split, to_input
from segment.errors import InputError, OutputExistsError
from segment.data.file_stack import take_rows
from segment.evaluation.metrics import ClassScores, class_scores
from segment.model.unet import count_parameters
from segment.model import checkpoints
from segment.model.checkpoints import Checkpoint
from segment.training import distributed
from segment import device as devices, precision
from segment.evaluation.inference import split_confusion
from segment.training.prepare import (check_training_data, choose_batch_size, run_meta,
                                      steps_per_epoch, training_data)
from segment.training.run_state import (  # noqa: F401  (EarlyStopping: public here too)
    EarlyStopping, NoHooks, TrainHooks, TrainingRun, build_run, checkpoint_state, restore,
)
from segment.data.sampling import Drawn, epoch_order

@dataclass
class TrainResult:
    run_dir: Path
    best_epoch: int
    best_val_miou: float
    epochs_run: int
    stop_reason: str
    wall_seconds: float
    val_scores: ClassScores | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    checkpoint: Path | None = None  # the checkpoint of the selected epoch (best.pt, else last.pt)


def prepare_run_dir(out: Path, force: bool, resume: bool) -> None:
    if resume:
        if not (out / "last.pt").is_file():
            raise InputError(f"cannot resume: {out / 'last.pt'} does not exist")
        return
    if out.is_dir() and any(out.iterdir()) and not force:
        raise OutputExistsError(
            f"the output folder {out} exists and is not empty; choose another -o, pass --force "
            "to replace it, or --resume to continue the run in it")
    check_free(out, force, "folder")  # the rest of the rule: a file is not a run folder
    out.mkdir(parents=True, exist_ok=True)


def _drawn_loader(data: PairDataset, cfg: TrainConfig, epoch: int, weights: np.ndarray,
                  pin: bool) -> torch.utils.data.DataLoader:
    """oversample_class (--set): this rank's draws of a (seed, epoch) weighted order."""
    order = epoch_order(weights, cfg.seed, epoch, distributed.world_size(), distributed.rank())
    view = Drawn(data, order)
    return torch.utils.data.DataLoader(view, batch_size=cfg.batch_size, shuffle=False,
                                       num_workers=cfg.workers, pin_memory=pin,
                                       drop_last=len(view) > cfg.batch_size)


def _loader(data: PairDataset, cfg: TrainConfig, epoch: int,
            weights: np.ndarray | None = None, pin: bool = False) -> torch.utils.data.DataLoader:
    """This epoch's batches; `pin`: page-locked batches for an accelerator (precision.pin_memory)."""
    data.epoch = epoch
    if weights is not None:
        return _drawn_loader(data, cfg, epoch, weights, pin)
    sampler = distributed.sampler(data, cfg.seed, epoch)
    if sampler is not None:  # several processes: this rank's share of the (seed, epoch) order
        return torch.utils.data.DataLoader(
            data, batch_size=cfg.batch_size, sampler=sampler, num_workers=cfg.workers,
            pin_memory=pin, drop_last=len(sampler) > cfg.batch_size,
        )
    # The shuffle order is a function of (seed, epoch), so a resumed run sees the same batches.
    generator = torch.Generator().manual_seed(cfg.seed * 10_007 + epoch)
    return torch.utils.data.DataLoader(
        data, batch_size=cfg.batch_size, shuffle=True, generator=generator,
        num_workers=cfg.workers, pin_memory=pin, drop_last=len(data) > cfg.batch_size,
    )


def _train_epoch(run: TrainingRun, data: PairDataset, epoch: int, hooks: TrainHooks) -> float:
    loader = _loader(data, run.cfg, epoch, run.draw_weights, precision.pin_memory(run.device))
    hooks.on_epoch_start(epoch, run.cfg.epochs, len(loader))
    run.step_model.train()
    use_amp = precision.uses_amp(run.device, run.cfg.amp)
    scaler = precision.grad_scaler(run.device, use_amp)
    total, n = 0.0, 0
    for images, masks in loader:
        x = to_input(images.to(run.device, non_blocking=True), run.meta.normalization)
        if run.cfg.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        y = masks.to(run.device, non_blocking=True).long()
        with precision.autocast(run.device, use_amp):
            loss = run.loss_fn(run.step_model(x), y)
        run.optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(run.optimizer)
        scaler.update()
        if run.ema is not None:
            run.ema.update(run.model)
        if run.schedule_per_step:
            run.scheduler.step()
        total, n = total + loss.item() * len(x), n + len(x)
        hooks.on_step(loss.item())
    distributed.sync_buffers(run.model)
    if run.ema is not None:
        distributed.sync_buffers(run.ema.model)
    if distributed.active():  # the mean loss over every rank's pairs
        total, n = distributed.sum_all(torch.tensor([total, n], dtype=torch.float64)).tolist()
    return total / max(n, 1)


def _val_confusion(run: TrainingRun, val) -> np.ndarray:
    """Validation confusion counts; on several processes each rank scores its share of the
    rows and the counts are summed, so every rank gets the counts of the whole split."""
    if not distributed.active():
        return split_confusion(run.eval_model(), *val, run.meta, run.device, run.cfg.channels_last)
    images, masks = val
    rows = distributed.shard(len(images))
    # The bare model: DDP's forward is a collective, and ranks may run different batch counts.
    conf = split_confusion(run.eval_model(False), take_rows(images, rows), take_rows(masks, rows),
                           run.meta, run.device, run.cfg.channels_last)
    return distributed.sum_all(torch.from_numpy(conf)).numpy()


def _save_epoch(run: TrainingRun, out: Path, state: Checkpoint) -> None:
    _write_history(out, run.history)
    if run.stopper.improved:
        checkpoints.save_checkpoint(out / "best.pt", state)
    checkpoints.save_checkpoint(out / "last.pt", state)


def monitored(scores: ClassScores) -> float:
    """The epoch's val mean IoU as recorded (metrics.csv, the epoch line) and as early stopping
    judges it: one rounding, so "val mIoU 0.5633" never meets "improved to 0.5632"."""
    return round(float(scores.mean_iou), 6)


def _epoch_row(run: TrainingRun, epoch: int, train_loss: float, scores: ClassScores, seconds: float) -> dict:
    row = {
        "epoch": epoch,
        "train_loss": round(train_loss, 6),
        "val_mean_iou": monitored(scores),
        "lr": run.optimizer.param_groups[0]["lr"],
        "seconds": round(seconds, 2),
    }
    for c in scores.scored:
        row[f"val_iou_{c}"] = None if np.isnan(scores.iou[c]) else round(float(scores.iou[c]), 6)
    return row


def _write_history(out: Path, history: list[dict[str, Any]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(history[0]))
    writer.writeheader()
    writer.writerows(history)
    write_text(out / "metrics.csv", buf.getvalue())


def _step_scheduler(run: TrainingRun, value: float) -> None:
    """The end-of-epoch step of an epoch schedule (a per-step one steps after every batch)."""
    if isinstance(run.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        run.scheduler.step(value)
    elif run.scheduler is not None and not run.schedule_per_step:
        run.scheduler.step()


def _finish(run: TrainingRun, out: Path, val, reason: str, started: float) -> TrainResult:
    from segment import plots

    best_path = out / "best.pt" if (out / "best.pt").is_file() else out / "last.pt"
    best = checkpoints.load_checkpoint(best_path)
    run.model.load_state_dict(best.model)
    conf = split_confusion(run.model, *val, run.meta, run.device, run.cfg.channels_last)
    scores = class_scores(conf, run.meta.class_names, run.meta.ignore_index)
    write_json(out / "val_scores.json", {"epoch": best.epoch, **scores.to_dict()})
    plots.learning_curve(run.history, out / "learning_curve.png")
    plots.confusion_matrix(conf, run.meta.class_names, out / "confusion_val.png")
    return TrainResult(
        out, run.stopper.best_epoch, run.stopper.best, len(run.history), reason,
        time.monotonic() - started, scores, run.history, best_path,
    )


def _loop(run: TrainingRun, out: Path, train_data: PairDataset, val, hooks: TrainHooks, started: float) -> str:
    cfg = run.cfg
    for epoch in range(run.start_epoch, cfg.epochs + 1):
        t0 = time.monotonic()
        train_loss = _train_epoch(run, train_data, epoch, hooks)
        conf = _val_confusion(run, val)
        scores = class_scores(conf, run.meta.class_names, run.meta.ignore_index)
        # The stopper's note and the epoch line print the same (rounded) number.
        stop, reason = run.stopper.step(monitored(scores), epoch)
        _step_scheduler(run, scores.mean_iou)
        row = _epoch_row(run, epoch, train_loss, scores, time.monotonic() - t0)
        run.history.append(row)
        state = checkpoint_state(run, epoch)
        distributed.on_main(lambda: _save_epoch(run, out, state))  # rank 0 writes
        hooks.on_epoch_end({**row, "note": reason})
        if stop:
            return f"early stop: {reason}"
        # Every rank must stop after the same epoch: the first rank past the bound stops all.
        late = bool(cfg.max_minutes) and time.monotonic() - started > cfg.max_minutes * 60
        if distributed.any_rank(late):
            return f"time limit: stopped after epoch {epoch} ({cfg.max_minutes:g} min bound)"
    return f"completed {cfg.epochs} epochs"


def _resume_config(cfg: TrainConfig, out: Path,
                   keep_saved: tuple[str, ...] = ()) -> tuple[TrainConfig, Checkpoint]:
    """The saved config; paths, run length and runtime options (not the model or loss) from cfg,
    except the names in `keep_saved`, which keep their saved values."""
    state = checkpoints.load_checkpoint(out / "last.pt")
    saved = TrainConfig.from_dict(state.config)
    for name in ("data", "out", "epochs", "patience", "max_minutes", "workers", "device", "threads"):
        if name not in keep_saved:
            setattr(saved, name, getattr(cfg, name))
    return saved, state


def train(
    config: TrainConfig, hooks: TrainHooks | None = None, force: bool = False, resume: bool = False,
    keep_saved: tuple[str, ...] = (),
) -> TrainResult:
    """Train a U-Net on config.data's train split, select on val mean IoU, write config.out.

    With `resume`, run-length options named in `keep_saved` (e.g. "epochs") keep the values
    saved in last.pt instead of taking config's.
    """
    hooks = hooks or NoHooks()
    out = Path(config.out)
    info = check_training_data(config.data)
    check_not_input(out, [config.data], "run folder")
    _start_processes(config)
    if not distributed.is_main():
        hooks = NoHooks()  # rank 0 alone reports
    existed = out.is_dir()
    fresh = not out.exists() or (existed and not any(out.iterdir()))
    distributed.on_main(lambda: prepare_run_dir(out, force, resume))
    saved = None
    if resume:  # rank 0 reads last.pt and hands it to the others (no shared disk needed)
        config, saved = distributed.on_main(lambda: _resume_config(config, out, keep_saved))
    try:
        # --force on an existing run: the old run is set aside, not mixed with the new files.
        with devices.torch_threads(config.threads), \
                set_aside(out, force and not resume and distributed.is_main(), keep="last.pt"):
            result = _train(config, info, saved, out, hooks)
        distributed.finish()
        return result
    except BaseException:
        if fresh and distributed.is_main() and not (out / "last.pt").exists():
            # Stopped (error, Ctrl-C) before the first checkpoint: what this call wrote in a
            # new or empty folder is nothing to resume, so the folder goes back to how it was
            # and the same command runs again as it is.
            shutil.rmtree(out, ignore_errors=True)
            if existed:
                out.mkdir()
        raise


def _start_processes(config: TrainConfig) -> None:
    """Under torchrun, join the other training processes (see segment.training.distributed)."""
    if distributed.from_environment().world_size > 1:
        distributed.start(devices.select_device(config.device))


def _train(config: TrainConfig, info: DatasetInfo, saved: Checkpoint | None, out: Path,
           hooks: TrainHooks) -> TrainResult:
    images, masks, _ = load_split(info, "train")
    config = choose_batch_size(config, images, hooks, resumed=saved is not None)
    val_images, val_masks, _ = load_split(info, "val", "L" if images.shape[1] == 1 else "RGB")
    return fit(config, info, (images, masks), (val_images, val_masks), out, hooks, saved)


def fit(config: TrainConfig, info: DatasetInfo, train: tuple, val: tuple, out: Path,
        hooks: TrainHooks | None = None, saved: Checkpoint | None = None) -> TrainResult:
    """Train one model on `train` (images (N, C, H, W), masks (N, H, W): arrays or stacks by
    reference), select its epoch on `val` (the same shapes) and write the run folder `out`,
    which exists: the one training run of `segment train` and of each `segment crossval`
    fold. `saved` (last.pt) continues a run; config.batch_size 0 is chosen here."""
    hooks = hooks or NoHooks()
    images, masks = train
    if not config.batch_size:
        config = choose_batch_size(config, images, hooks)
    train_data, weights = training_data(config, info, images, masks, hooks)
    device = distributed.device_of(devices.select_device(config.device))
    started = time.monotonic()
    # Module initialisation and dropout draw from torch's global generator (they take no
    # generator argument), so the run seeds it; fork_rng restores the caller's state afterwards.
    cuda = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(config.seed)
        meta = saved.meta if saved is not None else run_meta(config, info, images, masks)
        steps = steps_per_epoch(distributed.share(len(images)), config.batch_size)
        run = build_run(config, meta, device, steps)
        if saved is not None:
            restore(run, saved)
        else:
            distributed.seed_rank(config.seed)
        distributed.on_main(lambda: _write_config(out, config, run))
        run.draw_weights = weights
        reason = _loop(run, out, train_data, val, hooks, started)
    # Rank 0 scores the best checkpoint and writes the plots; every rank returns its result.
    return distributed.on_main(lambda: _finish(run, out, val, reason, started))


def _write_config(out: Path, config: TrainConfig, run: TrainingRun) -> None:
    extra = {"processes": distributed.world_size()} if distributed.active() else {}
    # What ran, beside what was asked: --device auto resolves, amp (--set) takes effect on CUDA only.
    ran = {"device_used": run.device.type, "amp_used": precision.uses_amp(run.device, config.amp)}
    write_json(out / "config.json", {**config.to_dict(), "parameters": count_parameters(run.model),
                                     **ran, **extra})
