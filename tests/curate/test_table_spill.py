"""The scan's text columns of one length spilled to a temporary file (curate.scan.columns):
the same table, its pages out of memory when released, nothing left on disk, memory when the
disk is full."""

from __future__ import annotations

import errno
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from curate.checks.outliers import OutlierConfig, find_outliers
from curate.data.readers import ReadOptions, read_dataset
from curate.io import spill
from curate.io.spill import release_spilled
from curate.scan.columns import FeatureColumns

SAMPLE = Path(__file__).resolve().parents[2] / "curate" / "samples" / "mars300.npz"
FIXED = ["image_sha1", "mask_sha1", "pair_sha1", "phash", "embedding"]


@pytest.fixture
def spill_all(monkeypatch, tmp_path):
    """Every text column of one length spilled, into tmp_path."""
    monkeypatch.setattr(spill, "SPILL_BYTES", 0)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    return tmp_path


def _outliers() -> pd.DataFrame:
    dataset = read_dataset(SAMPLE, ReadOptions(num_classes=5))
    return find_outliers(dataset, OutlierConfig()).dataset.manifest


def _address_range(series: pd.Series) -> tuple[int, int]:
    """Where the characters of an Arrow-backed text column lie in memory."""
    chunks = series.array.__arrow_array__().chunks
    assert len(chunks) == 1
    data = chunks[0].buffers()[2]
    return data.address, data.address + data.size


def _spilled_maps() -> list[tuple[int, int]]:
    maps = []
    for mapped in list(spill._SPILLED):
        start = np.frombuffer(mapped, np.uint8).ctypes.data
        maps.append((start, start + len(mapped)))
    return maps


def test_a_spilled_table_gives_the_same_outliers_and_leaves_no_file(monkeypatch, tmp_path):
    expected = _outliers()      # 300 pairs: the largest column, 100 kB, stays in memory
    assert not any(lo <= _address_range(expected["embedding"])[0] < hi
                   for lo, hi in _spilled_maps())
    monkeypatch.setattr(spill, "SPILL_BYTES", 0)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))

    table = _outliers()
    pd.testing.assert_frame_equal(table, expected)
    maps = _spilled_maps()
    for name in FIXED:                # each such column lies in a spilled map
        low, high = _address_range(table[name])
        assert any(lo <= low and high <= hi for lo, hi in maps), name
    assert list(tmp_path.iterdir()) == []   # unlinked as soon as mapped
    release_spilled()
    pd.testing.assert_frame_equal(table, expected)   # read back after the pages went


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/smaps")
def test_released_pages_leave_the_process(spill_all):
    dataset = read_dataset(SAMPLE, ReadOptions(num_classes=5))
    from curate.scan.features import scan

    table = scan(dataset)
    low, high = _address_range(table["embedding"])
    assert high - low == 300 * 344 and _resident_kb(low) == 0    # released after the scan
    assert len("".join(table["embedding"].tolist())) == 300 * 344   # read: resident again
    assert _resident_kb(low) > 0
    release_spilled()
    assert _resident_kb(low) == 0


def _resident_kb(address: int) -> int:
    """Rss of the mapping of /proc/self/smaps that holds `address`."""
    inside = False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()[0]
        if "-" in head and not head.endswith(":"):
            start, end = (int(x, 16) for x in head.split("-"))
            inside = start <= address < end
        elif inside and head == "Rss:":
            return int(line.split()[1])
    raise AssertionError("no mapping holds the column")


def test_no_room_to_spill_keeps_the_table_in_memory(spill_all, monkeypatch):
    expected = _outliers()

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("os.posix_fallocate", full, raising=False)
    monkeypatch.setattr("os.ftruncate", full)
    before = len(_spilled_maps())
    pd.testing.assert_frame_equal(_outliers(), expected)
    assert len(_spilled_maps()) == before and list(spill_all.iterdir()) == []


def test_text_of_another_length_after_fixed_batches_keeps_every_row(spill_all):
    table = FeatureColumns(6)
    table.put(0, [0, 2, 4], {"t": np.array(["ab", "cd", "ef"], object)})
    table.put(2, [5], {"t": np.array(["gh"], object)})
    table.put(1, [1, 3], {"t": np.array(["ijk", None], object)})   # back to per-batch arrays
    column = table.table()["t"]
    assert column.iloc[[0, 1, 2, 4, 5]].tolist() == ["ab", "ijk", "cd", "ef", "gh"]
    assert pd.isna(column.iat[3]) and column.dtype == pd.Series(["x"]).dtype


def test_the_map_is_shared_so_released_writes_are_kept(spill_all):
    # the scan releases pages while it is still writing (columns.RELEASE_EVERY): a private
    # map would drop what was written
    before = set(map(id, spill._SPILLED))
    table = FeatureColumns(4)
    table.put(0, [0, 1], {"t": np.array(["aa", "bb"], object)})
    assert [len(m) for m in spill._SPILLED if id(m) not in before] == [8]
    release_spilled()
    table.put(1, [2, 3], {"t": np.array(["cc", "dd"], object)})
    release_spilled()
    assert table.table()["t"].tolist() == ["aa", "bb", "cc", "dd"]


def test_kept_pairs_keep_their_large_text_on_disk(spill_all):
    dataset = read_dataset(SAMPLE, ReadOptions(num_classes=5))
    from curate.data.manifest import with_manifest

    dataset = with_manifest(dataset)
    table = dataset.manifest
    picks = [[], [7], list(range(299, -1, -3)), [5, 5, 0, 299, 5]]   # repeats, any order
    for rows in picks:
        kept = dataset.subset(rows).manifest
        pd.testing.assert_frame_equal(kept, table.iloc[rows].reset_index(drop=True))
        if rows:
            low, _ = _address_range(kept["embedding"])
            assert any(lo <= low < hi for lo, hi in _spilled_maps())
    # a table that is itself a slice (Arrow offsets not at 0), negative rows, out of range
    part = table.iloc[10:60]
    pd.testing.assert_frame_equal(spill.taken(part, [-1, 0, 3]),
                                  part.iloc[[-1, 0, 3]].reset_index(drop=True))
    with pytest.raises(IndexError):
        spill.taken(part, [50])


def test_only_text_of_one_length_without_gaps_is_gathered_as_bytes():
    text = pd.Series(["ab", "cd", "ef"])
    assert spill.fixed_rows(text).tolist() == [[97, 98], [99, 100], [101, 102]]
    assert spill.fixed_rows(text.iloc[1:]).tobytes() == b"cdef"
    assert spill.fixed_rows(pd.Series(["ab", "é!", "ef"])) is None   # 2 characters, 3 bytes
    for other in (pd.Series(["ab", "c"]), pd.Series(["ab", None]), pd.Series([1, 2]),
                  pd.Series(["", ""]), pd.Series([], dtype=text.dtype)):
        assert spill.fixed_rows(other) is None


def test_the_manifest_written_in_blocks_is_the_same_file(tmp_path):
    from curate.data.manifest import with_manifest
    from curate.data.writers import CSV_FLOATS, write_manifest_csv

    table = with_manifest(read_dataset(SAMPLE, ReadOptions(num_classes=5))).manifest.copy()
    table.loc[3, "mean"] = np.nan                       # a gap and text with separators too
    table.loc[4, "source"] = 'a, "quoted"\nsource'
    for name, part in [("all", table), ("empty", table.iloc[:0])]:
        whole, blocks = tmp_path / f"{name}-whole.csv", tmp_path / f"{name}-blocks.csv"
        part.to_csv(whole, index=False, float_format=CSV_FLOATS)
        write_manifest_csv(part, blocks, rows=7)
        assert blocks.read_bytes() == whole.read_bytes()
