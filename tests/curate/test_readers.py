"""Readers: npz and folder layouts, label maps, ids, and round trips through the writer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from curate.errors import InputError
from curate.io.label_maps import parse_label_map
from curate.data.readers import ReadOptions, load_dataset
from curate.data.writers import write_dataset

SAMPLE = Path(__file__).parents[2] / "curate" / "samples" / "mars300.npz"


def test_an2dl_npz_reads_every_pair_with_its_name():
    data = np.load(SAMPLE)
    dataset = load_dataset(SAMPLE, ReadOptions(num_classes=5))
    assert len(dataset) == 300
    assert dataset.ids[0] == str(data["names"][0])
    assert np.array_equal(dataset.images[7], data["training_set"][7, 0])
    assert np.array_equal(dataset.masks[7], data["training_set"][7, 1])
    assert dataset.class_names[4] == "big rock"
    assert dataset.ignore_index == 0    # the layout's convention, and the one note says so
    assert [n.split(":")[0] for n in dataset.notes] == ["Class 0 is ignored in metrics"]


def test_separate_image_and_mask_arrays(tmp_path):
    images = np.zeros((4, 8, 8), np.uint8)
    masks = np.ones((4, 8, 8), np.uint8)
    np.savez(tmp_path / "xy.npz", images=images, masks=masks)
    dataset = load_dataset(tmp_path / "xy.npz")
    assert dataset.ids == ["pair_00000", "pair_00001", "pair_00002", "pair_00003"]
    assert dataset.num_classes == 2
    assert any("num_classes inferred as 2" in n for n in dataset.notes)


def test_wrong_dtype_is_refused(tmp_path):
    np.savez(tmp_path / "f.npz", images=np.zeros((2, 4, 4), np.float32),
             masks=np.zeros((2, 4, 4), np.uint8))
    with pytest.raises(InputError, match="dtype float32; expected uint8"):
        load_dataset(tmp_path / "f.npz")


def test_label_map_parsing():
    assert parse_label_map("0:0, 255:1") == {0: 0, 255: 1}
    assert parse_label_map(None) is None
    for bad in ("255", "a:b", "300:1", "1:2:3"):
        with pytest.raises(InputError, match="--label-map"):
            parse_label_map(bad)


def test_label_map_is_applied_and_recorded(tmp_path):
    masks = np.full((2, 4, 4), 255, np.uint8)
    masks[:, 0] = 1
    np.savez(tmp_path / "m.npz", images=np.zeros((2, 4, 4), np.uint8), masks=masks)
    dataset = load_dataset(tmp_path / "m.npz", ReadOptions(num_classes=2,
                                                           label_map={255: 0}))
    assert set(np.unique(dataset.masks[0])) == {0, 1}
    assert dataset.history[0]["options"]["label_map"] == {255: 0}


def test_binary_masks_are_inferred_with_a_note(tmp_path):
    for folder in ("images", "masks"):
        (tmp_path / folder).mkdir()
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "images" / "a.png")
    mask = np.zeros((4, 4), np.uint8)
    mask[:2] = 255
    Image.fromarray(mask).save(tmp_path / "masks" / "a.png")
    dataset = load_dataset(tmp_path)
    assert dataset.num_classes == 2 and dataset.ignore_index is None
    assert set(np.unique(dataset.masks[0])) == {0, 1}
    assert any("0 and 255" in n for n in dataset.notes)


def test_not_a_dataset_folder(tmp_path):
    with pytest.raises(InputError, match="not a folder with images/ and masks/"):
        load_dataset(tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        load_dataset(tmp_path / "nope.npz")


def test_duplicate_names_get_unique_ids(tmp_path):
    pairs = np.zeros((3, 2, 4, 4), np.uint8)
    np.savez(tmp_path / "d.npz", training_set=pairs, names=np.array(["a b", "a b", "c/d"]))
    assert load_dataset(tmp_path / "d.npz").ids == ["a_b", "a_b__1", "c_d"]


pair_arrays = st.integers(1, 5).flatmap(lambda n: st.tuples(
    arrays(np.uint8, (n, 6, 10)),
    arrays(np.uint8, (n, 6, 10), elements=st.integers(0, 4)),
    st.booleans()))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pair_arrays)
def test_round_trip_through_writer_and_reader(tmp_path_factory, data):
    """Any uint8 images and labels survive npz -> dataset folder -> dataset exactly."""
    images, masks, rgb = data
    if rgb:
        images = np.stack([images] * 3, axis=-1)
    root = tmp_path_factory.mktemp("rt")
    np.savez(root / "in.npz", images=images, masks=masks)
    dataset = load_dataset(root / "in.npz", ReadOptions(num_classes=5))
    write_dataset(root / "out", dataset)
    again = load_dataset(root / "out")
    assert again.ids == dataset.ids
    assert again.num_classes == 5
    for a, b in zip(dataset.images, again.images):
        assert np.array_equal(a, b)
    for a, b in zip(dataset.masks, again.masks):
        assert np.array_equal(a, b)
    manifest = again.manifest
    for k in range(5):
        assert manifest[f"px_{k}"].tolist() == [int((m == k).sum()) for m in masks]


def test_gray_pictures_stay_gray_and_colour_stays_colour(tmp_path):
    """Gray JPEGs stored as RGB (R = G = B, like the raw AI4Mars release) are written as
    mode-L PNGs; a folder with one true colour picture keeps RGB."""
    from typer.testing import CliRunner

    from curate.cli.main import app

    rng = np.random.default_rng(0)
    for name, colour in (("gray", False), ("colour", True)):
        root = tmp_path / name
        for sub in ("images", "masks"):
            (root / sub).mkdir(parents=True)
        for i in range(3):
            gray = rng.integers(0, 256, (16, 24), dtype=np.uint8)
            rgb = np.stack([gray] * 3, axis=-1)
            if colour and i == 2:
                rgb[..., 0] = 255 - gray
            Image.fromarray(rgb).save(root / "images" / f"p{i}.jpg", quality=95)
            Image.fromarray(np.full((16, 24), i % 2, np.uint8)).save(root / "masks" / f"p{i}.png")
        decoded = np.asarray(Image.open(root / "images" / "p0.jpg"))
        assert decoded.shape == (16, 24, 3) and (decoded[..., 0] == decoded[..., 2]).all()
        out = tmp_path / f"{name}_out"
        result = CliRunner().invoke(app, ["outliers", str(root), "-o", str(out),
                                          "--num-classes", "2", "--check", "size_mismatch"])
        assert result.exit_code == 0, result.output
        modes = {Image.open(f).mode for f in (out / "images").glob("*.png")}
        assert modes == ({"RGB"} if colour else {"L"})
        if not colour:
            assert "3 RGB images have R = G = B" in " ".join(result.output.split())
            written = np.asarray(Image.open(out / "images" / "p0.png"))
            assert np.array_equal(written, decoded[..., 0])


def test_a_folder_read_for_some_ids_decodes_only_those_and_names_them_as_a_whole_read(tmp_path):
    """What the review needs of a removed pair is read alone: the other files are not opened
    (a broken one is not even reported), and ids come out as a whole read names them."""
    from curate.data.readers import read_dataset

    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    for k, stem in enumerate(["a b", "a-b", "c"]):      # "a b" and "a-b" share a safe id
        Image.fromarray(np.full((4, 5), 10 * k, np.uint8)).save(tmp_path / "images" / f"{stem}.png")
        Image.fromarray(np.full((4, 5), k % 2, np.uint8)).save(tmp_path / "masks" / f"{stem}.png")
    (tmp_path / "images" / "d.png").write_bytes(b"not a png")
    (tmp_path / "masks" / "d.png").write_bytes(b"not a png")
    whole = read_dataset(tmp_path, ReadOptions(num_classes=2))
    wanted = [whole.ids[1], "c"]
    some = read_dataset(tmp_path, ReadOptions(num_classes=2), only=wanted)
    assert some.ids == wanted and not some.problems and whole.problems
    assert [int(image[0, 0]) for image in some.images] == [10, 20]
