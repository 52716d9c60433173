"""The Label Studio round trip against a real server (slow): our label config makes a project,
our tasks import with their pre-annotations, an annotator's change goes in through the API,
the project's JSON export comes back with --mask-fixes, and exactly the changed pixels differ
in the curated folder. Our brush code is also read and written by Label Studio's own SDK.

The server runs from its own virtual environment (tests/tool_venvs.py, built by .ci/setup),
once per test session, on a free loopback port, with a temporary SQLite database."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.export.labelstudio import brush_results
from curate.io import brush_rle
from curate.io.image_files import read_mask
from label_studio_server import Server
from tool_venvs import label_studio_python

pytestmark = pytest.mark.slow
MARS300 = Path(__file__).parents[2] / "curate" / "samples" / "mars300.npz"
runner = CliRunner()


def python_or_skip() -> Path:
    python = label_studio_python()
    if isinstance(python, str):
        pytest.skip(python)
    return python


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    with Server(python_or_skip(), tmp_path_factory.mktemp("label-studio")) as running:
        print(f"Label Studio answered /health {running.started_in:.0f} s after start")
        yield running


@pytest.fixture(scope="module")
def queue(tmp_path_factory) -> tuple[Path, Path]:
    """(a curated folder of the bundled sample, its review queue for Label Studio)."""
    root = tmp_path_factory.mktemp("queue")
    for args in (["outliers", str(MARS300), "-o", str(root / "curated")],
                 ["export", str(root / "curated"), "-o", str(root / "ls"), "--to",
                  "labelstudio"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    return root / "curated", root / "ls"


def masks_of(folder: Path) -> dict[str, np.ndarray]:
    manifest = pd.read_csv(folder / "manifest.csv", dtype={"id": str})
    return {i: read_mask(folder / m) for i, m in zip(manifest["id"], manifest["mask"])}


def test_round_trip_through_a_real_server(server, queue, tmp_path):
    curated, out = queue
    meta = json.loads((curated / "dataset.json").read_text())
    names, ignore = meta["class_names"], meta["ignore_index"]
    tasks = json.loads((out / "tasks.json").read_text())
    project = server.call("POST", "/api/projects/", {
        "title": "curate review queue", "label_config": (out / "label_config.xml").read_text()})
    imported = server.call("POST", f"/api/projects/{project['id']}/import", tasks)
    assert imported["task_count"] == imported["prediction_count"] == len(tasks)
    listed = server.call("GET", f"/api/tasks/?project={project['id']}&page_size=100")["tasks"]
    by_pair = {t["data"]["pair_id"]: t["id"] for t in listed}
    first, second = tasks[0]["data"]["pair_id"], tasks[1]["data"]["pair_id"]
    before = masks_of(curated)

    # The annotator opens the first task on its pre-annotation and repaints a block as bedrock.
    prediction = server.call("GET", f"/api/predictions/?task={by_pair[first]}")[0]
    assert prediction["model_version"] == "current mask"
    height, width = before[first].shape
    start = np.full((height, width), ignore, np.uint8)
    for result in prediction["result"]:
        start[brush_rle.decode(result["value"]["rle"], height, width)] = \
            names.index(result["value"]["brushlabels"][0])
    assert (start == before[first]).all()              # the server kept our brush code intact
    after = start.copy()
    after[4:20, 8:40] = names.index("bedrock")
    changed = after != before[first]
    assert changed.sum() > 50
    server.call("POST", f"/api/tasks/{by_pair[first]}/annotations/", {
        "result": brush_results(after, names, ignore, "a"), "lead_time": 12.5})
    # ... and removes the second pair with the config's choice.
    server.call("POST", f"/api/tasks/{by_pair[second]}/annotations/", {"result": [{
        "from_name": "decision", "to_name": "image", "type": "choices",
        "value": {"choices": ["remove"]}}]})

    exported = server.call("GET", f"/api/projects/{project['id']}/export?exportType=JSON")
    assert len(exported) == 2                         # the annotated tasks only
    export = tmp_path / "project-export.json"
    export.write_text(json.dumps(exported))
    result = runner.invoke(app, ["outliers", str(curated), "-o", str(tmp_path / "fixed"),
                                 "--mask-fixes", str(export)])
    assert result.exit_code == 0, result.output
    assert "1 corrected in Label Studio" in result.output
    assert "1 remove and 0 keep chosen in the tool" in result.output

    fixed = masks_of(tmp_path / "fixed")
    assert second not in fixed and set(fixed) == set(before) - {second}
    for pair, mask in fixed.items():
        differs = mask != before[pair]
        if pair == first:
            assert (differs == changed).all()          # exactly the changed pixels
        else:
            assert not differs.any(), pair
    manifest = pd.read_csv(tmp_path / "fixed" / "manifest.csv", dtype=str,
                           keep_default_na=False).set_index("id")
    row = manifest.loc[first]
    assert row["mask_fix_tool"] == "Label Studio" and row["mask_fix"] == str(export)
    assert row["mask_fix_task"] == str(by_pair[first])
    assert row["mask_fix_annotator"] and row["mask_fix_time"]
    card = (tmp_path / "fixed" / "README.md")
    history = json.loads((tmp_path / "fixed" / "dataset.json").read_text())["history"]
    assert history[-1]["summary"]["mask_fixes_by_tool"] == {"Label Studio": 1}
    assert not card.exists() or "1 corrected in Label Studio" in card.read_text()


SDK_CHECK = """
import json, sys
import numpy as np
from label_studio_sdk.converter.brush import decode_rle, encode_rle
data = json.load(open(sys.argv[1]))
h, w = data["shape"]
ours = decode_rle(data["ours"]).reshape(h, w, 4)[..., 3] > 0
theirs = encode_rle(np.repeat(np.array(data["mask"], np.uint8).ravel() * 255, 4))
json.dump({"ours_read": ours.astype(int).tolist(), "theirs": list(map(int, theirs))},
          open(sys.argv[2], "w"))
"""


def test_brush_code_agrees_with_label_studio_sdk(tmp_path):
    python = python_or_skip()
    rng = np.random.default_rng(3)
    mask = np.zeros((37, 53), bool)
    mask[5:30, 7:40] = True
    mask[rng.random(mask.shape) < 0.05] ^= True      # single pixels: literal chunks too
    (tmp_path / "in.json").write_text(json.dumps({
        "shape": mask.shape, "ours": brush_rle.encode(mask), "mask": mask.astype(int).tolist()}))
    (tmp_path / "check.py").write_text(SDK_CHECK)
    done = subprocess.run([str(python), str(tmp_path / "check.py"), str(tmp_path / "in.json"),
                           str(tmp_path / "out.json")], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads((tmp_path / "out.json").read_text())
    assert (np.array(out["ours_read"], bool) == mask).all()               # the SDK reads ours
    assert (brush_rle.decode(out["theirs"], *mask.shape) == mask).all()   # we read the SDK's
