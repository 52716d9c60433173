"""LazyPixels: a read-only sequence that decodes a file at each access, as a list would index."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from curate.errors import InputError
from curate.io.pixels import (ArrayRows, FileRef, LazyPixels, concat, lazy_budget, map_pixels, shape_of,
                           take)
from curate.data.readers import read_image


@pytest.fixture
def pictures(tmp_path):
    """Three (4, 6) gray PNGs filled with 10, 20, 30, by reference, and the arrays."""
    arrays = [np.full((4, 6), v, np.uint8) for v in (10, 20, 30)]
    refs = []
    for k, array in enumerate(arrays):
        path = tmp_path / f"{k}.png"
        Image.fromarray(array).save(path)
        refs.append(FileRef(str(path), array.shape, read_image))
    return LazyPixels(refs), arrays


def _values(pixels) -> list[int]:
    return [int(p[0, 0]) for p in pixels]


def test_items_are_decoded_on_access_like_a_list(pictures):
    lazy, arrays = pictures
    assert len(lazy) == 3
    for i in range(3):
        np.testing.assert_array_equal(lazy[i], arrays[i])
        assert lazy[i].dtype == np.uint8 and lazy[i].shape == (4, 6)
    assert lazy[np.int64(1)][0, 0] == 20          # numpy integers index too
    assert _values(lazy) == [10, 20, 30]          # iteration
    assert _values(lazy) == [10, 20, 30]          # deterministic: the same again


def test_negative_and_out_of_range_indices_behave_as_for_a_list(pictures):
    lazy, _ = pictures
    assert lazy[-1][0, 0] == 30 and lazy[-3][0, 0] == 10
    with pytest.raises(IndexError):
        lazy[3]
    with pytest.raises(IndexError):
        lazy[-4]
    with pytest.raises(TypeError):
        lazy[1.0]


def test_take_keeps_references_in_the_new_order(pictures):
    lazy, arrays = pictures
    subset = take(lazy, np.array([2, 0, 2]))
    assert isinstance(subset, LazyPixels)
    assert _values(subset) == [30, 10, 30]
    assert all(isinstance(item, FileRef) for item in subset._items)
    assert _values(lazy[::-2]) == [30, 10]
    assert _values(take(arrays, [2, 0])) == [30, 10]   # a list stays a list
    assert isinstance(take(arrays, [1]), list)


def test_concatenation_with_lists_and_other_sequences(pictures):
    lazy, arrays = pictures
    extra = [np.full((2, 2), 99, np.uint8)]
    assert _values(lazy + extra) == [10, 20, 30, 99]
    assert _values(extra + lazy) == [99, 10, 20, 30]
    assert _values(lazy + lazy.take([0])) == [10, 20, 30, 10]
    joined = concat(lazy, extra)
    assert isinstance(joined, LazyPixels) and len(lazy) == 3   # the operands are unchanged
    assert sum(not isinstance(i, FileRef) for i in joined._items) == 1
    assert _values(concat(extra, lazy)) == [99, 10, 20, 30]
    assert _values(concat(tuple(arrays), extra)) == [10, 20, 30, 99]
    assert isinstance(concat(tuple(arrays), extra), list)    # lists stay in memory


def test_shapes_come_without_decoding(pictures, tmp_path):
    lazy, _ = pictures
    for path in tmp_path.glob("*.png"):
        path.unlink()                      # a decode would now fail
    assert shape_of(lazy, 1) == (4, 6)
    assert shape_of([np.zeros((2, 3))], 0) == (2, 3)
    with pytest.raises(InputError):
        lazy[1]


def test_map_applies_at_each_decode_and_only_where_asked(pictures):
    lazy, arrays = pictures
    plus = map_pixels(lazy, lambda a: a + 1, only=[True, False, True])
    assert _values(plus) == [11, 20, 31]
    assert _values(lazy) == [10, 20, 30]
    cut = map_pixels(lazy, lambda a: a[:2], shape=lambda s: (2,) + s[1:])
    assert shape_of(cut, 0) == (2, 6) == cut[0].shape
    assert _values(map_pixels(arrays, lambda a: a * 2)) == [20, 40, 60]


def test_budget_from_the_environment(monkeypatch):
    monkeypatch.delenv("CURATE_LAZY_BYTES", raising=False)
    assert lazy_budget() == 512_000_000
    monkeypatch.delenv("SEGMENT_LAZY_BYTES", raising=False)
    assert lazy_budget("SEGMENT_LAZY_BYTES", 2_000_000_000) == 2_000_000_000
    monkeypatch.setenv("CURATE_LAZY_BYTES", "0")
    assert lazy_budget() == 0
    for bad in ("2GB", "-1"):
        monkeypatch.setenv("CURATE_LAZY_BYTES", bad)
        with pytest.raises(InputError, match="CURATE_LAZY_BYTES"):
            lazy_budget()


def test_rows_of_a_stacked_array_are_views_taken_on_access(tmp_path):
    """An npz's pairs stay one array: rows are views (of the mapped file), shapes need no
    row, take keeps rows of the array, and concat gives a list as for any sequence."""
    from curate.data.readers import ReadOptions, read_dataset
    from curate.io.npz import is_mapped

    stack = np.arange(3 * 4 * 6, dtype=np.uint8).reshape(3, 4, 6)
    rows = ArrayRows(stack)
    assert len(rows) == 3 and rows[-1] is not stack[2] and np.shares_memory(rows[1], stack)
    assert [int(r[0, 0]) for r in rows] == [0, 24, 48] and shape_of(rows, 2) == (4, 6)
    assert [int(r[0, 0]) for r in rows[1:]] == [24, 48]
    assert [int(r[0, 0]) for r in take(rows, [2, 0])] == [48, 0]
    assert [int(r[0, 0]) for r in concat(rows, [stack[0]])] == [0, 24, 48, 0]
    np.savez(tmp_path / "pairs.npz", images=stack, masks=stack % 2)
    data = read_dataset(tmp_path / "pairs.npz", ReadOptions(num_classes=2))
    assert isinstance(data.images, ArrayRows) and is_mapped(data.images[1])
    assert np.array_equal(data.subset([2, 0]).masks[0], stack[2] % 2)


def test_rows_kept_of_a_stacked_array_are_an_index_into_it():
    """A subset of an npz's pairs holds the array and an index (8 bytes a pair), not a view
    per pair, and reads as the list of those rows would."""
    stack = np.arange(5 * 2 * 3, dtype=np.uint8).reshape(5, 2, 3)
    kept = take(ArrayRows(stack), [4, 0, 4, -2])
    assert isinstance(kept, ArrayRows) and kept.array is stack and len(kept) == 4
    expected = [stack[4], stack[0], stack[4], stack[3]]
    assert all(np.array_equal(a, b) and np.shares_memory(a, stack) for a, b in zip(kept, expected))
    assert all(np.array_equal(kept[i], expected[i]) for i in range(-4, 4))
    again = take(kept, [3, 1])                     # rows of rows: still one index
    assert again.array is stack and [int(r[0, 0]) for r in again] == [18, 0]
    assert [int(r[0, 0]) for r in kept[1:3]] == [0, 24] and len(take(kept, [])) == 0
    assert shape_of(kept, 0) == (2, 3)
    for rows, outside in [(kept, [4]), (kept, [-5]), (kept, [0, 9]), (ArrayRows(stack), [5]),
                          (ArrayRows(stack), [-6])]:
        with pytest.raises(IndexError):
            take(rows, outside)
    with pytest.raises(IndexError):
        kept[4]
