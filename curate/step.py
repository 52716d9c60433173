"""What every curate step returns, and how a step records itself in the dataset's history.

A step is `step(dataset, config) -> StepResult`: the returned dataset is a new value that
carries its manifest and history; the input dataset and the config are left as they were.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from curate import __version__
from curate.io.dataset import Dataset


@dataclass(frozen=True)
class StepResult:
    """A step's output dataset, its summary (also in the history), and its report files.

    `table` is the step's own table when it has one (the split report of `split_dataset`,
    the plan of `augment`); `steps` holds the results of the steps a chain ran, by name.
    """

    dataset: Dataset
    summary: dict
    reports: dict[str, bytes | str] = field(default_factory=dict)
    table: pd.DataFrame | None = None
    steps: dict[str, "StepResult"] = field(default_factory=dict)


def recorded(dataset: Dataset, command: str, options: dict, summary: dict,
             manifest: pd.DataFrame | None = None) -> Dataset:
    """A new dataset with one more history entry (and `manifest`, when given)."""
    entry = {
        "command": command,
        "options": dict(options),
        "tool_version": __version__,
        "input": dataset.origin_path,
        "summary": summary,
    }
    changes = {"history": [*dataset.history, entry]}
    if manifest is not None:
        changes["manifest"] = manifest
    return replace(dataset, **changes)
