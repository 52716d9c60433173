"""One command in a fresh process under /usr/bin/time -v, for the benchmarks that report wall
time and peak memory (max RSS, the process's VmHWM). Imported by the bench scripts, which run
from benchmarks/ (`.venv/bin/python benchmarks/bench_X.py` puts this folder on sys.path)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1"}
CURATE = [sys.executable, "-c", "from curate.cli.main import app; app()"]
SEGMENT = [sys.executable, "-c", "from segment.cli import app; app()"]


def timed(command: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of `command` run from the repository root with
    `env` (default ENV); exits with the command's output when it fails."""
    t = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True,
                          cwd=ROOT, env=ENV if env is None else env)
    wall = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    return wall, kib / 1024, done.stdout
