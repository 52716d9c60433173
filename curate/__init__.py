"""curate: find outliers, describe, split and augment small segmentation datasets.

The Python API mirrors the commands (names are imported on first use, so that
`import curate` stays fast):

    import curate
    data = curate.load_dataset("mars.npz", curate.ReadOptions(num_classes=5))
    found = curate.find_outliers(data, curate.OutlierConfig())
    kept = curate.clean(found.dataset, curate.OutlierConfig())   # StepResult(dataset, ...)
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_API = {
    "Dataset": "curate.io.dataset",
    "ReadOptions": "curate.data.readers",
    "load_dataset": "curate.data.readers",
    "build_manifest": "curate.data.manifest",
    "StepResult": "curate.step",
    "write_dataset": "curate.data.writers",
    "OutlierConfig": "curate.checks.outliers",
    "find_outliers": "curate.checks.outliers",
    "clean": "curate.checks.outliers",
    "class_stats": "curate.stats.distribution",
    "SplitConfig": "curate.split.stratify",
    "split_dataset": "curate.split.stratify",
    "find_leakage": "curate.split.leakage",
    "AugmentConfig": "curate.augment",
    "PipelineConfig": "curate.run",
    "run_pipeline": "curate.run",
    "write_result": "curate.run",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'curate' has no attribute {name!r}")
