"""`segment train` under torchrun: 2 CPU processes (gloo) on a split of the bundled sample.

The runs go through `python -m torch.distributed.run` exactly as a user would start them
(ddp_worker.py adds per-rank probes: the files each rank writes into the run folder and a
hash of each rank's final weights). A run cut short after epoch 1 is resumed under torchrun;
the resumed run must keep the ranks' weights equal, leave every write to rank 0, print once,
and score on the validation split exactly as a single-process `segment evaluate` of its
checkpoint does.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from segment.cli import app as segment_app
from segment.model.checkpoints import load_checkpoint

from conftest import MARS300, REPO, file_bytes
from ddp_worker import state_hash

pytestmark = pytest.mark.skipif(
    not (torch.distributed.is_available() and torch.distributed.is_gloo_available()),
    reason="this torch build has no torch.distributed gloo backend, which 2-process CPU training needs",
)
WORKER = Path(__file__).with_name("ddp_worker.py")
TINY = ["--set", "base_width=4", "--set", "depth=2", "--batch-size", "8", "--set", "threads=1",
        "--device", "cpu", "--epochs", "2"]
runner = CliRunner()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(args: list[str], run: Path, probe: Path) -> subprocess.CompletedProcess:
    """`python -m torch.distributed.run --nproc_per_node 2 ddp_worker.py ARGS` (2 CPU ranks)."""
    probe.mkdir(parents=True)
    env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1", "SEGMENT_TEST_PROBE": str(probe),
           "SEGMENT_TEST_RUN": str(run), "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_addr", "127.0.0.1", "--master_port", str(_free_port()), str(WORKER), *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=400)


@pytest.fixture(scope="module")
def mars_split(tmp_path_factory) -> Path:
    """120 of the bundled pairs split by `curate split` (the stages meet through the folder)."""
    from curate.cli.main import app as curate_app

    root = tmp_path_factory.mktemp("ddp")
    pairs = np.load(MARS300)
    np.savez(root / "mars120.npz", training_set=pairs["training_set"][:120],
             names=pairs["names"][:120])
    out = root / "mars120"
    result = runner.invoke(curate_app, ["split", str(root / "mars120.npz"), "-o", str(out),
                                        "--num-classes", "5"])
    assert result.exit_code == 0, result.output
    return out



def assert_validation_equals_evaluate(run: Path, data: Path, out: Path) -> dict:
    """The best epoch's sharded validation in metrics.csv (each rank scored its share of val,
    counts summed over the ranks) against a one-process `evaluate` of best.pt, whose scores
    are returned: equal up to a pixel or two. A barely trained model has near-ties in its
    logits, and scoring a batch of 10 instead of 20 (or on 1 thread instead of 2) flipped one
    of 163,840 pixels (0.084087 vs 0.084082); one rank's half of val alone is off by far more."""
    result = runner.invoke(segment_app, ["evaluate", str(run / "best.pt"), str(data),
                                         "--split", "val", "--device", "cpu", "--print-json",
                                         "-o", str(out)])
    assert result.exit_code == 0, result.output
    single = json.loads(result.output[result.output.index("{"):])
    best = load_checkpoint(run / "best.pt").epoch
    with open(run / "metrics.csv") as f:
        row = next(r for r in csv.DictReader(f) if int(r["epoch"]) == best)
    assert float(row["val_mean_iou"]) == pytest.approx(single["mean_iou"], abs=2e-5)
    return single


@pytest.fixture(scope="module")
def resumed_run(mars_split, tmp_path_factory):
    """A 2-process run stopped after epoch 1 by its time bound, then resumed to epoch 2."""
    root = tmp_path_factory.mktemp("ddp_run")
    run = root / "run"
    cut = torchrun(["train", str(mars_split), "-o", str(run), *TINY, "--max-minutes", "1e-9"],
                   run, root / "probe_cut")
    assert cut.returncode == 0, cut.stdout + cut.stderr
    assert "time limit: stopped after epoch 1" in cut.stdout
    resumed = torchrun(["train", str(mars_split), "-o", str(run), *TINY, "--resume"],
                       run, root / "probe")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    return run, root / "probe", resumed


@pytest.mark.slow
def test_ranks_end_with_equal_weights_and_rank_0_alone_writes_and_prints(resumed_run):
    run, probe, result = resumed_run
    last = load_checkpoint(run / "last.pt")
    assert last.epoch == 2 and [row["epoch"] for row in last.history] == [1, 2]
    hashes = [(probe / f"rank{r}.sha256").read_text() for r in (0, 1)]
    assert hashes[0] == hashes[1] == state_hash(last.model)
    for folder in (probe, probe.with_name("probe_cut")):
        assert (folder / "rank1.writes").read_text() == ""
        written = set((folder / "rank0.writes").read_text().split("\n")) - {""}
        # best.pt only when an epoch improves; every file goes through a temporary file.
        assert {"last.pt", "metrics.csv", "config.json", "val_scores.json", "learning_curve.png",
                "confusion_val.png"} <= written <= {
                    "last.pt", "best.pt", "metrics.csv", "config.json", "val_scores.json",
                    "learning_curve.png", "confusion_val.png", "temporary file in ."}
    # Printed once (torchrun passes both ranks' output through), with the batch per process.
    assert result.stdout.count("2 processes (gloo) x batch 8 = 16 pairs per optimizer step") == 1
    assert result.stdout.count("epoch   2  loss") == 1
    assert result.stdout.count("completed 2 epochs") == 1
    assert json.loads((run / "config.json").read_text())["processes"] == 2


@pytest.mark.slow
def test_distributed_validation_equals_single_process_evaluate(resumed_run, mars_split, tmp_path):
    run, _, _ = resumed_run
    single = assert_validation_equals_evaluate(run, mars_split, tmp_path)
    # val_scores.json: rank 0's scores of best.pt after training.
    ours = np.array(json.loads((run / "val_scores.json").read_text())["confusion"])
    theirs = np.array(single["confusion"])
    assert (ours.sum(1) == theirs.sum(1)).all()      # the same pixels of every class scored
    assert np.abs(ours - theirs).sum() <= 4          # and predicted alike, up to near-ties


@pytest.mark.slow
def test_an_error_is_printed_once_and_the_run_is_untouched(resumed_run, mars_split, tmp_path):
    run, _, _ = resumed_run
    before = file_bytes(run)
    result = torchrun(["train", str(mars_split), "-o", str(run), *TINY], run, tmp_path / "probe")
    assert result.returncode != 0
    assert result.stderr.count("Error: the output folder") == 1, result.stderr
    assert "--force" in result.stderr
    assert file_bytes(run) == before


def test_a_broken_torchrun_environment_is_a_clear_error(small_dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "two")
    result = runner.invoke(segment_app, ["train", str(small_dataset), "-o", str(tmp_path / "r"),
                                         *TINY])
    assert result.exit_code == 1
    assert "Error: WORLD_SIZE='two' is not an integer" in result.output
    assert "unset them to train on one process" in result.output
    assert not (tmp_path / "r").exists()


def test_more_processes_than_gpus_is_refused_on_every_rank():
    from segment.training.distributed import Processes, _check_device
    from segment.errors import ConfigError

    gpus = torch.cuda.device_count()
    for rank in range(gpus + 1):  # the same answer on each rank of the machine
        with pytest.raises(ConfigError, match=f"{gpus + 1} processes on this machine but {gpus} GPU"):
            _check_device(Processes(rank, gpus + 1, rank, gpus + 1), torch.device("cuda"))
    with pytest.raises(ConfigError, match="--device cpu"):
        _check_device(Processes(0, 2, 0, 2), torch.device("mps"))


@pytest.mark.slow
def test_ema_and_oversampling_under_torchrun(mars_split, tmp_path):
    """Both levers on 2 ranks: the ranks' raw weights stay equal, last.pt holds them as
    train_model and the average as model, and the ranks' summed validation of the average
    equals a single-process evaluate of best.pt."""
    run = tmp_path / "run"
    result = torchrun(["train", str(mars_split), "-o", str(run), *TINY, "--set", "ema=0.9",
                       "--set", "oversample_class=3", "--set", "oversample_factor=3"], run, tmp_path / "probe")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("oversampling: ") == 1
    last = load_checkpoint(run / "last.pt")
    hashes = [(tmp_path / "probe" / f"rank{r}.sha256").read_text() for r in (0, 1)]
    assert hashes[0] == hashes[1] == state_hash(last.train_model) != state_hash(last.model)
    assert_validation_equals_evaluate(run, mars_split, tmp_path / "eval")


@pytest.mark.slow
def test_a_split_held_by_reference_under_torchrun(mars_split, tmp_path, monkeypatch):
    """SEGMENT_LAZY_BYTES=0: each rank holds file paths, its val shard a FileStack of every
    other row (with oversampling, copy-paste from donors read by path, the per-batch warm-up
    schedule); the ranks' weights stay equal and their summed validation equals a
    single-process evaluate of best.pt (which is by reference too)."""
    from segment.data.folder import load_dataset, load_split
    from segment.data.file_stack import FileStack

    monkeypatch.setenv("SEGMENT_LAZY_BYTES", "0")  # the ranks inherit the environment
    assert isinstance(load_split(load_dataset(mars_split), "train")[0], FileStack)
    run = tmp_path / "run"
    result = torchrun(["train", str(mars_split), "-o", str(run), *TINY, "--set", "oversample_class=3",
                       "--set", "copy_paste_class=3", "--set", "scheduler=warmup"], run, tmp_path / "probe")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("copy-paste: ") == 1  # donors decoded from files on each rank
    last = load_checkpoint(run / "last.pt")
    hashes = [(tmp_path / "probe" / f"rank{r}.sha256").read_text() for r in (0, 1)]
    assert hashes[0] == hashes[1] == state_hash(last.model)
    assert_validation_equals_evaluate(run, mars_split, tmp_path / "eval")
