"""The notebook steps of docs/api.md, run in order, give the manifest that `curate run` writes."""

from __future__ import annotations

import pytest

import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import re  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = "curate/samples/mars300.npz"


# The steps as docs/api.md takes them one by one in a notebook (tests/test_docs.py runs that
# page as written), then all at once as `curate run` does.
NOTEBOOK = f"""
import curate
from curate.augment import augment

data = curate.load_dataset({str(ROOT / SAMPLE)!r}, curate.ReadOptions(num_classes=5))
outliers = curate.OutlierConfig()
found = curate.find_outliers(data, outliers)
kept = curate.clean(found.dataset, outliers)
split = curate.split_dataset(kept.dataset, curate.SplitConfig(seed=0))
grown = augment(split.dataset, curate.AugmentConfig(target_class=4, count=20))
curate.write_dataset("curated", grown.dataset, {{**kept.reports, **split.reports, **grown.reports}})

result = curate.run_pipeline(data, curate.PipelineConfig(
    augment=curate.AugmentConfig(target_class=4, count=20)))
curate.write_result("curated_all", result)
"""


@pytest.mark.slow
def test_notebook_steps_give_the_pipeline_manifest(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(NOTEBOOK, "notebook", "exec"), namespace)
    data, grown, result = namespace["data"], namespace["grown"], namespace["result"]

    notebook, pipeline = grown.dataset.manifest, result.dataset.manifest
    assert list(notebook.columns) == list(pipeline.columns)
    assert any(c.startswith("is_") for c in notebook.columns) and "dup_group" in notebook
    pd.testing.assert_frame_equal(notebook.reset_index(drop=True),
                                  pipeline.reset_index(drop=True))
    assert [s["command"] for s in grown.dataset.history] == \
        [s["command"] for s in result.dataset.history] == ["outliers", "split", "augment"]

    # The steps left their input alone: the loaded dataset has no step in its history and
    # its manifest none of the columns the steps add.
    assert data.history == [] and "removed" not in data.manifest
    assert (data.manifest["split"] == "").all()

    # Written (`curate run` calls run_pipeline): the two folders hold the same manifest.csv,
    # and run_pipeline's callers get the card and report too.
    written = [(tmp_path / name / "manifest.csv").read_bytes()
               for name in ("curated", "curated_all")]
    assert written[0] == written[1]
    assert (tmp_path / "curated_all" / "card.md").is_file()
    assert (tmp_path / "curated_all" / "report.html").is_file()


def test_steps_leave_their_input_and_config_alone():
    """find_outliers used to set config.ignore_index from the dataset and split_dataset to
    append to the input's history; every step now returns new values instead."""
    import copy

    from curate.checks.outliers import OutlierConfig, clean, find_outliers
    from curate.data.readers import ReadOptions, load_dataset
    from curate.split.stratify import SplitConfig, split_dataset

    data = load_dataset(ROOT / SAMPLE, ReadOptions(num_classes=5, ignore_from_layout=False))
    data = data.subset(range(80))
    outliers, split = OutlierConfig(), SplitConfig(ratios=(0.5, 0.25, 0.25))
    configs = copy.deepcopy((outliers, split))
    columns = list(data.manifest.columns)

    found = find_outliers(data, outliers)
    kept = clean(found.dataset, outliers)
    result = split_dataset(kept.dataset, split)

    assert (outliers, split) == configs and outliers.ignore_index == 0
    assert data.history == [] and list(data.manifest.columns) == columns
    assert "removed" in found.dataset.manifest and "split_group" not in kept.dataset.manifest
    recorded = kept.dataset.history[-1]["options"]
    assert recorded["ignore_index"] is None           # the dataset's, recorded as before
    assert [s["command"] for s in result.dataset.history] == ["outliers", "split"]
