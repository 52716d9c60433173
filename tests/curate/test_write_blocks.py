"""Writing a curated folder a block of pairs at a time (curate.data.writers.WRITE_PAIRS): the
same files, the pages of a mapped npz let go, and a folder by reference decoded once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from curate.cli.main import app
from curate.data import writers
from curate.data.readers import read_image, read_mask
from curate.data.writers import write_dataset
from curate.io.dataset import Dataset
from curate.io.pixels import FileRef, LazyPixels


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _npz(path: Path, n: int = 40) -> Path:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 24, 32), dtype=np.uint8)
    masks = (images // 90).astype(np.uint8)
    masks[5] = 0                               # one pair flagged and left out
    np.savez(path, images=images, masks=masks)   # stored: the members are mapped
    return path


def test_blocks_write_the_same_folder_as_one_pass(tmp_path, monkeypatch):
    data = _npz(tmp_path / "pairs.npz")
    trees = []
    for block in (7, 10**6):
        monkeypatch.setattr(writers, "WRITE_PAIRS", block)
        out = tmp_path / f"out{block}"
        result = CliRunner().invoke(app, ["outliers", str(data), "-o", str(out),
                                          "--num-classes", "3"])
        assert result.exit_code == 0, result.output
        trees.append(_tree(out))
    assert trees[0] == trees[1] and len([k for k in trees[0] if k.startswith("images/")]) >= 39


def test_released_pages_of_a_mapped_npz_are_its_written_rows(tmp_path, monkeypatch):
    released = []
    monkeypatch.setattr(writers, "WRITE_PAIRS", 16)
    monkeypatch.setattr(writers, "release_pages", lambda arrays: released.append(len(arrays)))
    result = CliRunner().invoke(app, ["outliers", str(_npz(tmp_path / "pairs.npz")), "-o",
                                      str(tmp_path / "out"), "--num-classes", "3"])
    assert result.exit_code == 0, result.output
    kept = len(list((tmp_path / "out" / "images").iterdir()))
    # images and masks of each block of 16 kept pairs, the last block shorter
    blocks = [min(16, kept - s) for s in range(0, kept, 16)]
    assert released == [b for b in blocks for _ in (0, 1)]


def test_a_dataset_by_reference_is_decoded_once_to_be_written(tmp_path, monkeypatch):
    monkeypatch.setattr(writers, "WRITE_PAIRS", 3)
    folder = tmp_path / "data"
    (folder / "images").mkdir(parents=True)
    (folder / "masks").mkdir()
    rng = np.random.default_rng(1)
    from PIL import Image

    stems = [f"p{k}" for k in range(10)]
    for s in stems:
        Image.fromarray(rng.integers(0, 256, (16, 20), dtype=np.uint8)).save(
            folder / "images" / f"{s}.png")
        Image.fromarray(rng.integers(0, 3, (16, 20), dtype=np.uint8)).save(
            folder / "masks" / f"{s}.png")
    decoded: dict[str, int] = {}

    def counting(read):
        def decode(path):
            decoded[str(path)] = decoded.get(str(path), 0) + 1
            return read(path)
        return decode

    dataset = Dataset(
        ids=stems, sources=stems, num_classes=3, class_names=["a", "b", "c"],
        images=LazyPixels(FileRef(str(folder / "images" / f"{s}.png"), (16, 20),
                                  counting(read_image)) for s in stems),
        masks=LazyPixels(FileRef(str(folder / "masks" / f"{s}.png"), (16, 20),
                                 counting(read_mask)) for s in stems))
    write_dataset(tmp_path / "out", dataset)      # no files named: each pair is encoded
    # once for the scan of its manifest, once to be encoded; never to let pages go
    assert sorted(decoded.values()) == [2] * 20
