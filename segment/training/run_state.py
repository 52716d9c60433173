"""One training run's state: what it holds (model, optimizer, schedule, early stopping, EMA),
how it is built from a config, and what its checkpoint saves and `--resume` restores. Also
the progress hooks the loop reports through (the library never prints)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch

from segment.training import distributed
from segment.config import TrainConfig
from segment.model.ema import WeightAverage
from segment.model.losses import build_loss
from segment.model.checkpoints import Checkpoint, RunMeta
from segment.model.unet import UNet


class EarlyStopping:
    """Stop when the monitored value (higher is better) has not improved for `patience` epochs."""

    def __init__(self, patience: int, min_delta: float = 0.0) -> None:
        self.patience, self.min_delta = patience, min_delta
        self.best = -math.inf
        self.best_epoch = -1
        self.bad_epochs = 0

    def step(self, value: float, epoch: int) -> tuple[bool, str]:
        """Record one epoch's value; returns (should_stop, reason)."""
        if not math.isnan(value) and value > self.best + self.min_delta:
            self.best, self.best_epoch, self.bad_epochs = value, epoch, 0
            return False, f"improved to {value:.4f}"
        self.bad_epochs += 1
        if self.bad_epochs >= self.patience:
            return True, (
                f"no improvement over {self.best:.4f} (epoch {self.best_epoch}) "
                f"for {self.bad_epochs} epochs (patience {self.patience})"
            )
        return False, f"no improvement for {self.bad_epochs}/{self.patience} epochs"

    @property
    def improved(self) -> bool:
        return self.bad_epochs == 0

    def state_dict(self) -> dict[str, Any]:
        return dict(best=self.best, best_epoch=self.best_epoch, bad_epochs=self.bad_epochs)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch, self.bad_epochs = state["best"], state["best_epoch"], state["bad_epochs"]


class TrainHooks(Protocol):
    """Progress callbacks, so the library never prints; the CLI draws rich progress bars."""

    def on_epoch_start(self, epoch: int, epochs: int, steps: int) -> None: ...
    def on_step(self, loss: float) -> None: ...
    def on_epoch_end(self, row: dict[str, Any]) -> None: ...
    def on_note(self, text: str, warning: bool = False) -> None: ...


class NoHooks:
    def on_epoch_start(self, epoch: int, epochs: int, steps: int) -> None: ...
    def on_step(self, loss: float) -> None: ...
    def on_epoch_end(self, row: dict[str, Any]) -> None: ...
    def on_note(self, text: str, warning: bool = False) -> None: ...


def tell(hooks: TrainHooks, text: str, warning: bool = False) -> None:
    # Hooks written before on_note existed simply do not hear it.
    note = getattr(hooks, "on_note", None)
    if note is not None:
        note(text, warning)


LR_FLOOR = 0.01  # cosine and warmup schedules end at lr * LR_FLOOR
PER_STEP_SCHEDULERS = ("warmup",)  # stepped after every optimizer step, the rest once an epoch


@dataclass
class TrainingRun:
    """Everything the loop mutates, bundled so helper functions stay short."""

    cfg: TrainConfig
    device: torch.device
    model: UNet
    step_model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    stopper: EarlyStopping
    loss_fn: Any
    meta: RunMeta
    history: list[dict[str, Any]]
    start_epoch: int = 1
    ema: WeightAverage | None = None  # --ema: the weights that are validated and saved
    draw_weights: np.ndarray | None = None  # oversample_class (--set): per-pair draw weights

    @property
    def schedule_per_step(self) -> bool:
        """True when the LR schedule steps after every optimizer step ("warmup"), not once an
        epoch."""
        return self.cfg.scheduler in PER_STEP_SCHEDULERS

    def eval_model(self, step: bool = True) -> torch.nn.Module:
        """The model to validate: the EMA copy if any, else the stepped (or bare) model."""
        if self.ema is not None:
            return self.ema.model
        return self.step_model if step else self.model


def warmup_cosine(epochs: int, steps_per_epoch: int, warmup_share: float):
    """The LR factor of optimizer step s (0-based) for scheduler "warmup", the one-cycle shape:
    a linear rise over the first warmup_share of all steps to 1, then a cosine down to
    LR_FLOOR at the last step (and LR_FLOOR after it, when --resume adds epochs)."""
    total = max(1, epochs * steps_per_epoch)
    warm = max(1, round(warmup_share * total))

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        t = min(1.0, (step - warm) / max(1, total - warm))
        return LR_FLOOR + (1 - LR_FLOOR) * 0.5 * (1 + math.cos(math.pi * t))

    return factor


def _scheduler(cfg: TrainConfig, optimizer: torch.optim.Optimizer, steps_per_epoch: int):
    if cfg.scheduler == "warmup":  # in PER_STEP_SCHEDULERS
        return torch.optim.lr_scheduler.LambdaLR(
            optimizer, warmup_cosine(cfg.epochs, steps_per_epoch, cfg.warmup_share))
    if cfg.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs, eta_min=cfg.lr * LR_FLOOR)
    if cfg.scheduler == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="max", factor=0.5, patience=cfg.plateau_patience
        )
    return None


def build_run(cfg: TrainConfig, meta: RunMeta, device: torch.device,
              steps_per_epoch: int = 1) -> TrainingRun:
    """A run's model, optimizer, schedule (steps_per_epoch: optimizer steps in one epoch, which
    the per-step "warmup" schedule needs), loss, early stopping and EMA."""
    model = UNet(meta.spec).to(device)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    step_model = distributed.wrap(model, device)  # the model itself on one process
    step_model = torch.compile(step_model) if cfg.compile else step_model
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    weight = torch.tensor(meta.class_weights, dtype=torch.float32, device=device)
    loss_fn = build_loss(
        cfg.loss, weight, meta.ignore_index, cfg.tversky_alpha, cfg.tversky_beta, cfg.focal_gamma
    )
    return TrainingRun(
        cfg, device, model, step_model, optimizer, _scheduler(cfg, optimizer, steps_per_epoch),
        EarlyStopping(cfg.patience, cfg.min_delta), loss_fn, meta, [],
        ema=WeightAverage(model, cfg.ema) if cfg.ema else None,
    )


def checkpoint_state(run: TrainingRun, epoch: int) -> Checkpoint:
    # With --ema, `model` holds the averaged weights (what evaluate and predict load) and
    # `train_model` the raw ones the optimizer steps, which --resume needs.
    ema = run.ema is not None
    return Checkpoint(
        run.meta, run.ema.state_dict() if ema else run.model.state_dict(),
        run.optimizer.state_dict(),
        run.scheduler.state_dict() if run.scheduler is not None else None,
        run.stopper.state_dict(), epoch, run.stopper.best, run.cfg.to_dict(), run.history,
        _rng_state(), train_model=run.model.state_dict() if ema else None,
        ema_updates=run.ema.updates if ema else 0,
    )


def _rng_state() -> dict[str, Any]:
    rng = {"torch": torch.get_rng_state(), "cuda": _cuda_rng()}
    ranks = distributed.gather(rng["torch"])  # None on one process
    if ranks is not None:
        rng["ranks"] = ranks  # each rank's own stream, for an exact --resume on as many ranks
    return rng


def _cuda_rng() -> list[torch.Tensor]:
    return torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []


def restore(run: TrainingRun, state: Checkpoint) -> None:
    run.model.load_state_dict(state.model if state.train_model is None else state.train_model)
    if run.ema is not None:
        run.ema.load(state.model, state.ema_updates)
    run.optimizer.load_state_dict(state.optimizer)
    if run.scheduler is not None and state.scheduler is not None:
        run.scheduler.load_state_dict(state.scheduler)
    run.stopper.load_state_dict(state.early_stopping)
    run.history = list(state.history)
    run.start_epoch = state.epoch + 1
    torch.set_rng_state(state.rng["torch"])
    own = distributed.rank_rng(state.rng)
    if own is not None:
        torch.set_rng_state(own)
    elif distributed.active():
        distributed.seed_rank(run.cfg.seed + state.epoch)  # resumed on another rank count
    if state.rng["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state.rng["cuda"])
