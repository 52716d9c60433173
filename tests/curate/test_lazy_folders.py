"""Folders read by reference (CURATE_LAZY_BYTES below their pixels) give exactly what folders
read into memory give: the same arrays, notes and manifest, and byte-identical outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from curate.cli.main import app
from curate.io.dataset import Dataset
from curate.scan.features import scan
from curate.io.pixels import FileRef, LazyPixels
from curate.data.readers import ReadOptions, load_dataset, read_image, read_mask

SHAPE = (32, 48)


def _picture(rng: np.random.Generator, colour: bool) -> np.ndarray:
    """A smooth random picture: a coarse random field upsampled, plus a little noise."""
    channels = (3,) if colour else ()
    coarse = rng.integers(0, 256, (4, 6) + channels).astype(np.float32)
    field = np.kron(coarse, np.ones((8, 8) + (1,) * len(channels), np.float32))
    noise = rng.normal(0, 6, field.shape)
    return np.clip(field + noise, 0, 255).astype(np.uint8)


def _save_pair(root: Path, name: str, image: np.ndarray, mask: np.ndarray) -> None:
    Image.fromarray(image).save(root / "images" / f"{name}.png")
    Image.fromarray(mask).save(root / "masks" / f"{name}.png")


def _mixed_folder(root: Path) -> Path:
    """40 pairs, 20 gray and 20 colour, classes 0..2 everywhere and class 3 in three masks;
    pair 39 is a near duplicate of pair 20; one image has no mask."""
    rng = np.random.default_rng(7)
    images = [_picture(rng, colour=k >= 20) for k in range(40)]
    masks = [np.minimum(im if im.ndim == 2 else im[..., 0], 191) // 64 for im in images]
    for k in (5, 17, 33):
        masks[k][4:12, 4:20] = 3                    # the rare class
    images[39], masks[39] = images[20].copy(), masks[20]
    images[39][0, :3] ^= 4                          # a near duplicate of pair 20
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for k, (image, mask) in enumerate(zip(images, masks)):
        _save_pair(root, f"p{k:02d}", image, mask.astype(np.uint8))
    Image.fromarray(_picture(rng, colour=False)).save(root / "images" / "stray.png")
    return root


def _gray_rgb_folder(root: Path) -> Path:
    """30 gray pictures stored as RGB (R = G = B) with binary 0/255 masks: read as gray, with
    the inferred map {0: 0, 255: 1}."""
    rng = np.random.default_rng(3)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for k in range(30):
        gray = _picture(rng, colour=False)
        mask = np.where(gray > (160 if k % 3 else 96), 255, 0).astype(np.uint8)
        _save_pair(root, f"g{k:02d}", np.repeat(gray[..., None], 3, axis=2), mask)
    return root


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _invoke_both(monkeypatch, out: Path, args: list[str]) -> None:
    """Run `curate ARGS -o OUT` in memory, then by reference, into the same OUT (so that
    every path in the output is the same); both must print and write the same bytes."""
    seen = []
    for budget in (None, "0"):
        if budget is None:
            monkeypatch.delenv("CURATE_LAZY_BYTES", raising=False)
        else:
            monkeypatch.setenv("CURATE_LAZY_BYTES", budget)
        result = CliRunner().invoke(app, args + ["-o", str(out), "--force"])
        assert result.exit_code == 0, result.output
        seen.append((result.output, _tree(out)))
    (eager_output, eager_tree), (lazy_output, lazy_tree) = seen
    assert lazy_output == eager_output
    assert sorted(lazy_tree) == sorted(eager_tree)
    for name in eager_tree:
        assert lazy_tree[name] == eager_tree[name], name


@pytest.mark.slow
@pytest.mark.parametrize("files", ["encode", "link"])
def test_run_on_a_folder_writes_the_same_bytes_by_reference(tmp_path, monkeypatch, files):
    data = _mixed_folder(tmp_path / "data")
    _invoke_both(monkeypatch, tmp_path / "out",
                 ["run", str(data), "--class", "3", "--count", "6", "--files", files])


@pytest.mark.slow
def test_gray_rgb_binary_folder_and_its_curated_output_by_reference(tmp_path, monkeypatch):
    data = _gray_rgb_folder(tmp_path / "data")
    curated = tmp_path / "curated"
    _invoke_both(monkeypatch, curated,
                 ["run", str(data), "--class", "1", "--count", "4", "--files", "link"])
    assert "read as grayscale" in CliRunner().invoke(app, ["stats", str(data)]).output
    # The curated folder links RGB files that its manifest records as gray (channels 1).
    _invoke_both(monkeypatch, tmp_path / "again", ["outliers", str(curated)])
    _invoke_both(monkeypatch, tmp_path / "grown",
                 ["augment", str(curated), "--class", "1", "--count", "3"])


def _same_pixels(a: Dataset, b: Dataset) -> None:
    assert len(a.images) == len(b.images) == len(a.masks) == len(b.masks)
    for x, y in zip(list(a.images) + list(a.masks), list(b.images) + list(b.masks)):
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("make", [_mixed_folder, _gray_rgb_folder])
def test_a_folder_above_the_budget_holds_file_references_only(tmp_path, monkeypatch, make):
    data = make(tmp_path / "data")
    monkeypatch.delenv("CURATE_LAZY_BYTES", raising=False)
    eager = load_dataset(data)
    monkeypatch.setenv("CURATE_LAZY_BYTES", "0")
    lazy = load_dataset(data)
    assert isinstance(eager.images, list) and isinstance(eager.masks, list)
    for pixels in (lazy.images, lazy.masks):
        assert isinstance(pixels, LazyPixels)
        assert all(isinstance(item, FileRef) for item in pixels._items)   # no pixels held
    _same_pixels(eager, lazy)
    assert (lazy.ids, lazy.sources, lazy.notes, lazy.problems, lazy.history) == (
        eager.ids, eager.sources, eager.notes, eager.problems, eager.history)
    assert lazy.manifest.equals(eager.manifest)
    subset = lazy.subset([5, 0, 5])
    assert all(isinstance(item, FileRef) for item in subset.images._items)
    _same_pixels(eager.subset([5, 0, 5]), subset)


def test_the_budget_is_the_decoded_bytes_of_images_and_masks(tmp_path, monkeypatch):
    data = _gray_rgb_folder(tmp_path / "data")
    total = 30 * (SHAPE[0] * SHAPE[1] * 3 + SHAPE[0] * SHAPE[1])   # RGB files as decoded
    monkeypatch.setenv("CURATE_LAZY_BYTES", str(total))
    assert isinstance(load_dataset(data).images, list)
    monkeypatch.setenv("CURATE_LAZY_BYTES", str(total - 1))
    assert isinstance(load_dataset(data).images, LazyPixels)


def test_a_curated_folder_is_read_by_reference_too(tmp_path, monkeypatch):
    data = _mixed_folder(tmp_path / "data")
    out = tmp_path / "out"
    assert CliRunner().invoke(app, ["split", str(data), "-o", str(out)]).exit_code == 0
    eager = load_dataset(out)
    monkeypatch.setenv("CURATE_LAZY_BYTES", "0")
    lazy = load_dataset(out)
    assert isinstance(lazy.images, LazyPixels) and isinstance(lazy.masks, LazyPixels)
    _same_pixels(eager, lazy)
    assert lazy.files == eager.files and lazy.manifest.equals(eager.manifest)


def test_the_scan_decodes_each_pair_once(tmp_path):
    data = _mixed_folder(tmp_path / "data")
    decoded: dict[str, int] = {}

    def counting(read):
        def decode(path: Path) -> np.ndarray:
            decoded[str(path)] = decoded.get(str(path), 0) + 1
            return read(path)
        return decode

    stems = sorted(p.stem for p in (data / "masks").iterdir())
    paths = [data / "images" / f"{s}.png" for s in stems]
    images = LazyPixels(FileRef(str(p), SHAPE + ((3,) if Image.open(p).mode == "RGB" else ()),
                                counting(read_image)) for p in paths)
    masks = LazyPixels(FileRef(str(data / "masks" / f"{s}.png"), SHAPE, counting(read_mask))
                       for s in stems)
    dataset = Dataset(ids=stems, images=images, masks=masks, sources=stems, num_classes=4,
                      class_names=[f"class {k}" for k in range(4)])
    table = scan(dataset)
    assert len(table) == 40 and sorted(decoded.values()) == [1] * 80


@pytest.mark.parametrize("make, ignore", [(_mixed_folder, None), (_mixed_folder, 0),
                                          (_gray_rgb_folder, None)])
@pytest.mark.parametrize("budget", ["0", "100000"])   # none held; the first few held, then none
def test_a_folder_by_reference_decodes_each_pair_once_for_read_and_scan(tmp_path, monkeypatch,
                                                                         make, ignore, budget):
    """The reading pass computes what the scan needs of each pair while it holds its pixels
    (curate.scan.image_half, mask_half), so loading (read + scan) decodes each image and
    mask once, and the manifest is the one of the folder read into memory: across runs of
    one shape cut short (SCAN_RUN 3, the scan's batches 128) and gray pictures stored as
    RGB. Masks a label map relabels (the gray folder's 0/255) are decoded again."""
    from curate.io import image_files

    data = make(tmp_path / "data")
    options = ReadOptions(ignore_index=ignore)      # 0: the labelled box from the mask facts
    monkeypatch.delenv("CURATE_LAZY_BYTES", raising=False)
    eager = load_dataset(data, options)
    assert eager.ignore_index == ignore
    decoded: dict[str, int] = {}

    def counting(read):
        def decode(path: Path) -> np.ndarray:
            decoded[path.parent.name] = decoded.get(path.parent.name, 0) + 1
            return read(path)
        return decode

    monkeypatch.setattr(image_files, "read_image", counting(image_files.read_image))
    monkeypatch.setattr(image_files, "read_mask", counting(image_files.read_mask))
    monkeypatch.setattr(image_files, "SCAN_RUN", 3)
    monkeypatch.setenv("CURATE_LAZY_BYTES", budget)
    lazy = load_dataset(data, options)
    files = len(list((data / "masks").iterdir()))
    assert isinstance(lazy.images, LazyPixels)
    masks = files * (2 if make is _gray_rgb_folder else 1)
    assert decoded == {"images": files, "masks": masks}
    pd.testing.assert_frame_equal(lazy.manifest, eager.manifest, check_exact=True)
    # used, then let go: a later scan decodes the pairs again, with the same rows
    assert not any(p.facts(i) for p in (lazy.images, lazy.masks) for i in range(len(lazy)))
    pd.testing.assert_frame_equal(scan(lazy.subset([3, 1])),
                                  scan(eager.subset([3, 1])), check_exact=True)
    assert decoded == {"images": files + 2, "masks": masks + 2}


def test_a_folder_clearly_over_the_budget_holds_no_pixels_while_it_is_read(tmp_path,
                                                                          monkeypatch):
    """Its first pair's size times the pairs is over twice the budget: read by reference from
    the first pair, rather than holding the budget's worth and dropping it; the same dataset
    either way. Just under twice, pairs are held until the budget runs out."""
    from curate.io import image_files

    data = _gray_rgb_folder(tmp_path / "data")           # 30 pairs of 6,144 bytes: 184,320
    monkeypatch.delenv("CURATE_LAZY_BYTES", raising=False)
    eager = load_dataset(data)
    held, add = [], image_files._Kept.add
    monkeypatch.setattr(image_files._Kept, "add",
                        lambda self, pair: held.append(1) or add(self, pair))
    for budget, holds in (("100000", True), ("90000", False)):
        held.clear()
        monkeypatch.setenv("CURATE_LAZY_BYTES", budget)
        lazy = load_dataset(data)
        assert isinstance(lazy.images, LazyPixels) and bool(held) == holds, budget
        pd.testing.assert_frame_equal(lazy.manifest, eager.manifest, check_exact=True)


def test_facts_follow_a_transform_only_where_it_says_how():
    """A transformed FileRef drops the facts of the pixels it transforms, unless the
    transform maps them (reading gray pictures stored as RGB keeps theirs as gray)."""
    from curate.io.pixels import map_pixels

    ref = FileRef("a.png", SHAPE + (3,), read_image, facts="of the RGB pixels")
    assert map_pixels(LazyPixels([ref]), np.flipud).facts(0) is None
    kept = map_pixels(LazyPixels([ref]), np.flipud, facts=lambda f: f + ", flipped")
    assert kept.facts(0) == "of the RGB pixels, flipped"
    assert LazyPixels([ref]).take([0, 0]).facts(1) == "of the RGB pixels"
    assert LazyPixels([np.zeros(SHAPE, np.uint8)]).facts(0) is None


@pytest.mark.slow
def test_the_cluster_scan_of_a_folder_by_reference_sends_a_task_at_a_time(tmp_path,
                                                                          monkeypatch):
    pytest.importorskip("distributed", reason="dask[distributed] is not installed")
    from curate.scan import cluster, features

    monkeypatch.setenv("CURATE_LAZY_BYTES", "0")
    dataset = load_dataset(_mixed_folder(tmp_path / "data"))
    monkeypatch.setattr(features, "CHUNK", 4)
    monkeypatch.setattr(cluster, "TASK_PAIRS", 4)            # ten tasks of one chunk each
    monkeypatch.setattr(cluster, "in_flight", lambda client: 1)
    here = scan(dataset)
    with cluster.connect(cluster.ClusterOptions(workers=2)):
        there = scan(dataset)
    pd.testing.assert_frame_equal(here, there, check_exact=True)
