"""The README's notebook steps, run in order, give the manifest that `curate run` writes.

The test executes the curate part of the README's Python API snippet as written (only the
sample's path is made absolute), so the README cannot drift from the API either.
"""

from __future__ import annotations

import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import re  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = "curate/samples/mars300.npz"


def readme_curate_snippet() -> str:
    """The Python API block of README.md, up to where the segment part starts."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Python API"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    curate_part = code[:code.index("import segment")]
    assert SAMPLE in curate_part
    return curate_part.replace(SAMPLE, str(ROOT / SAMPLE))


def test_notebook_steps_give_the_pipeline_manifest(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(readme_curate_snippet(), "README.md", "exec"), namespace)
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

    from curate.outliers import OutlierConfig, clean, find_outliers
    from curate.readers import ReadOptions, load_dataset
    from curate.split import SplitConfig, split_dataset

    data = load_dataset(ROOT / SAMPLE, ReadOptions(num_classes=5, ignore_index=None))
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
