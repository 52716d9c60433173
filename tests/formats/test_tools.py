"""The labelling-tool formats without the tools (fast lane): Label Studio's brush code round
trips, the review-queue exports hold what the tools need, corrections come back from both
tools' exports, and every kind of bad input is refused naming the task or file, with nothing
written. The real-server and Datumaro round trips are test_label_studio.py and test_cvat.py."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from curate.cli import app
from curate.errors import InputError
from curate.io import brush_rle

MARS300 = Path(__file__).parents[2] / "curate" / "samples" / "mars300.npz"
runner = CliRunner()


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (40, 61)])
def test_brush_code_round_trips(shape):
    rng = np.random.default_rng(sum(shape))
    mask = rng.random(shape) < 0.3
    mask[: shape[0] // 2] = True
    assert (brush_rle.decode(brush_rle.encode(mask), *shape) == mask).all()


def test_brush_code_of_another_size_is_refused():
    code = brush_rle.encode(np.ones((4, 4), bool))
    with pytest.raises(InputError, match="task 7, soil: the brush code holds 64 values.*5x4"):
        brush_rle.decode(code, 4, 5, where="task 7, soil")
    with pytest.raises(InputError, match="ends early"):
        brush_rle.decode(code[:5], 4, 4, where="task 7")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(curated folder, its Label Studio queue, its CVAT queue)."""
    root = tmp_path_factory.mktemp("tools")
    for args in (["outliers", str(MARS300), "-o", str(root / "curated")],
                 ["export", str(root / "curated"), "-o", str(root / "ls"), "--to", "labelstudio"],
                 ["export", str(root / "curated"), "-o", str(root / "cvat"), "--to", "cvat"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    return root / "curated", root / "ls", root / "cvat"


def test_exports_hold_the_queue_in_score_order(exported):
    _, ls, cvat = exported
    tasks = json.loads((ls / "tasks.json").read_text())
    order = (cvat / "ImageSets/Segmentation/default.txt").read_text().split()
    assert [t["data"]["pair_id"] for t in tasks] == order and [t["data"]["rank"] for t in tasks] \
        == list(range(1, len(order) + 1))
    assert tasks[0]["data"]["image"].startswith("data:image/png;base64,")
    assert tasks[0]["predictions"][0]["model_version"] == "current mask"
    assert '<Label value="soil" background="#e69f00"/>' in (ls / "label_config.xml").read_text()
    assert (cvat / "labelmap.txt").read_text().splitlines()[1:3] == [
        "background:0,0,0::", "soil:230,159,0::"]
    for tree in (ls, cvat):
        assert "Bring the corrections back" in (tree / "README.md").read_text()


def test_queue_options_are_refused_for_layouts(exported, tmp_path):
    result = runner.invoke(app, ["export", str(exported[0]), "-o", str(tmp_path / "v"),
                                 "--to", "voc", "--only", "all"])
    assert result.exit_code == 1 and "--only choose(s) what goes to a labelling tool" in \
        " ".join(result.output.split())


def ls_export(ls: Path, tmp_path: Path, edit=None) -> Path:
    """A Label Studio JSON export of the first two tasks annotated as their pre-annotation,
    `edit(tasks)` applied."""
    tasks = json.loads((ls / "tasks.json").read_text())[:2]
    out = [{"id": 10 + n, "data": {"pair_id": t["data"]["pair_id"]},
            "annotations": [{"id": 1, "completed_by": {"email": "a@example.com"},
                             "updated_at": "2026-01-02T03:04:05Z",
                             "result": t["predictions"][0]["result"]}]}
           for n, t in enumerate(tasks)]
    if edit:
        edit(out)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(out))
    return path


def apply(curated: Path, fixes: Path, out: Path):
    result = runner.invoke(app, ["outliers", str(curated), "-o", str(out), "--mask-fixes",
                                 str(fixes)])
    return result, " ".join(result.output.split())


def test_label_studio_export_comes_back_with_provenance(exported, tmp_path):
    curated, ls, _ = exported

    def remove_second(tasks):
        tasks[1]["annotations"][0]["result"].append(
            {"type": "choices", "from_name": "decision", "value": {"choices": ["remove"]}})

    result, text = apply(curated, ls_export(ls, tmp_path, remove_second), tmp_path / "f")
    assert result.exit_code == 0, text
    assert "2 corrected in Label Studio" in text and "1 remove and 0 keep" in text
    import pandas as pd
    manifest = pd.read_csv(tmp_path / "f" / "manifest.csv", dtype=str, keep_default_na=False)
    fixed = manifest[manifest["mask_fix"] != ""]
    assert list(fixed["mask_fix_task"]) == ["10"] and list(fixed["mask_fix_annotator"]) == [
        "a@example.com"] and list(fixed["mask_fix_time"]) == ["2026-01-02T03:04:05Z"]


def _relabel(label):
    return lambda tasks: tasks[0]["annotations"][0]["result"][0]["value"].update(
        brushlabels=[label])


def _shrink(tasks):
    result = tasks[0]["annotations"][0]["result"][0]
    result["original_width"] -= 1


def _duplicate_layer(tasks):
    results = tasks[0]["annotations"][0]["result"]
    copy = json.loads(json.dumps(results[0]))
    copy["value"]["brushlabels"] = ["sand" if results[0]["value"]["brushlabels"] != ["sand"]
                                    else "soil"]
    results.append(copy)


def _unknown_pair(tasks):
    tasks[0]["data"]["pair_id"] = "no-such-pair"


@pytest.mark.parametrize("edit, message", [
    (_relabel("lava"), r"task 10: brush label 'lava' is not a class of this dataset"),
    (_shrink, r"task 10, \w+.*: the brush code holds [\d,]+ values, and the image is"),
    (_duplicate_layer, r"task 10: [\d,]+ pixels are painted with more than one class"),
    (_unknown_pair, r"task 10: pair id 'no-such-pair' is not in this dataset"),
], ids=["unknown label", "wrong length", "overlap", "unknown id"])
def test_bad_label_studio_exports_are_refused(exported, tmp_path, edit, message):
    curated, ls, _ = exported
    result, text = apply(curated, ls_export(ls, tmp_path, edit), tmp_path / "f")
    assert result.exit_code == 1
    assert re.search(message, text), text
    assert "Nothing was written" in text and not (tmp_path / "f").exists()


def cvat_copy(cvat: Path, tmp_path: Path) -> Path:
    tree = tmp_path / "cvat"
    shutil.copytree(cvat, tree, ignore=shutil.ignore_patterns("JPEGImages", "*.zip"))
    return tree


def test_cvat_export_comes_back(exported, tmp_path):
    curated, _, cvat = exported
    result, text = apply(curated, cvat / "annotations.zip", tmp_path / "f")
    queue = (cvat / "ImageSets/Segmentation/default.txt").read_text().split()
    assert result.exit_code == 0 and f"{len(queue)} corrected in CVAT" in text, text


def _paint(tree: Path, colour, size=None):
    first = sorted((tree / "SegmentationClass").glob("*.png"))[0]
    rgb = np.array(Image.open(first).convert("RGB"))
    rgb[:3, :3] = colour
    image = Image.fromarray(rgb)
    (image.resize(size, Image.NEAREST) if size else image).save(first)
    return first.stem


@pytest.mark.parametrize("case, message", [
    ("colour", r"holds 1 colour\(s\) that .*labelmap.txt does not name: \(1, 2, 3\) in 9 pixels"),
    ("size", r"cannot replace the pair's mask: \w+: size 10x10, its image is"),
    ("label", r"names label\(s\) this dataset does not have: \['lava'\]"),
    ("id", r"nope.png: names no pair of this dataset"),
])
def test_bad_cvat_exports_are_refused(exported, tmp_path, case, message):
    curated, _, cvat = exported
    tree = cvat_copy(cvat, tmp_path)
    if case == "colour":
        _paint(tree, (1, 2, 3))
    elif case == "size":
        _paint(tree, (230, 159, 0), size=(10, 10))
    elif case == "label":
        (tree / "labelmap.txt").write_text((tree / "labelmap.txt").read_text() + "lava:9,9,9::\n")
    else:
        shutil.copy(next((tree / "SegmentationClass").glob("*.png")),
                    tree / "SegmentationClass" / "nope.png")
    result, text = apply(curated, tree, tmp_path / "f")
    assert result.exit_code == 1
    assert re.search(message, text), text
    assert "othing was written" in text and not (tmp_path / "f").exists()


def test_removed_pairs_and_predictions_go_to_label_studio(exported, tmp_path):
    curated, _, _ = exported
    import pandas as pd
    table = pd.read_csv(curated / "reports/outliers.csv", dtype={"id": str})
    removed = table[table["removed"]]["id"].tolist()
    (tmp_path / "preds").mkdir()
    Image.fromarray(np.ones((64, 128), np.uint8)).save(tmp_path / "preds" / f"{removed[0]}.png")
    result = runner.invoke(app, ["export", str(curated), "-o", str(tmp_path / "q"), "--to",
                                 "labelstudio", "--only", "removed", "--predictions",
                                 str(tmp_path / "preds")])
    assert result.exit_code == 0, result.output
    tasks = {t["data"]["pair_id"]: t for t in json.loads((tmp_path / "q/tasks.json").read_text())}
    assert sorted(tasks) == sorted(removed) and all(t["data"]["removed"] for t in tasks.values())
    assert [p["model_version"] for p in tasks[removed[0]]["predictions"]] == [
        "current mask", "model prediction"]
