"""npz members: uncompressed ones memory-mapped, compressed ones spilled and mapped above the
byte budget, the same pixels and outputs whichever way they were read."""

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from curate.cli.main import app
from curate.errors import InputError
from curate.io.npz import read_members
from curate.data.readers import load_dataset

SAMPLE = Path(__file__).parents[2] / "curate" / "samples" / "mars300.npz"


@pytest.fixture
def pairs():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 24, 32), dtype=np.uint8)
    masks = rng.integers(0, 3, (40, 24, 32), dtype=np.uint8)
    return images, masks


def _is_mapped(array: np.ndarray) -> bool:
    base = array
    while base is not None and not isinstance(base, np.memmap):
        base = base.base
    return isinstance(base, np.memmap) or type(getattr(base, "base", None)).__name__ == "mmap"


def test_uncompressed_members_are_mapped_read_only(pairs, tmp_path):
    np.savez(tmp_path / "p.npz", images=pairs[0], masks=pairs[1])
    arrays = read_members(tmp_path / "p.npz")
    assert _is_mapped(arrays["images"]) and not arrays["images"].flags.writeable
    assert np.array_equal(arrays["images"], pairs[0]) and np.array_equal(arrays["masks"], pairs[1])


def test_compressed_members_are_read_into_memory_within_the_budget(pairs, tmp_path):
    np.savez_compressed(tmp_path / "c.npz", images=pairs[0], masks=pairs[1])
    arrays = read_members(tmp_path / "c.npz", budget=10**9)
    assert not _is_mapped(arrays["images"])
    assert np.array_equal(arrays["images"], pairs[0])


def test_compressed_members_above_the_budget_are_spilled_mapped_and_unlinked(pairs, tmp_path, monkeypatch):
    spill = tmp_path / "spill"
    spill.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(spill))
    names = np.array([f"pair {i}" for i in range(40)])
    np.savez_compressed(tmp_path / "c.npz", images=pairs[0], masks=pairs[1], names=names)
    arrays = read_members(tmp_path / "c.npz", budget=0)
    assert _is_mapped(arrays["images"]) and _is_mapped(arrays["masks"])
    assert not arrays["images"].flags.writeable
    assert np.array_equal(arrays["images"], pairs[0]) and np.array_equal(arrays["masks"], pairs[1])
    assert list(arrays["names"]) == list(names)
    assert list(spill.iterdir()) == []          # mapped, then unlinked at once


def test_a_full_temporary_disk_is_a_clear_error(pairs, tmp_path, monkeypatch):
    np.savez_compressed(tmp_path / "c.npz", images=pairs[0], masks=pairs[1])

    def full(source, target, length=0):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("shutil.copyfileobj", full)
    with pytest.raises(InputError, match="TMPDIR.*CURATE_LAZY_BYTES"):
        read_members(tmp_path / "c.npz", budget=0)


@pytest.mark.slow
def test_run_on_a_compressed_npz_writes_the_same_bytes_spilled_or_not(tmp_path, monkeypatch):
    with np.load(SAMPLE) as data:
        np.savez_compressed(tmp_path / "c.npz", **{k: data[k][:120] if k != "test_set" else data[k]
                                                   for k in data.files})
    runner = CliRunner()
    outputs = []
    for budget in (None, "0"):
        if budget is not None:
            monkeypatch.setenv("CURATE_LAZY_BYTES", budget)
        out = tmp_path / f"read_{budget}" / "out"   # one name: reports quote it
        result = runner.invoke(app, ["run", str(tmp_path / "c.npz"), "-o", str(out),
                                     "--num-classes", "5", "--class", "4", "--count", "10"])
        assert result.exit_code == 0, result.output
        outputs.append(out)
    eager, spilled = ({p.relative_to(o): p.read_bytes() for p in sorted(o.rglob("*")) if p.is_file()}
                      for o in outputs)
    assert eager.keys() == spilled.keys() and eager == spilled
    assert load_dataset(tmp_path / "c.npz").images[0].dtype == np.uint8


def _resident_file_kb() -> int:
    for line in open("/proc/self/status"):
        if line.startswith("RssFile:"):
            return int(line.split()[1])
    return -1


def test_released_pages_read_back_the_same_bytes_and_leave_memory(tmp_path):
    from curate.io.npz import is_mapped, release_pages

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (2000, 64, 64), dtype=np.uint8)   # 8 MB
    np.savez(tmp_path / "big.npz", images=images)
    mapped = read_members(tmp_path / "big.npz")["images"]
    rows = [mapped[i] for i in range(len(mapped))]
    assert is_mapped(rows[0]) and not is_mapped(images[0])
    before = _resident_file_kb()
    total = sum(int(r.sum()) for r in rows)                     # every page read
    touched = _resident_file_kb()
    release_pages(rows[:1000])
    release_pages(rows[1000:])
    release_pages([images[0]])                                  # not mapped: nothing happens
    if before >= 0:   # Linux: the 8 MB came in and went out again
        assert touched - before > 6000
        assert _resident_file_kb() - before < 2000
    assert sum(int(r.sum()) for r in rows) == total
    assert np.array_equal(np.stack(rows), images)
