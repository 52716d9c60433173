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
