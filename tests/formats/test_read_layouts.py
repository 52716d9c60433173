"""Each downloaded layout is read with nothing but its path: the note says which layout and
why, the labels equal the source's exactly, source split and groups land in the manifest, and
broken trees are refused with a clear error and nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from curate.cli.main import app
from curate.data.readers import load_dataset
from curate.io.layouts.cityscapes import TRAIN_IDS
from trees import COCO_CATEGORIES, camvid_tree, cityscapes_tree, coco_tree, hf_rows, voc_tree

runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    return result, " ".join(result.output.split())


def masks_by_id(dataset) -> dict[str, np.ndarray]:
    return {i: np.asarray(m) for i, m in zip(dataset.ids, dataset.masks)}


def test_voc_tree(tmp_path):
    written = voc_tree(tmp_path / "voc")
    dataset = load_dataset(tmp_path / "voc")
    assert "Layout voc, recognised as a Pascal VOC tree" in dataset.notes[0]
    assert dataset.num_classes == 22 and dataset.ignore_index == 21
    assert dataset.class_names[15] == "person" and dataset.class_names[21] == "void"
    got = masks_by_id(dataset)
    assert set(got) == set(written)                # the image without a mask is left out
    for stem, raw in written.items():
        assert np.array_equal(got[stem], np.where(raw == 255, 21, raw))
    manifest = dataset.manifest.set_index("id")
    assert manifest.loc["2007_000000", "source_split"] == "train"
    assert manifest.loc["2007_000009", "source_split"] == "val"
    assert manifest.loc["2007_000000", "source"].endswith("JPEGImages/2007_000000.jpg")


def test_voc_list_naming_a_missing_file_is_refused(tmp_path):
    voc_tree(tmp_path / "voc")
    lists = tmp_path / "voc/VOCdevkit/VOC2012/ImageSets/Segmentation/train.txt"
    lists.write_text(lists.read_text() + "2011_999999\n")
    result, text = invoke("outliers", tmp_path / "voc", "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert "names 1 pair(s) the tree lacks" in text and "2011_999999" in text
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("train_ids", [False, True])
def test_cityscapes_tree(tmp_path, train_ids):
    written = cityscapes_tree(tmp_path / "cs")
    if train_ids:   # cityscapesScripts' createTrainIdLabelImgs writes these beside the ids
        lut = np.full(256, 255, np.uint8)
        for raw, train in TRAIN_IDS.items():
            lut[raw] = train
        for stem, ids in written.items():
            city = stem.split("_")[0]
            folder = next((tmp_path / "cs/gtFine").glob(f"*/{city}"))
            Image.fromarray(lut[ids]).save(folder / f"{stem}_gtFine_labelTrainIds.png")
    dataset = load_dataset(tmp_path / "cs")
    assert "Layout cityscapes" in dataset.notes[0]
    assert dataset.num_classes == 20 and dataset.ignore_index == 19
    assert dataset.class_names[13] == "car" and dataset.class_names[19] == "void"
    got = masks_by_id(dataset)
    for stem, ids in written.items():
        expected = np.vectorize(lambda v: TRAIN_IDS.get(v, 19))(ids).astype(np.uint8)
        assert np.array_equal(got[stem], expected), stem
    manifest = dataset.manifest.set_index("id")
    assert manifest.loc["aachen_000000_000019", "source_group"] == "aachen_000000"
    assert manifest.loc["lindau_000001_000007", "source_split"] == "val"


def test_cityscapes_without_ground_truth_is_refused(tmp_path):
    cityscapes_tree(tmp_path / "cs")
    shutil.rmtree(tmp_path / "cs" / "gtFine")
    result, text = invoke("stats", tmp_path / "cs")
    assert result.exit_code == 1 and "neither gtFine/ nor gtCoarse/" in text


def test_cityscapes_split_keeps_drives_together_and_the_source_split(tmp_path):
    cityscapes_tree(tmp_path / "cs")
    result, text = invoke("split", tmp_path / "cs", "-o", tmp_path / "split")
    assert result.exit_code == 0, text
    manifest = pd.read_csv(tmp_path / "split/manifest.csv", dtype=str, keep_default_na=False)
    drive = manifest[manifest["source_group"] == "aachen_000000"]["split"]
    assert drive.nunique() == 1                    # the two frames of one drive
    result, text = invoke("split", tmp_path / "cs", "-o", tmp_path / "kept",
                          "--keep-source-split")
    assert result.exit_code == 0, text
    assert "6 of 6 pairs kept the split they came with" in text
    kept = pd.read_csv(tmp_path / "kept/manifest.csv", dtype=str, keep_default_na=False)
    assert (kept["split"] == kept["source_split"]).all()


def test_camvid_colour_masks(tmp_path):
    written = camvid_tree(tmp_path / "camvid")
    result, text = invoke("stats", tmp_path / "camvid", "--json", tmp_path / "s.json")
    assert result.exit_code == 0, text
    assert "Layout sibling" in text and "class_dict.csv(6classes)" in "".join(text.split())
    assert "Class 5 (Void) is ignored in metrics" in text
    dataset = load_dataset(tmp_path / "camvid")
    assert dataset.class_names == ["Sky", "Building", "Pole", "Road", "Pedestrian", "Void"]
    got = masks_by_id(dataset)
    for stem, classes in written.items():
        assert np.array_equal(got[stem], classes), stem
    counts = np.bincount(np.concatenate([m.ravel() for m in written.values()]), minlength=6)
    per_class = json.loads((tmp_path / "s.json").read_text())
    shown = {row["name"]: row for row in per_class["per_class"]}
    assert shown["Pedestrian"]["pixels"] == counts[4]
    assert set(dataset.manifest["source_split"]) == {"train", "val", "test"}


def test_a_colour_the_table_lacks_is_named_with_its_pixels_and_file(tmp_path):
    camvid_tree(tmp_path / "camvid")
    bad = next((tmp_path / "camvid/val_labels").iterdir())
    rgb = np.asarray(Image.open(bad)).copy()
    rgb[:3, :5] = (10, 20, 30)
    Image.fromarray(rgb).save(bad)
    result, text = invoke("outliers", tmp_path / "camvid", "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert f"{bad.name} holds 1 colour(s)" in text and "(10, 20, 30) in 15 pixels" in text
    assert not (tmp_path / "out").exists()


def test_colour_masks_without_a_table_ask_for_one(tmp_path):
    camvid_tree(tmp_path / "camvid")
    (tmp_path / "camvid/class_dict.csv").rename(tmp_path / "colours.csv")
    result, text = invoke("stats", tmp_path / "camvid")
    assert result.exit_code == 1 and "--colors FILE" in text
    result, text = invoke("stats", tmp_path / "camvid", "--colors", tmp_path / "colours.csv")
    assert result.exit_code == 0, text


def test_labelmap_txt_of_cvat_is_a_colour_table(tmp_path):
    camvid_tree(tmp_path / "camvid")
    (tmp_path / "camvid/class_dict.csv").unlink()
    from trees import CAMVID_TABLE

    (tmp_path / "camvid/labelmap.txt").write_text(
        "# label:color_rgb:parts:actions\n"
        + "".join(f"{n}:{r},{g},{b}::\n" for n, (r, g, b) in CAMVID_TABLE))
    assert load_dataset(tmp_path / "camvid").class_names[3] == "Road"


def test_hugging_face_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rows, masks = hf_rows()
    (tmp_path / "hf/data").mkdir(parents=True)
    for split, part in (("train", slice(0, 6)), ("validation", slice(6, 9))):
        pq.write_table(pa.Table.from_pylist(rows[part]),
                       tmp_path / f"hf/data/{split}-00000-of-00001.parquet", row_group_size=2)
    dataset = load_dataset(tmp_path / "hf")
    assert "Layout parquet" in dataset.notes[0] and "masks from 'annotation'" in dataset.notes[0]
    assert [np.asarray(m).tolist() for m in dataset.masks] == [m.tolist() for m in masks]
    assert list(dataset.manifest["source_split"]) == ["train"] * 6 + ["val"] * 3


def test_parquet_without_a_mask_column_lists_the_columns(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rows, _ = hf_rows(3)
    for row in rows:
        row["target_png"] = row.pop("annotation")
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "train.parquet")
    result, text = invoke("stats", tmp_path / "train.parquet")
    assert result.exit_code == 1
    assert "no recognisable mask column; its columns are: image, scene, target_png" in text
    result, text = invoke("stats", tmp_path / "train.parquet", "--columns", "image,target_png")
    assert result.exit_code == 0, text


def test_parquet_read_by_reference_past_the_budget(tmp_path, monkeypatch):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rows, masks = hf_rows()
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "train.parquet", row_group_size=4)
    monkeypatch.setenv("CURATE_LAZY_BYTES", "0")
    dataset = load_dataset(tmp_path / "train.parquet")
    assert type(dataset.masks).__name__ == "LazyPixels"
    assert [np.asarray(m).tolist() for m in dataset.masks] == [m.tolist() for m in masks]


@pytest.mark.parametrize("tree", [voc_tree, camvid_tree])
def test_a_layout_by_reference_decodes_its_images_once_with_the_same_manifest(tmp_path,
                                                                            monkeypatch, tree):
    """Read past the budget, a layout's reading pass computes the images' half of the scan
    (curate.scan.image_half) with the layout's own decoders, so the scan decodes only the
    masks (colour masks through their table), and the manifest is the one read in memory."""
    from curate.data import layout_reading
    from curate.io.layouts import FoundPairs

    tree(tmp_path / "data")
    monkeypatch.delenv("CURATE_LAZY_BYTES", raising=False)
    eager = load_dataset(tmp_path / "data")
    images = []
    choose = layout_reading.choose

    def counted(*args) -> FoundPairs:
        found = choose(*args)
        decode = found.decode_image
        found.decode_image = lambda path: images.append(path) or decode(path)
        return found

    monkeypatch.setattr(layout_reading, "choose", counted)
    monkeypatch.setenv("CURATE_LAZY_BYTES", "0")
    lazy = load_dataset(tmp_path / "data")
    assert type(lazy.images).__name__ == "LazyPixels"
    assert len(images) == len(set(images)) == len(lazy)
    pd.testing.assert_frame_equal(lazy.manifest, eager.manifest, check_exact=True)


def test_an_unknown_layout_lists_the_known_ones(tmp_path):
    (tmp_path / "stuff").mkdir()
    result, text = invoke("stats", tmp_path / "stuff")
    assert result.exit_code == 1 and "voc, cityscapes, coco, parquet, sibling" in text
    result, text = invoke("stats", tmp_path / "stuff", "--layout", "kitti")
    assert result.exit_code == 1 and "--layout 'kitti' is not a layout" in text


def test_voc_rgb_masks_and_labelmap_as_datumaro_exports_them(tmp_path):
    from curate.io.layouts.voc import voc_colour

    written = voc_tree(tmp_path / "voc")
    tree = tmp_path / "voc/VOCdevkit/VOC2012"
    for stem, raw in written.items():           # RGB in VOC's colours, void border included
        colours = np.array([voc_colour(k) for k in range(256)], np.uint8)
        Image.fromarray(colours[raw]).save(tree / "SegmentationClass" / f"{stem}.png")
    dataset = load_dataset(tmp_path / "voc")
    for stem, raw in written.items():
        assert np.array_equal(masks_by_id(dataset)[stem], np.where(raw == 255, 21, raw))
    names = ["background", "plane", "bike", "bird", "boat"] + [f"c{k}" for k in range(5, 16)]
    (tree / "labelmap.txt").write_text("# label:color_rgb:parts:actions\n"
                                       + "".join(f"{n}:::\n" for n in names))
    dataset = load_dataset(tmp_path / "voc")
    assert "named by labelmap.txt (16 classes)" in dataset.notes[0]
    assert dataset.class_names[:2] == ["background", "plane"]
    assert dataset.class_names[-1] == "void" and dataset.ignore_index == 16


def test_cityscapes_with_datumaro_label_colors_and_no_city_folder(tmp_path):
    written = cityscapes_tree(tmp_path / "cs")
    for top in ("leftImg8bit", "gtFine"):       # Datumaro's items may have no city folder
        for file in list((tmp_path / "cs" / top).glob("*/*/*.*")):
            file.rename(file.parent.parent / file.name)
    names = [f"label{k}" for k in range(34)]
    (tmp_path / "cs/label_colors.txt").write_text("".join(f" {n}\n" for n in names))
    dataset = load_dataset(tmp_path / "cs")
    assert "label ids are the 34 rows of label_colors.txt" in dataset.notes[0]
    assert dataset.class_names == names and dataset.ignore_index is None
    for stem, ids in written.items():
        assert np.array_equal(masks_by_id(dataset)[stem], ids), stem
    assert dataset.manifest.set_index("id").loc["lindau_000001_000007", "source_split"] == "val"
    # the file of Datumaro's own Cityscapes labels keeps the train-id mapping
    (tmp_path / "cs/label_colors.txt").write_text(
        "0 0 0 unlabeled\n0 0 0 egovehicle\n" + "".join(f"1 2 3 {n}\n" for n in [
            "rectificationborder", "outofroi", "static", "dynamic", "ground", "road",
            "sidewalk", "parking", "railtrack", "building", "wall", "fence", "guardrail",
            "bridge", "tunnel", "pole", "polegroup", "trafficlight", "trafficsign",
            "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus",
            "caravan", "trailer", "train", "motorcycle", "bicycle", "licenseplate"]))
    assert load_dataset(tmp_path / "cs").class_names[19] == "void"
