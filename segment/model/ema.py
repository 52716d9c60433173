"""Exponential moving average (EMA) of a model's weights: a smoother copy that is validated,
selected on and saved, while the optimizer keeps stepping the raw weights."""

from __future__ import annotations

import copy
from typing import Any

import torch


class WeightAverage:
    """An EMA copy of `model`: after each optimizer step, avg = d * avg + (1 - d) * weights.

    The decay ramps up as min(decay, (1 + n) / (10 + n)) over the first updates n, so that a
    short run is not dominated by its random initial weights. Float parameters and buffers
    (BatchNorm running statistics) are averaged; integer buffers are copied.
    """

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay, self.updates = decay, 0
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    def current_decay(self) -> float:
        return min(self.decay, (1 + self.updates) / (10 + self.updates))

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        d = self.current_decay()
        self.updates += 1
        source = model.state_dict()
        for name, avg in self.model.state_dict().items():
            value = source[name].detach()
            if avg.dtype.is_floating_point:
                avg.mul_(d).add_(value.to(avg.dtype), alpha=1.0 - d)
            else:
                avg.copy_(value)

    def state_dict(self) -> dict[str, Any]:
        return self.model.state_dict()

    def load(self, weights: dict[str, Any], updates: int) -> None:
        self.model.load_state_dict(weights)
        self.updates = updates
