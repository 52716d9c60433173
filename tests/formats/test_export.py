"""`curate export` writes a curated folder back in each layout; curate's own readers (and, for
the parquet files, Hugging Face's `datasets`) read the export with the same labels and
pixels, the class names where the format carries them, and the split as source_split, which
`curate split --keep-source-split` turns back into the same split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from curate.cli.main import app
from curate.data.readers import load_dataset
from curate.export import WRITERS
from curate.io.layouts.cityscapes import TRAIN_IDS
from trees import cityscapes_tree

MARS300 = Path(__file__).parents[2] / "curate" / "samples" / "mars300.npz"
# A new layout writer is held to the same round trip; the labelling tools write the review
# queue instead (tests/formats/test_tools.py).
FORMATS = [f for f in WRITERS if f not in ("cvat", "labelstudio")]
runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    return result, " ".join(result.output.split())


@pytest.fixture(scope="module")
def curated(tmp_path_factory) -> dict[str, Path]:
    """Two curated, split folders: 16 AI4Mars pairs (5 classes, class 0 ignored, a gray
    image each) and a Cityscapes tree read from its label ids (class 19, void, ignored)."""
    root = tmp_path_factory.mktemp("curated")
    np.savez(root / "mars.npz", training_set=np.load(MARS300)["training_set"][:16])
    cityscapes_tree(root / "cs")
    folders = {"mars": root / "mars", "cityscapes": root / "cs_curated"}
    for args in (("split", root / "mars.npz", "-o", folders["mars"], "--num-classes", "5",
                  "--ratios", "0.5,0.25,0.25"),
                 ("split", root / "cs", "-o", folders["cityscapes"], "--keep-source-split")):
        result, text = invoke(*args)
        assert result.exit_code == 0, text
    return folders


def pixels(dataset, split: list[str], fmt: str) -> dict[str, tuple]:
    """key -> (image, mask, split). Parquet rows have no ids of their own: they are keyed by
    split and place in it (the export writes each split's rows in manifest order)."""
    keys, seen = list(dataset.ids), {}
    if fmt == "hf":
        keys = [f"{s}#{seen.setdefault(s, []).append(s) or len(seen[s])}" for s in split]
    return {k: (np.asarray(i), np.asarray(m), s)
            for k, i, m, s in zip(keys, dataset.images, dataset.masks, split)}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", ["mars", "cityscapes"])
def test_export_reads_back_with_the_same_pixels_classes_and_splits(tmp_path, curated, fmt, name):
    out = tmp_path / "export"
    result, text = invoke("export", curated[name], "-o", out, "--to", fmt)
    assert result.exit_code == 0, text
    assert f"Wrote {out} ({fmt}): {16 if name == 'mars' else 6} pairs" in text
    source, back = load_dataset(curated[name]), load_dataset(out)
    before = pixels(source, source.manifest["split"].tolist(), fmt)
    after = pixels(back, back.manifest["source_split"].tolist(), fmt)
    assert set(after) == set(before)
    for key, (image, mask, split) in before.items():
        assert np.array_equal(after[key][0], image), key
        assert np.array_equal(after[key][1], mask), key
        assert after[key][2] == split, key
    if fmt != "cityscapes" or name == "cityscapes":   # Cityscapes' names are fixed
        assert back.class_names == source.class_names
    if name == "cityscapes":                          # a class named void is ignored again
        assert back.ignore_index == source.ignore_index == 19
    elif fmt != "cityscapes":
        assert f"--ignore-index {source.ignore_index}" in text and back.ignore_index is None


def test_keep_source_split_restores_the_split(tmp_path, curated):
    invoke("export", curated["mars"], "-o", tmp_path / "voc", "--to", "voc")
    result, text = invoke("split", tmp_path / "voc", "-o", tmp_path / "again",
                          "--keep-source-split")
    assert result.exit_code == 0, text
    read = lambda p: pd.read_csv(p / "manifest.csv", dtype=str,  # noqa: E731
                                 keep_default_na=False).set_index("id")["split"]
    assert read(tmp_path / "again").sort_index().equals(read(curated["mars"]).sort_index())


def test_void_is_written_as_255_and_label_ids_go_back(tmp_path, curated):
    ids = cityscapes_tree(tmp_path / "raw")        # the same tree as the fixture's (seed 0)
    for fmt in ("voc", "cityscapes"):
        result, text = invoke("export", curated["cityscapes"], "-o", tmp_path / fmt, "--to", fmt)
        assert result.exit_code == 0 and "is written as" in text and "void value 255" in text
    stem = "lindau_000001_000007"
    voc = Image.open(tmp_path / "voc/SegmentationClass" / f"{stem}.png")
    train = np.vectorize(lambda v: TRAIN_IDS.get(v, 255))(ids[stem])
    assert voc.mode == "P" and np.array_equal(np.asarray(voc), train)
    assert voc.getpalette()[3 * 255:3 * 256] == [224, 224, 192]     # VOC's void colour
    gt = tmp_path / "cityscapes/gtFine/val/lindau"
    assert np.array_equal(np.asarray(Image.open(gt / f"{stem}_gtFine_labelTrainIds.png")), train)
    label_ids = np.asarray(Image.open(gt / f"{stem}_gtFine_labelIds.png"))
    kept = train != 255
    assert np.array_equal(label_ids[kept], ids[stem][kept]) and (label_ids[~kept] == 0).all()
    assert "Read from Cityscapes label ids" in " ".join(
        invoke("export", curated["cityscapes"], "-o", tmp_path / "c2", "--to",
               "cityscapes")[1].split())
    lists = tmp_path / "voc/ImageSets/Segmentation"
    assert sorted(p.name for p in lists.iterdir()) == ["test.txt", "train.txt", "trainval.txt",
                                                       "val.txt"]


def test_an_unsplit_dataset_is_exported_and_said(tmp_path, curated):
    result, text = invoke("outliers", curated["mars"], "-o", tmp_path / "plain", "--check",
                          "blank")
    assert result.exit_code == 0, text
    manifest = pd.read_csv(tmp_path / "plain/manifest.csv", dtype=str, keep_default_na=False)
    manifest["split"] = ""
    manifest.to_csv(tmp_path / "plain/manifest.csv", index=False)
    result, text = invoke("export", tmp_path / "plain", "-o", tmp_path / "out", "--to", "folder")
    assert result.exit_code == 0, text
    assert "The dataset is not split" in text and "16 unsplit" in text
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"images", "masks", "classes.txt"}
    assert load_dataset(tmp_path / "out").class_names == load_dataset(curated["mars"]).class_names


def test_bad_exports_are_refused_and_write_nothing(tmp_path, curated):
    result, text = invoke("export", curated["mars"], "-o", tmp_path / "x", "--to", "tiff")
    assert result.exit_code == 1 and f"choose one of: {', '.join(WRITERS)}" in text
    cityscapes_tree(tmp_path / "raw")
    result, text = invoke("export", tmp_path / "raw", "-o", tmp_path / "x", "--to", "voc")
    assert result.exit_code == 1 and "is not a curated folder" in text and "curate split" in text
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    result, text = invoke("export", curated["mars"], "-o", tmp_path / "taken", "--to", "hf")
    assert result.exit_code == 1 and "--force" in text
    assert not (tmp_path / "x").exists()
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["keep.txt"]


@pytest.mark.slow
def test_hf_export_is_read_by_the_datasets_library(tmp_path, curated):
    """The parquet files, read by Hugging Face's own loader, decode to the same pixels."""
    datasets = pytest.importorskip("datasets")
    out = tmp_path / "hf"
    assert invoke("export", curated["cityscapes"], "-o", out, "--to", "hf")[0].exit_code == 0
    files = {p.name.split("-")[0]: str(p) for p in (out / "data").glob("*.parquet")}
    loaded = datasets.load_dataset("parquet", data_files=files, cache_dir=str(tmp_path / "c"))
    assert set(loaded) == {"train", "validation", "test"}
    source = load_dataset(curated["cityscapes"])
    masks = dict(zip(source.ids, source.masks))
    images = dict(zip(source.ids, source.images))
    for split in loaded.values():
        for row in split:
            assert np.array_equal(np.asarray(row["annotation"]), masks[row["id"]])
            assert np.array_equal(np.asarray(row["image"]), images[row["id"]])


def test_coco_export_is_read_by_the_coco_api(tmp_path, curated):
    """pycocotools' own COCO class (its index, annToMask) rebuilds each mask: class k is
    category k, class 0 (ignored) is where no annotation lies."""
    coco_api = pytest.importorskip("pycocotools.coco")
    out = tmp_path / "coco"
    result, text = invoke("export", curated["mars"], "-o", out, "--to", "coco")
    assert result.exit_code == 0, text
    source = load_dataset(curated["mars"])
    masks = dict(zip(source.ids, (np.asarray(m) for m in source.masks)))
    seen = 0
    for path in sorted((out / "annotations").glob("instances_*.json")):
        index = coco_api.COCO(str(path))
        for image in index.loadImgs(index.getImgIds()):
            rebuilt = np.zeros((image["height"], image["width"]), np.uint8)
            for ann in index.loadAnns(index.getAnnIds(imgIds=image["id"])):
                rebuilt[index.annToMask(ann) > 0] = ann["category_id"]   # class k is id k
            assert np.array_equal(rebuilt, masks[Path(image["file_name"]).stem])
            seen += 1
    assert seen == len(masks)


@pytest.mark.slow
@pytest.mark.parametrize("fmt, theirs", [("voc", "voc_segmentation"), ("coco", "coco_instances"),
                                         ("cityscapes", "cityscapes")])
def test_datumaro_reads_our_exports_with_our_classes(tmp_path, curated, fmt, theirs):
    """An independent reader, Datumaro (its own virtual environment, tests/tool_venvs.py),
    reads our export: every pixel it labels has the class name of our mask (void and
    unannotated pixels aside, which each format leaves unlabelled its own way)."""
    import subprocess

    from tool_venvs import datumaro_python

    python = datumaro_python()
    if isinstance(python, str):
        pytest.skip(python)
    name = "cityscapes" if fmt == "cityscapes" else "mars"
    out = tmp_path / fmt
    result, text = invoke("export", curated[name], "-o", out, "--to", fmt)
    assert result.exit_code == 0, text
    done = subprocess.run([str(python), str(Path(__file__).with_name("datumaro_import.py")),
                           str(out), theirs, str(tmp_path / "read.npz")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    read = np.load(tmp_path / "read.npz")
    source = load_dataset(curated[name])
    names = np.array(source.class_names)
    checked = 0
    for pair, mask in zip(source.ids, source.masks):
        key = pair if pair in read.files else next(k for k in read.files if pair.endswith(k))
        labelled = read[key] != ""
        ours = names[np.asarray(mask)]
        assert (read[key][labelled] == ours[labelled]).all(), pair
        # Every pixel of a scored class is read, the background class 0 aside (VOC's
        # reader gives it no mask of its own).
        scored = ~np.isin(np.asarray(mask), [source.ignore_index, 0])
        assert labelled[scored].all(), pair
        checked += 1
    assert checked == len(source.ids)
