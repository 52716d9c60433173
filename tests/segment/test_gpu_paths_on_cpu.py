"""The code the `gpu` preset and torchrun-on-GPUs run, exercised on CPU (issue 21: no test
had run it). segment.precision names the device types that get autocast, the gradient scaler
and pinned memory; adding "cpu" there runs those very code paths with CPU's autocast type
(bfloat16) and GradScaler("cpu"). What a CPU cannot run: float16 CUDA kernels, the pinning
thread (torch skips it without an accelerator, with a warning) and NCCL itself; the NCCL test
below goes as far as the init_process_group call."""

from __future__ import annotations

import contextlib
import csv
import importlib
import math

import pytest
import torch
from typer.testing import CliRunner

from segment import precision
from segment.cli import app

train_module = importlib.import_module("segment.training.loop")


class Probes:
    """What the training loop asked of torch: autocast states, scalers, loader options."""

    def __init__(self, monkeypatch):
        self.autocast, self.scalers, self.loaders = [], [], []
        real_autocast, real_scaler = precision.autocast, precision.grad_scaler

        @contextlib.contextmanager
        def autocast(device, enabled):
            with real_autocast(device, enabled):
                self.autocast.append((device.type, enabled, torch.is_autocast_enabled(device.type),
                                      torch.get_autocast_dtype(device.type)))
                yield

        def grad_scaler(device, enabled):
            scaler = real_scaler(device, enabled)
            self.scalers.append(scaler)
            return scaler

        loaders = self.loaders

        class Loader(torch.utils.data.DataLoader):
            def __init__(self, *args, **kwargs):
                loaders.append((kwargs.get("num_workers", 0), kwargs.get("pin_memory", False)))
                super().__init__(*args, **kwargs)

        monkeypatch.setattr(precision, "autocast", autocast)
        monkeypatch.setattr(precision, "grad_scaler", grad_scaler)
        monkeypatch.setattr(torch.utils.data, "DataLoader", Loader)


TINY = ["--epochs", "1", "--set", "base_width=4", "--set", "depth=2", "--batch-size", "4",
        "--set", "threads=1", "--device", "cpu"]


def test_gpu_preset_runs_autocast_scaler_workers_and_pinning_on_cpu(small_dataset, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setattr(precision, "ACCELERATED", ("cuda", "cpu"))
    probes = Probes(monkeypatch)
    run = tmp_path / "run"
    result = CliRunner().invoke(app, ["train", str(small_dataset), "-o", str(run),
                                      "--preset", "gpu", *TINY])
    assert result.exit_code == 0, result.output
    assert "amp on" in result.output and "workers 4" in result.output   # what the preset set
    # Training steps and validation ran under bfloat16 autocast on CPU.
    assert probes.autocast and all(a == ("cpu", True, True, torch.bfloat16)
                                   for a in probes.autocast)
    # The scaler was a real, enabled CPU scaler and scaled the steps.
    (scaler,) = probes.scalers
    assert scaler.is_enabled() and scaler.get_scale() > 0
    assert scaler.state_dict()["scale"] == scaler.get_scale()
    # 4 worker processes and pin_memory=True were handed to the DataLoader.
    assert probes.loaders == [(4, True)]
    with open(run / "metrics.csv") as f:
        row = next(csv.DictReader(f))
    assert math.isfinite(float(row["train_loss"])) and 0 <= float(row["val_mean_iou"]) <= 1


def test_amp_stays_off_on_cpu_by_default(small_dataset, tmp_path, monkeypatch):
    probes = Probes(monkeypatch)
    result = CliRunner().invoke(app, ["train", str(small_dataset), "-o", str(tmp_path / "r"),
                                      "--set", "amp=true", *TINY])
    assert result.exit_code == 0, result.output
    assert probes.autocast and not any(enabled for _, enabled, _, _ in probes.autocast)
    assert not probes.scalers[0].is_enabled() and probes.loaders == [(0, False)]


def test_float16_on_cuda_bfloat16_elsewhere():
    assert precision.amp_dtype(torch.device("cuda")) == torch.float16
    assert precision.amp_dtype(torch.device("cpu")) == torch.bfloat16
    assert precision.uses_amp(torch.device("cuda"), True)
    assert not precision.uses_amp(torch.device("cuda"), False)
    assert not precision.uses_amp(torch.device("cpu"), True)


def test_torchrun_on_cuda_joins_with_nccl_on_its_own_gpu(monkeypatch):
    """Everything up to NCCL itself: torchrun's environment, one GPU per local rank, the
    backend name handed to init_process_group (without GPUs the call is intercepted)."""
    from segment.training import distributed

    calls = {}
    for name, value in {"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1",
                        "LOCAL_WORLD_SIZE": "2"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "set_device", lambda d: calls.setdefault("device", d))
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: False)
    monkeypatch.setattr(distributed.dist, "init_process_group",
                        lambda backend: calls.setdefault("backend", backend))
    monkeypatch.setattr(distributed.atexit, "register", lambda f: None)
    device = distributed.start(torch.device("cuda"))
    assert device == torch.device("cuda", 1) and calls == {"device": device, "backend": "nccl"}
    # The same environment on CPU joins with gloo (run for real in test_distributed.py).
    calls.clear()
    assert distributed.start(torch.device("cpu")) == torch.device("cpu")
    assert calls == {"backend": "gloo"}


@pytest.mark.parametrize("workers", [0, 2])
def test_worker_loader_with_pinning_gives_the_same_batches(small_dataset, workers, monkeypatch):
    """pin_memory=True (asked for on accelerated devices) changes no batch."""
    from segment.config import TrainConfig
    from segment.data.folder import PairDataset, load_dataset, load_split

    images, masks, _ = load_split(load_dataset(small_dataset), "train")
    data = PairDataset(images, masks, True, 0)
    cfg = TrainConfig(data=str(small_dataset), batch_size=4, workers=workers)
    plain = [b for b in train_module._loader(data, cfg, 1)]
    pinned = [b for b in train_module._loader(data, cfg, 1, pin=True)]
    for (a, m), (b, n) in zip(plain, pinned):
        assert torch.equal(a, b) and torch.equal(m, n)
