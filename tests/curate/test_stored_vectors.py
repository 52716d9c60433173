"""The stored embedding column read back a block of rows at a time (curate.scan.stored_vectors),
and the robust scale that odd_image builds from it without the whole matrix
(curate.checks.robust_scale): the same values as decoding everything and np.median."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from curate.checks import robust_scale
from curate.checks.robust_scale import RobustScale
from curate.io import spill
from curate.scan import stored_vectors
from curate.scan.stored_vectors import StoredRows, from_hex, to_hex


def _vectors(n: int = 50, d: int = 5, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vectors = (rng.normal(size=(n, d)) * rng.choice([1e-6, 1.0, 300.0], size=(n, d))).astype(np.float16)
    vectors[0, 0], vectors[1, 0], vectors[2, 1] = -0.0, 0.0, 6.5e4
    return vectors


def _buffer_column(texts: list[str]) -> pd.Series:
    """The column as the scan keeps it: one buffer of fixed-length text."""
    if spill.arrow_strings() is None:
        pytest.skip("pandas holds text in Arrow only with pyarrow installed")
    data = np.frombuffer("".join(texts).encode(), np.uint8).reshape(len(texts), -1).copy()
    return spill.text_series(data)


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(stored_vectors, "HEX_BLOCK", 7)
    monkeypatch.setattr(stored_vectors, "GATHER", 3)
    monkeypatch.setattr(robust_scale, "HEX_BLOCK", 7)


def test_rows_from_the_text_buffer_equal_rows_from_python_strings(small_blocks):
    vectors = _vectors()
    texts = list(to_hex(vectors))
    from_buffer = StoredRows(_buffer_column(texts))
    from_strings = StoredRows(pd.Series(texts, dtype=object))
    assert from_buffer.raw is not None and from_strings.raw is None
    at = np.random.default_rng(1).integers(0, len(vectors), 40)       # repeats, any order
    for rows in (from_buffer, from_strings):
        assert rows.width == vectors.shape[1]
        assert np.array_equal(rows.take(at).view(np.uint16), vectors[at].view(np.uint16))
        assert np.array_equal(rows.take(slice(3, 30)), vectors[3:30])
        blocks = list(rows.blocks())
        assert [start for start, _ in blocks] == list(range(0, len(vectors), 7))
        assert np.array_equal(np.concatenate([b for _, b in blocks]).view(np.uint16),
                              vectors.view(np.uint16))            # -0.0 stays -0.0
        some = np.array([5, 9, 2, 40])
        assert np.array_equal(rows.subset(some).take(np.array([3, 0])), vectors[[40, 5]])
        assert np.array_equal(np.concatenate([b for _, b in rows.subset(some).blocks()]),
                              vectors[some])
    assert np.array_equal(from_hex(_buffer_column(texts), np.float16), vectors)


def test_capital_hex_reads_the_same_and_a_byte_that_is_not_hex_fails_as_before():
    vectors = _vectors(n=6)
    texts = list(to_hex(vectors))
    assert np.array_equal(from_hex(_buffer_column([t.upper() for t in texts]), np.float16), vectors)
    texts[4] = "zz" + texts[4][2:]
    with pytest.raises(ValueError):
        from_hex(_buffer_column(texts))
    with pytest.raises(ValueError):
        from_hex(pd.Series(texts, dtype=object))


def test_the_median_read_off_pattern_counts_is_numpys():
    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 10, 11, 1000, 1001):
        for spread in (1e-3, 1.0, 100.0):
            values = (rng.normal(size=n) * spread).astype(np.float16)
            values[: n // 3] = values[0]                          # ties around the middle
            counts = np.bincount(values.view(np.uint16), minlength=robust_scale.PATTERNS)
            wide = values.astype(np.float64)
            assert robust_scale._middle(robust_scale._VALUES, counts, n) == np.median(wide)
            with np.errstate(invalid="ignore"):       # inf - inf: patterns never counted
                deviations = np.abs(robust_scale._VALUES - np.median(wide))
            assert robust_scale._middle(deviations, counts, n) == np.median(np.abs(wide - np.median(wide)))


def test_the_scale_from_the_stored_column_equals_the_scale_in_memory(small_blocks):
    vectors = _vectors(n=101, d=6)
    vectors[:, 3] = 1.0
    vectors[:5, 3] = 30.0                 # MAD 0: spread by the standard deviation
    vectors[7] = np.nan                   # not finite: left out of the statistics
    texts = list(to_hex(vectors))
    valid = np.flatnonzero(np.arange(101) != 7)
    x = vectors[valid].astype(np.float64)
    x -= np.median(x, axis=0)
    mad = 1.4826 * np.median(np.abs(x), axis=0)
    spread = mad.copy()
    spread[mad <= 0] = x[:, mad <= 0].std(axis=0)
    expected = np.clip(x / np.where(spread > 0, spread, 1.0), -20, 20)
    for source in (vectors, StoredRows(_buffer_column(texts)),
                   StoredRows(pd.Series(texts, dtype=object))):
        scale = RobustScale(source)
        assert np.array_equal(scale.valid, np.arange(101) != 7) and len(scale) == 100
        assert np.array_equal(scale[np.arange(100)], expected)
        assert np.array_equal(np.concatenate([scale.scaled(b) for _, b in scale.rows.blocks()]),
                              expected)


def test_vectors_in_memory_must_be_the_stored_float16():
    with pytest.raises(TypeError, match="float16"):
        RobustScale(np.zeros((5, 2), dtype=np.float32))
