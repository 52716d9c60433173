"""SIGKILL in the middle of an epoch: checkpoints stay whole, --resume finishes the run.

Resume semantics pinned here: last.pt holds the last *finished* epoch; the killed epoch is
run again from the start (its partial work is lost), and metrics.csv is rewritten from the
history inside last.pt, so every epoch appears exactly once. Because the shuffle order and
augmentation are functions of (seed, epoch) and the global RNG state (dropout) is saved in
last.pt, the resumed run ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from conftest import write_dataset
from segment import TrainConfig, train
from segment.model.checkpoints import load_checkpoint

EPOCHS = 6
# About 0.9 s per epoch on one thread (128 train pairs, base width 8): long enough to kill
# the process inside an epoch, short enough to keep the test near 20 s.
OPTIONS = dict(epochs=EPOCHS, base_width=8, depth=2, batch_size=8, threads=1, device="cpu",
               patience=50)
# The CLI in a child process of this interpreter (no console script needed).
SEGMENT = [sys.executable, "-c", "from segment.cli import app; app()"]


FLAGS = ("epochs", "batch_size", "device")  # the rest are settings (--set KEY=VALUE)


def _cli_args(data: Path, out: Path) -> list[str]:
    args = [str(data), "-o", str(out)]
    for name, value in OPTIONS.items():
        args += ([f"--{name.replace('_', '-')}", str(value)] if name in FLAGS
                 else ["--set", f"{name}={value}"])
    return args


def _epochs_logged(out: Path) -> list[int]:
    try:
        with open(out / "metrics.csv", newline="") as f:
            return [int(row["epoch"]) for row in csv.DictReader(f)]
    except (FileNotFoundError, KeyError, ValueError):
        return []


def _wait_for(condition, proc: subprocess.Popen, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"training exited (rc {proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, mars_pairs) -> Path:
    images, masks = mars_pairs
    splits = ["train"] * 128 + ["val"] * 16
    return write_dataset(tmp_path_factory.mktemp("kill") / "mars144", images[:144], masks[:144],
                         splits)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")
def test_sigkill_mid_epoch_then_resume_matches_an_uninterrupted_run(dataset, tmp_path):
    out = tmp_path / "run"
    log = open(tmp_path / "train.log", "w")
    proc = subprocess.Popen([*SEGMENT, "train", *_cli_args(dataset, out)], stdout=log,
                            stderr=subprocess.STDOUT, env={**os.environ, "COLUMNS": "120"})
    try:
        _wait_for(lambda: (out / "last.pt").is_file() and 1 in _epochs_logged(out), proc, 60,
                  "epoch 1 was logged and last.pt written")
        time.sleep(0.4)  # about half an epoch into epoch 2
        assert proc.poll() is None, "training finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()

    # Never half-written: both checkpoints load; any leftover temp file is a hidden *.tmp
    # (atomic_write's mkstemp name), which no reader ever opens.
    last, best = load_checkpoint(out / "last.pt"), load_checkpoint(out / "best.pt")
    killed_after = last.epoch
    assert 1 <= killed_after < EPOCHS and best.epoch <= killed_after + 1
    strays = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert all(n.endswith(".tmp") for n in strays), strays
    # metrics.csv is written just before the checkpoints, so a kill between the two leaves at
    # most one row more than last.pt knows about; resume rewrites it from last.pt's history.
    assert _epochs_logged(out)[:killed_after] == list(range(1, killed_after + 1))
    rows_before = list(csv.DictReader(open(out / "metrics.csv", newline="")))[:killed_after]

    resumed = subprocess.run([*SEGMENT, "train", *_cli_args(dataset, out), "--resume"],
                             capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    assert f"completed {EPOCHS} epochs" in resumed.stdout
    assert _epochs_logged(out) == list(range(1, EPOCHS + 1))  # each epoch exactly once
    rows_after = list(csv.DictReader(open(out / "metrics.csv", newline="")))
    assert rows_after[:killed_after] == rows_before  # finished epochs are kept, not re-run
    final = load_checkpoint(out / "last.pt")
    assert final.epoch == EPOCHS and len(final.history) == EPOCHS

    # The trainer promises resume == one uninterrupted run (same batches, augmentation,
    # dropout draws), so the weights must match exactly.
    cfg = TrainConfig.from_dict({"data": str(dataset), "out": str(tmp_path / "straight"), **OPTIONS})
    straight = train(dataclasses.replace(cfg))
    reference = load_checkpoint(tmp_path / "straight" / "last.pt")
    for key, value in reference.model.items():
        torch.testing.assert_close(final.model[key], value, rtol=0, atol=0, msg=key)
    assert straight.history[-1]["val_mean_iou"] == final.history[-1]["val_mean_iou"]
