"""One `segment` process under torchrun, with two probes for tests/segment/test_distributed.py.

Not a test module: torchrun starts it once per rank. Before running the `segment` command
line it records (1) every file this rank creates or renames into the folder named by
SEGMENT_TEST_RUN (all segment outputs are written by os.replace of a temporary file) and
(2) a SHA-256 of this rank's model weights when training ends, each into
SEGMENT_TEST_PROBE/rank<RANK>.*.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib
import os
import tempfile
from pathlib import Path

from segment.cli import app

train_module = importlib.import_module("segment.training.loop")


def state_hash(state: dict) -> str:
    """SHA-256 over a state dict's tensors, in key order (the test hashes last.pt the same way)."""
    digest = hashlib.sha256()
    for key in sorted(state):
        digest.update(key.encode())
        digest.update(state[key].detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def main() -> None:
    probe = Path(os.environ["SEGMENT_TEST_PROBE"])
    run = os.path.abspath(os.environ["SEGMENT_TEST_RUN"])
    rank = os.environ["RANK"]
    writes: list[str] = []
    replace, mkstemp, loop = os.replace, tempfile.mkstemp, train_module._loop

    def inside_run(path) -> bool:
        return os.path.abspath(path).startswith(run + os.sep)

    def tracked_replace(src, dst, *args, **kwargs):
        if inside_run(dst):
            writes.append(os.path.relpath(os.path.abspath(dst), run))
        return replace(src, dst, *args, **kwargs)

    def tracked_mkstemp(*args, **kwargs):
        folder = kwargs.get("dir")
        if folder is not None and inside_run(os.path.join(folder, "x")):
            writes.append(f"temporary file in {os.path.relpath(os.path.abspath(folder), run)}")
        return mkstemp(*args, **kwargs)

    def hashed_loop(train_run, *args, **kwargs):
        reason = loop(train_run, *args, **kwargs)
        (probe / f"rank{rank}.sha256").write_text(state_hash(train_run.model.state_dict()))
        return reason

    @atexit.register
    def write_log() -> None:
        (probe / f"rank{rank}.writes").write_text("".join(f"{w}\n" for w in writes))

    os.replace, tempfile.mkstemp, train_module._loop = tracked_replace, tracked_mkstemp, hashed_loop
    app(prog_name="segment")


if __name__ == "__main__":
    main()
