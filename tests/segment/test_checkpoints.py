"""Checkpoints: the flat dict on disk, read into Checkpoint / RunMeta and written back as it was;
a file written before these types existed loads, a foreign or incomplete one is refused."""

from __future__ import annotations

import pytest
import torch

from segment.errors import InputError
from segment.model.checkpoints import (CHECKPOINT_FORMAT, Checkpoint, RunMeta, load_checkpoint,
                                       model_from_checkpoint, save_checkpoint, spec_dict)
from segment.model.unet import UNet, UNetSpec


def _flat_state(ema: bool) -> dict:
    """A checkpoint as `segment train` wrote it before Checkpoint existed: meta keys first,
    with --ema the raw weights and the update count, then the rest, in this order."""
    spec = UNetSpec(in_channels=1, num_classes=3, depth=2, base_width=4)
    weights = UNet(spec).state_dict()
    averaged = {"train_model": weights, "ema_updates": 6} if ema else {}
    return {"format": CHECKPOINT_FORMAT, "spec": spec_dict(spec),
            "class_names": ["void", "rock", "sand"], "num_classes": 3, "ignore_index": 0,
            "normalization": {"mean": [0.5], "std": [0.25]}, "class_weights": [0.0, 1.0, 2.0],
            "train_pixel_counts": [5, 60, 35], **averaged, "model": weights,
            "optimizer": {"state": {}, "param_groups": []}, "scheduler": None,
            "early_stopping": {"best": 0.5, "best_epoch": 2, "bad_epochs": 1}, "epoch": 3,
            "best_metric": 0.5, "config": {"seed": 0, "data": "DATA"},
            "history": [{"epoch": 1, "val_mean_iou": 0.25}],
            "rng": {"torch": torch.get_rng_state(), "cuda": []}}


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.parametrize("ema", [False, True])
def test_an_old_flat_checkpoint_loads_and_saves_back_unchanged(tmp_path, ema):
    torch.save(_flat_state(ema), tmp_path / "old.pt")
    saved = load_checkpoint(tmp_path / "old.pt")
    assert isinstance(saved, Checkpoint) and isinstance(saved.meta, RunMeta)
    assert saved.epoch == 3 and saved.meta.class_names == ["void", "rock", "sand"]
    assert saved.meta.spec.base_width == 4 and saved.meta.image_mode == "L"
    assert (saved.train_model is not None) == ema and saved.ema_updates == (6 if ema else 0)
    save_checkpoint(tmp_path / "again.pt", saved)
    assert _same(torch.load(tmp_path / "again.pt", weights_only=True),
                 torch.load(tmp_path / "old.pt", weights_only=True))
    model = model_from_checkpoint(saved, torch.device("cpu"))
    assert _same(model.state_dict(), saved.model)


def test_a_foreign_or_incomplete_checkpoint_is_refused(tmp_path):
    torch.save({"model": {}}, tmp_path / "foreign.pt")
    with pytest.raises(InputError, match="not a segment checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")
    state = _flat_state(False)
    del state["normalization"]
    torch.save(state, tmp_path / "partial.pt")
    with pytest.raises(InputError, match="without 'normalization'.*train again"):
        load_checkpoint(tmp_path / "partial.pt")
