"""Run the per-pair pixel scan on a Dask cluster: a local one (`--dask-workers N`) or an existing
one (`--dask-scheduler ADDRESS`).

Only the scan is distributed: the pairs are read on the machine that runs `curate`, sent to
the workers in tasks of at most TASK_PAIRS pairs and TASK_BYTES pixel bytes, and each worker
computes the feature rows of its pairs exactly as the in-process scan does (the same batches
of features.CHUNK pairs, so the numbers are bit-identical). The checks that compare pairs with each other (duplicates,
shared masks, robust z-scores) then run here on the gathered feature table, which is a few
hundred bytes per pair.

Without either option nothing is imported from Dask and the scan runs in this process, on
`threads` threads (`--threads`; 0: every core the process may use, at most MAX_THREADS).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Iterator

from curate.errors import ConfigError, InputError

# Pairs per task: large enough that a task's scheduling cost (a few ms) is small against its
# work, small enough that a few thousand 256x256 pairs stay well under a worker's memory.
TASK_PAIRS = 4096
# ... and at most this many pixel bytes: 256x256 RGB pairs go 1,024 to a task, 1024x1024 RGB 64.
TASK_BYTES = 256 << 20
# Tasks out at once per worker: one being scanned, one waiting, so no worker idles while the
# next is decoded here; more would only hold more pixels in this process.
TASKS_PER_WORKER = 2
CONNECT_TIMEOUT = "20s"
# Threads of the in-process scan by default: every core up to this (its batches are small).
MAX_THREADS = 8

_client: ContextVar[Any] = ContextVar("curate_dask_client", default=None)
_threads: ContextVar[int] = ContextVar("curate_scan_threads", default=0)


@dataclass(frozen=True)
class ClusterOptions:
    """Where the scan runs: `scheduler` (address of a running Dask scheduler, e.g.
    tcp://10.0.0.5:8786) or `workers` (worker processes of a local cluster started here and
    closed afterwards); neither means in this process, on `threads` threads (0: every core)."""

    scheduler: str | None = None
    workers: int = 0
    threads: int = 0

    def __post_init__(self) -> None:
        if self.threads < 0:
            raise ConfigError(f"--threads must be 0 (every core) or more, got {self.threads}")
        if self.workers < 0:
            raise ConfigError(f"--dask-workers must be 0 (in this process) or more, got {self.workers}")
        if self.scheduler and self.workers:
            raise ConfigError("pass either --dask-scheduler ADDRESS (an existing Dask cluster) or "
                              "--dask-workers N (a local one), not both")

    @property
    def active(self) -> bool:
        return bool(self.scheduler or self.workers)


def threads() -> int:
    """Threads of the in-process scan: those `connect` was given, else every core this
    process may run on (at most MAX_THREADS)."""
    given = _threads.get()
    if given:
        return given
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, MAX_THREADS))


def current() -> Any:
    """The Dask client of the enclosing `connect`, or None (scan in this process)."""
    return _client.get()


@contextmanager
def connect(options: ClusterOptions | None) -> Iterator[Any]:
    """Make a Dask client current for the scans inside the block (None when not asked), and
    the in-process scan's thread count."""
    if options is not None and options.threads:
        token = _threads.set(options.threads)
        try:
            with connect(ClusterOptions(options.scheduler, options.workers)) as client:
                yield client
        finally:
            _threads.reset(token)
        return
    if options is None or not options.active:
        yield None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - dask[distributed] is a dependency
        raise ConfigError("--dask-scheduler and --dask-workers need dask[distributed]: "
                          "pip install 'dask[distributed]'") from exc
    cluster = None
    try:
        if options.scheduler:
            client = Client(options.scheduler, timeout=CONNECT_TIMEOUT)
        else:
            cluster = LocalCluster(n_workers=options.workers, threads_per_worker=1,
                                   processes=True, dashboard_address=None)
            client = Client(cluster)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        where = options.scheduler or f"a local cluster of {options.workers} workers"
        raise InputError(f"cannot reach the Dask scheduler at {where} ({exc}); check the "
                         "address (tcp://HOST:8786) and that the scheduler is running, or "
                         "leave out --dask-scheduler to scan in this process") from exc
    token = _client.set(client)
    try:
        yield client
    finally:
        _client.reset(token)
        client.close()
        if cluster is not None:
            cluster.close()


def in_flight(client: Any) -> int:
    """How many scan tasks to have out at once on the cluster of `client`."""
    return TASKS_PER_WORKER * max(1, len(client.scheduler_info().get("workers", {})))


def describe(client: Any) -> str:
    """'N workers at ADDRESS' for messages."""
    workers = len(client.scheduler_info().get("workers", {}))
    return f"{workers} Dask worker(s) at {client.scheduler.address}"
