"""COCO JSON read into semantic masks: instances (polygons, compressed and uncompressed RLE,
crowd regions, overlaps), stuff and panoptic give exactly the labels of the stated rules and
class pixel counts equal to the source's; a broken JSON is refused and nothing is written."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from curate.cli.main import app
from curate.data.readers import load_dataset
from trees import coco_tree

pytest.importorskip("pycocotools")
runner = CliRunner()
NAMES = ["person", "car", "dog", "grass"]       # category ids 1, 3, 18, 149


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    return result, " ".join(result.output.split())


def masks_by_id(dataset) -> dict[str, np.ndarray]:
    return {i: np.asarray(m) for i, m in zip(dataset.ids, dataset.masks)}


@pytest.mark.parametrize("kind", ["instances", "stuff", "panoptic"])
def test_coco_kinds_read_exactly(tmp_path, kind):
    written = coco_tree(tmp_path / "coco", kind)
    dataset = load_dataset(tmp_path / "coco")
    assert f"Layout coco, recognised as a COCO tree: {kind}_train2017.json" in dataset.notes[0]
    if kind == "instances":
        assert dataset.class_names == ["background", *NAMES] and dataset.ignore_index is None
    else:
        assert dataset.class_names == [*NAMES, "void"] and dataset.ignore_index == 4
    got = masks_by_id(dataset)
    assert set(got) == set(written)
    for stem, expected in written.items():
        assert np.array_equal(got[stem], expected), stem
    manifest = dataset.manifest.set_index("id")
    assert manifest.loc["000000000007", "source_split"] == "train"
    assert manifest.loc["000000000107", "source_split"] == "val"
    assert manifest.loc["000000000107", "source"] == "val2017/000000000107.jpg"


def test_small_objects_stay_on_top_and_class_pixels_equal_the_source(tmp_path):
    written = coco_tree(tmp_path / "coco")
    # the person (RLE) is listed before the car polygon it lies on, and still shows
    first = json.loads((tmp_path / "coco/annotations/instances_train2017.json").read_text())
    anns = [a for a in first["annotations"] if a["image_id"] == 7]
    assert [a["category_id"] for a in anns][:2] == [1, 3]
    person = np.asarray(load_dataset(tmp_path / "coco").masks[0]) == 1
    assert person.sum() == anns[0]["area"] > 0
    result, text = invoke("stats", tmp_path / "coco", "--json", tmp_path / "s.json")
    assert result.exit_code == 0, text
    counts = np.bincount(np.concatenate([m.ravel() for m in written.values()]), minlength=5)
    shown = {row["name"]: row["pixels"]
             for row in json.loads((tmp_path / "s.json").read_text())["per_class"]}
    assert shown == {name: int(counts[k]) for k, name in enumerate(["background", *NAMES])}
    # and against the source's own areas: the person lies wholly on the car, the crowd of
    # dogs and the grass on nothing else
    area = dict.fromkeys((1, 3, 18, 149), 0)
    for split in ("train2017", "val2017"):
        for ann in json.loads((tmp_path / f"coco/annotations/instances_{split}.json")
                              .read_text())["annotations"]:
            area[ann["category_id"]] += ann["area"]
    assert (shown["person"], shown["car"], shown["dog"], shown["grass"]) == (
        area[1], area[3] - area[1], area[18], area[149])


def test_an_unknown_category_is_named_and_nothing_written(tmp_path):
    coco_tree(tmp_path / "coco")
    file = tmp_path / "coco/annotations/instances_val2017.json"
    data = json.loads(file.read_text())
    data["annotations"][2]["category_id"] = 99
    file.write_text(json.dumps(data))
    bad = data["annotations"][2]
    result, text = invoke("outliers", tmp_path / "coco", "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert (f"instances_val2017.json: annotation {bad['id']} (image {bad['image_id']}) has "
            "category_id 99, which the JSON's 'categories' lack (ids 1, 3, 18, 149)") in text
    assert not (tmp_path / "out").exists()


def test_missing_images_say_where_they_were_looked_for(tmp_path):
    coco_tree(tmp_path / "coco")
    (tmp_path / "coco/val2017").rename(tmp_path / "coco/elsewhere")
    result, text = invoke("stats", tmp_path / "coco")
    assert result.exit_code == 1
    assert "The images of instances_val2017.json are not found: looked for 000000000107.jpg" in text
    assert "val2017/" in text and "images/val2017/" in text


def test_panoptic_without_its_png_folder_falls_back_or_asks_to_unzip(tmp_path):
    coco_tree(tmp_path / "coco", "panoptic")
    for split in ("train2017", "val2017"):
        folder = tmp_path / f"coco/annotations/panoptic_{split}"
        for png in folder.iterdir():
            png.unlink()
        folder.rmdir()
    result, text = invoke("stats", tmp_path / "coco")
    assert result.exit_code == 1 and "unzip panoptic_train2017.zip" in text
    coco_tree(tmp_path / "coco", "instances")
    dataset = load_dataset(tmp_path / "coco")
    assert "panoptic_train2017.json, panoptic_val2017.json left out" in dataset.notes[0]
    assert dataset.class_names[0] == "background"


def test_one_json_file_is_read_alone(tmp_path):
    written = coco_tree(tmp_path / "coco")
    dataset = load_dataset(tmp_path / "coco/annotations/instances_val2017.json")
    assert sorted(dataset.ids) == sorted(s for s in written if s.startswith("0000000001"))


def test_a_category_named_background_is_label_0(tmp_path):
    written = coco_tree(tmp_path / "coco")         # as CVAT and Datumaro export: id 0 here
    for split in ("train2017", "val2017"):
        file = tmp_path / f"coco/annotations/instances_{split}.json"
        data = json.loads(file.read_text())
        data["categories"].append({"id": 0, "name": "Background", "isthing": 0})
        file.write_text(json.dumps(data))
    dataset = load_dataset(tmp_path / "coco")
    assert dataset.class_names == ["Background", *NAMES]
    assert "or a category named background" in dataset.notes[0]
    for stem, expected in masks_by_id(dataset).items():
        assert np.array_equal(expected, written[stem])
