"""--files link: unchanged source files become hardlinks (a copy where impossible), changed
pixels are encoded, sources are never touched, and both curate and segment read the result."""

from __future__ import annotations

import pytest

import errno
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from typer.testing import CliRunner

import curate.data.linking
from curate.cli.main import app
from curate.data.readers import ReadOptions, load_dataset
from segment.data import folder as segment_data
from segment.cli import app as segment_app

runner = CliRunner()


def make_folder(root: Path, n: int = 36, gray_rgb: bool = False) -> Path:
    """n pairs: RGB JPEG images (gray with R = G = B if asked) and mode-L PNG masks."""
    rng = np.random.default_rng(1)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(n):
        field = np.kron(rng.random((4, 6, 3)), np.ones((8, 8, 1)))
        image = np.clip(field * 255 + rng.normal(0, 12, field.shape), 0, 255).astype(np.uint8)
        mask = np.ones((32, 48), np.uint8)
        mask[16:] = 2
        mask[18 + i % 8:24 + i % 8, 6 + i % 20:14 + i % 20] = 3
        if gray_rgb:  # gray pictures saved as RGB JPEGs, as AI4Mars' NAVCAM images are
            image = np.repeat(image[..., :1], 3, axis=2)
        Image.fromarray(image).save(root / "images" / f"p{i:03d}.jpg", quality=90)
        Image.fromarray(mask).save(root / "masks" / f"p{i:03d}.png")
    return root


def curate_cli(*args: str):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def manifest(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "manifest.csv", dtype=str, keep_default_na=False)


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_link_hardlinks_unchanged_jpeg_images_and_png_masks(tmp_path):
    src = make_folder(tmp_path / "src")
    out = tmp_path / "out"
    result = curate_cli("split", src, "-o", out, "--num-classes", "4", "--files", "link")
    assert "Files: link (--files link): 72 files stored as their source files' bytes " \
           "(72 hardlinked, 0 copied), none encoded" in result.output
    rows = manifest(out)
    assert set(rows["stored"]) == {"linked"}
    for _, row in rows.iterrows():
        assert row["image"] == f"images/{row['id']}.jpg" and row["mask"].endswith(".png")
        assert os.path.samefile(out / row["image"], src / "images" / f"{row['id']}.jpg")
        assert os.path.samefile(out / row["mask"], src / "masks" / f"{row['id']}.png")
    # curate reads the linked folder back with the pixels of the source.
    back = load_dataset(out)
    raw = load_dataset(src, ReadOptions(num_classes=4))
    order = {id_: i for i, id_ in enumerate(raw.ids)}
    for id_, image, mask in zip(back.ids, back.images, back.masks):
        assert np.array_equal(image, raw.images[order[id_]])
        assert np.array_equal(mask, raw.masks[order[id_]])


def test_default_encodes_small_folders_and_links_large_ones(tmp_path, monkeypatch):
    src = make_folder(tmp_path / "src")
    small = tmp_path / "small"
    result = curate_cli("split", src, "-o", small, "--num-classes", "4")
    assert "Files: encode (the default for a folder of 36 pairs" in result.output
    rows = manifest(small)
    assert "stored" not in rows.columns
    assert all(name.endswith(".png") for name in rows["image"])
    assert not any(os.path.samefile(small / name, src / "images" / f"{Path(name).stem}.jpg")
                   for name in rows["image"])
    monkeypatch.setattr(curate.data.linking, "LINK_MIN_PAIRS", 30)
    large = tmp_path / "large"
    result = curate_cli("split", src, "-o", large, "--num-classes", "4")
    assert "Files: link (the default for a folder of 36 pairs" in result.output
    assert set(manifest(large)["stored"]) == {"linked"}


def test_force_rewrite_of_a_linked_output_leaves_the_sources_untouched(tmp_path):
    src = make_folder(tmp_path / "src")
    before = snapshot(src)
    out = tmp_path / "out"
    curate_cli("split", src, "-o", out, "--num-classes", "4", "--files", "link")
    linked_image = out / manifest(out)["image"][0]
    assert linked_image.stat().st_nlink == 2
    for form in ("link", "encode"):
        curate_cli("split", src, "-o", out, "--num-classes", "4", "--seed", "5", "--force",
                   "--files", form)
        assert snapshot(src) == before
    # The encode rewrite replaced the links by new PNGs; the sources have one link again.
    assert all(p.stat().st_nlink == 1 for p in (src / "images").iterdir())
    assert all(name.endswith(".png") for name in manifest(out)["image"])


def test_changed_pixels_are_encoded_and_the_rest_linked(tmp_path):
    src = make_folder(tmp_path / "src")
    out = tmp_path / "relabelled"
    # A label map changes every mask: masks are encoded, images still linked.
    result = curate_cli("split", src, "-o", out, "--label-map", "1:3,3:1", "--num-classes", "4",
                        "--files", "link")
    assert "36 encoded as PNG" in result.output
    rows = manifest(out)
    assert set(rows["stored"]) == {"image linked"}
    assert not os.path.samefile(out / rows["mask"][0], src / "masks" / f"{rows['id'][0]}.png")
    # Augmented pairs are new pixels: encoded; their parents stay linked.
    split = tmp_path / "split"
    curate_cli("split", src, "-o", split, "--num-classes", "4", "--files", "link")
    grown = tmp_path / "grown"
    curate_cli("augment", split, "-o", grown, "--class", "3", "--count", "5",
               "--files", "link")
    rows = manifest(grown)
    stored = rows.groupby("origin")["stored"].agg(set).to_dict()
    assert stored == {"original": {"linked"}, "augmented": {"encoded"}}
    original = rows[rows["origin"] == "original"].iloc[0]
    assert os.path.samefile(grown / original["image"],
                            src / "images" / f"{original['id']}.jpg")


def test_gray_pictures_stored_as_rgb_are_linked_and_read_back_gray(tmp_path):
    src = make_folder(tmp_path / "src", gray_rgb=True)
    raw = load_dataset(src, ReadOptions(num_classes=4))
    assert raw.images[0].ndim == 2                      # read as gray: R = G = B
    out = tmp_path / "out"
    curate_cli("split", src, "-o", out, "--num-classes", "4", "--files", "link")
    rows = manifest(out)
    assert set(rows["stored"]) == {"linked"} and set(rows["channels"]) == {"1"}
    assert Image.open(out / rows["image"][0]).mode == "RGB"   # the source's bytes
    back = load_dataset(out)
    order = {id_: i for i, id_ in enumerate(raw.ids)}
    for id_, image in zip(back.ids, back.images):
        assert np.array_equal(image, raw.images[order[id_]])
    info = segment_data.load_dataset(out)
    images, _, _ = segment_data.load_split(info, "train")
    assert images.shape[1] == 1                          # one channel, as scanned


def test_the_gray_note_says_what_each_files_form_stores(tmp_path):
    # Issue 21: with --files link the note said "written as mode-L PNGs" over linked RGB JPEGs.
    src = make_folder(tmp_path / "src", n=12, gray_rgb=True)
    for form in ("link", "encode"):
        out = tmp_path / form
        said = " ".join(curate_cli("split", src, "-o", out, "--num-classes", "4",
                                   "--files", form).output.split())
        assert "read as grayscale" in said and "written as mode-L" not in said
        stored = Image.open(out / manifest(out)["image"][0])
        if form == "link":
            assert "--files link keeps the RGB source files" in said
            assert (stored.format, stored.mode) == ("JPEG", "RGB")
        else:
            assert "Encoded outputs store them as one-channel PNGs" in said
            assert (stored.format, stored.mode) == ("PNG", "L")


def test_npz_input_has_nothing_to_link(tmp_path):
    images = np.random.default_rng(0).integers(0, 255, (20, 16, 16), dtype=np.uint8)
    masks = np.ones((20, 16, 16), np.uint8)
    masks[:, 8:] = 2
    np.savez(tmp_path / "d.npz", images=images, masks=masks)
    result = curate_cli("split", tmp_path / "d.npz", "-o", tmp_path / "out",
                        "--num-classes", "3", "--files", "link")
    assert ("--files link, but d.npz is not a folder of image files, nothing to link"
            in result.output)
    assert set(manifest(tmp_path / "out")["stored"]) == {"encoded"}


def test_a_refused_hardlink_falls_back_to_a_byte_copy_said_once(tmp_path, monkeypatch):
    src = make_folder(tmp_path / "src")

    def no_link(source, target):
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))

    monkeypatch.setattr(curate.data.linking.os, "link", no_link)
    out = tmp_path / "out"
    result = curate_cli("outliers", src, "-o", out, "--num-classes", "4", "--files", "link")
    assert result.output.count("Note: a hardlink was impossible") == 1
    assert os.strerror(errno.EXDEV) in result.output
    rows = manifest(out)
    assert "(0 hardlinked, " in result.output and len(rows) > 0
    for name in rows["image"]:
        source = src / "images" / Path(name).name
        assert (out / name).read_bytes() == source.read_bytes()
        assert not os.path.samefile(out / name, source)


def test_a_linked_curated_folder_stays_linked_unless_encode_is_asked(tmp_path):
    src = make_folder(tmp_path / "src")
    linked = tmp_path / "linked"
    curate_cli("split", src, "-o", linked, "--num-classes", "4", "--files", "link")
    kept = tmp_path / "kept"
    result = curate_cli("outliers", linked, "-o", kept)   # default: a linked folder stays so
    assert "Files: link (the default for a curated folder that is itself linked)" \
        in result.output
    rows = manifest(kept)
    assert os.path.samefile(kept / rows["image"][0], src / "images" / f"{rows['id'][0]}.jpg")
    encoded = tmp_path / "encoded"
    curate_cli("outliers", linked, "-o", encoded, "--files", "encode")
    rows = manifest(encoded)
    assert "stored" not in rows.columns
    assert all(Image.open(encoded / name).format == "PNG" for name in rows["image"])
    # An encoded folder (no `stored` column) stays encoded by default, below the thresholds.
    result = curate_cli("outliers", encoded, "-o", tmp_path / "again")
    assert "Files: encode (the default for a folder of" in result.output


@pytest.mark.slow
def test_segment_trains_and_evaluates_on_a_linked_folder(tmp_path):
    src = make_folder(tmp_path / "src", n=40)
    data = tmp_path / "curated"
    curate_cli("run", src, "-o", data, "--num-classes", "4", "--files", "link", "--no-card")
    assert set(manifest(data)["stored"]) == {"linked"}
    assert json.loads((data / "dataset.json").read_text())["num_classes"] == 4
    run = tmp_path / "run"
    result = runner.invoke(segment_app, [
        "train", str(data), "-o", str(run), "--epochs", "1", "--set", "base_width=4",
        "--batch-size", "8", "--set", "threads=1", "--set", "compile=false"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(segment_app, ["evaluate", str(run / "best.pt"), str(data),
                                         "--split", "test", "--print-json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output[result.output.index("{"):])
    assert 0.0 <= scores["mean_iou"] <= 1.0
