"""`curate --help` starts without the heavy libraries: numpy, pandas and the rest are imported
by the commands that use them, not by the command line's declaration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("numpy", "pandas", "PIL", "torch", "matplotlib", "scipy", "sklearn", "albumentations",
         "cv2", "dask", "distributed", "threadpoolctl", "numba", "llvmlite")

PROBE = """
import sys
from curate.cli.main import app
try:
    app(sys.argv[1:])
except SystemExit:
    pass
print("LOADED:" + " ".join(m for m in {heavy!r} if m in sys.modules))
"""


@pytest.mark.parametrize("args", [["--help"], ["outliers", "--help"], ["split", "--help"]])
def test_help_imports_no_heavy_library(args):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_ALBUMENTATIONS_UPDATE": "1"}
    done = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Usage" in done.stdout
    loaded = done.stdout.rsplit("LOADED:", 1)[1].strip()
    assert loaded == "", f"`curate {' '.join(args)}` imported {loaded}"


def test_importing_the_library_imports_neither_numba_nor_torch():
    """numba is imported by the first scan (curate.scan.kernels); torch not by the scan and
    the checks (curate.augment does import it, through albumentations)."""
    code = ("import sys, curate, curate.scan.features, curate.checks.outliers\n"
            "print(' '.join(m for m in ('numba', 'llvmlite', 'torch') if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_ALBUMENTATIONS_UPDATE": "1"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
