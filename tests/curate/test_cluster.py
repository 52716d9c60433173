"""The pixel scan on a real Dask cluster (2 worker processes) equals the in-process scan."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from curate.scan import cluster
from curate.scan.cluster import ClusterOptions, connect
from curate.errors import ConfigError, InputError
from curate.scan.features import scan
from curate.data.readers import ReadOptions, load_dataset

MARS300 = Path(__file__).parents[2] / "curate" / "samples" / "mars300.npz"
distributed = pytest.importorskip("distributed", reason="dask[distributed] is not installed")


@pytest.fixture(scope="module")
def mars():
    return load_dataset(MARS300, ReadOptions(num_classes=5))


@pytest.mark.slow
def test_scan_on_two_worker_processes_equals_the_in_process_scan(mars, monkeypatch):
    here = scan(mars)
    monkeypatch.setattr(cluster, "TASK_PAIRS", 100)  # several tasks, gathered in order
    with connect(ClusterOptions(workers=2)) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        there = scan(mars)
    assert cluster.current() is None                  # the client is closed and forgotten
    pd.testing.assert_frame_equal(here, there, check_exact=True)


def test_without_options_nothing_is_started():
    with connect(ClusterOptions()) as client:
        assert client is None and cluster.current() is None


def test_scheduler_and_workers_together_are_refused():
    with pytest.raises(ConfigError, match="not both"):
        ClusterOptions(scheduler="tcp://127.0.0.1:8786", workers=2)
    with pytest.raises(ConfigError, match="--dask-workers"):
        ClusterOptions(workers=-1)


def test_unreachable_scheduler_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(InputError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        with connect(ClusterOptions(scheduler="tcp://127.0.0.1:9")):
            pass


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_cli_run_on_two_workers_writes_the_same_bytes(tmp_path):
    from typer.testing import CliRunner

    from curate.cli.main import app

    args = ["run", str(MARS300), "--num-classes", "5", "--class", "4", "--count", "10"]
    # Same folder name in both: the card is named after it.
    here = CliRunner().invoke(app, args + ["-o", str(tmp_path / "a" / "out")])
    assert here.exit_code == 0, here.output
    there = CliRunner().invoke(app, args + ["-o", str(tmp_path / "b" / "out"), "--dask-workers", "2"])
    assert there.exit_code == 0, there.output
    assert "Scanning on 2 Dask worker(s) at tcp://" in there.output
    assert _tree(tmp_path / "a" / "out") == _tree(tmp_path / "b" / "out")


def test_cli_unreachable_scheduler_writes_nothing(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from curate.cli.main import app

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", "1s")
    result = CliRunner().invoke(app, ["outliers", str(MARS300), "-o", str(tmp_path / "out"),
                                      "--dask-scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "cannot reach the Dask scheduler" in " ".join(result.output.split())
    assert not (tmp_path / "out").exists()
