"""The compiled scan kernels (numba) against the numpy reference: the same features (pixel and
mask statistics exactly, the embedding to float32 rounding) on the bundled sample and on
planted data, the same flags; the numpy fallback with its one note; the cache folder rules;
--threads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from curate.checks.outliers import OutlierConfig, find_outliers
from curate.cli.main import app
from curate.io.dataset import Dataset, default_class_names
from curate.scan import cluster, embedding, features, kernels, stored_vectors
from planted import NUM_CLASSES, SAMPLE, load_sample, planted_sample

pytest.importorskip("numba")
from curate.scan import embedding_kernel, pixel_kernel  # noqa: E402  (they import numba)
ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def textures(n: int, shape: tuple[int, int], seed: int) -> np.ndarray:
    """(n, H, W) uint8: smooth fields, gratings, noise, flat and two-level frames."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[: shape[0], : shape[1]]
    out = []
    for k in range(n):
        kind = k % 5
        if kind == 0:
            im = 128 + 60 * np.sin(x / rng.uniform(2, 20)) * np.cos(y / rng.uniform(2, 20))
        elif kind == 1:
            im = rng.normal(120, rng.uniform(1, 60), shape)
        elif kind == 2:
            im = np.full(shape, rng.integers(0, 256))
        elif kind == 3:
            im = np.where(x > shape[1] // 2, 200, 30) + rng.normal(0, 2, shape)
        else:
            im = np.cumsum(rng.normal(0, 3, shape), axis=1) + 128
        out.append(np.clip(im, 0, 255).astype(np.uint8))
    return np.stack(out)


def gray_sets():
    pairs, _ = load_sample()
    planted = planted_sample().pairs[:, 0]
    return {"mars300": pairs[:, 0], "planted": planted,
            "large (halved)": textures(10, (200, 333), 1), "odd sides": textures(10, (37, 51), 2),
            "tiny": textures(5, (6, 9), 3), "thin": textures(5, (2, 40), 4)}


@pytest.mark.parametrize("name", list(gray_sets()))
def test_pixel_statistics_equal_the_numpy_reference(name):
    gray = gray_sets()[name]
    reference, compiled = features.pixel_stats(gray), pixel_kernel.pixel_columns(gray)
    assert list(compiled) == list(reference)
    for column in reference:
        assert compiled[column].dtype == np.asarray(reference[column]).dtype, column
        np.testing.assert_allclose(compiled[column], reference[column], rtol=1e-12, atol=1e-12,
                                   err_msg=column)


def mask_sets():
    pairs, _ = load_sample()
    rng = np.random.default_rng(5)
    blocky = np.kron(rng.integers(0, 7, (6, 5, 4)), np.ones((1, 8, 9), np.int64))
    empty = np.zeros((3, 20, 30), np.int64)
    framed = np.zeros((3, 20, 30), np.int64)
    framed[:, 4:15, 2:20] = 2
    return {"mars300": pairs[:, 1], "planted": planted_sample().pairs[:, 1],
            "blocky, out of range": blocky.astype(np.uint8),
            "all ignored": empty.astype(np.uint8), "framed": framed.astype(np.uint8),
            "noise 256": rng.integers(0, 256, (4, 9, 7), dtype=np.uint8),
            "one row": rng.integers(0, 3, (3, 1, 12), dtype=np.uint8),
            # labelled pixels scattered among 0 and 255 (the ignore classes the test gives):
            # each row's first and last labelled pixel, and rows with none, shape the box
            "sparse labels": np.where(rng.random((4, 23, 31)) > 0.97,
                                      rng.integers(1, 4, (4, 23, 31)),
                                      rng.choice([0, 255], (4, 23, 31))).astype(np.uint8)}


@pytest.mark.parametrize("ignore_index", [0, None, 255])
@pytest.mark.parametrize("name", list(mask_sets()))
def test_mask_statistics_equal_the_numpy_reference(name, ignore_index):
    masks = mask_sets()[name]
    for num_classes in (5, 40):
        reference = features.mask_stats(masks, num_classes, ignore_index)
        compiled = pixel_kernel.mask_columns(masks, num_classes, ignore_index)
        assert list(compiled) == list(reference)
        for column in reference:
            assert compiled[column].dtype == reference[column].dtype, column
            np.testing.assert_array_equal(compiled[column], reference[column], err_msg=column)


@pytest.mark.parametrize("ignore_index", [0, None, 255])
@pytest.mark.parametrize("name", list(mask_sets()))
def test_mask_columns_from_the_reading_pass_facts_equal_the_reference(name, ignore_index):
    """A folder read by reference keeps each mask's facts (curate.scan.mask_half: digest,
    boundary count, each value's count and box), compiled or in numpy, and the scan makes
    the mask columns from them, for any class count and ignored class, exactly."""
    from curate.scan import mask_half

    masks = mask_sets()[name]
    for compiled in (True, False):
        facts = [mask_half.MaskFacts(m, compiled) for m in masks]
        for num_classes in (5, 40):
            reference = features.mask_stats(masks, num_classes, ignore_index)
            made = mask_half.columns(facts, num_classes, ignore_index)
            assert made.pop("mask_sha1") == [features.digest(m).hex() for m in masks]
            assert list(made) == list(reference)
            for column in reference:
                assert made[column].dtype == reference[column].dtype, (column, compiled)
                np.testing.assert_array_equal(made[column], reference[column],
                                              err_msg=f"{column} compiled={compiled}")


@pytest.mark.parametrize("name", list(gray_sets()))
def test_embedding_equals_the_numpy_reference(name):
    gray = gray_sets()[name]
    reference, compiled = embedding.texture_embedding(gray), embedding_kernel.embed(gray)
    assert compiled.shape == reference.shape == (len(gray), embedding.dimension())
    # float64 sums here, float32 in numpy: equal to float32 rounding of values up to ~10
    np.testing.assert_allclose(compiled, reference, rtol=1e-4, atol=2e-4)


def planted_dataset(pairs, ids):
    return Dataset(ids=ids, images=list(pairs[:, 0]), masks=list(pairs[:, 1]),
                   sources=list(ids), num_classes=NUM_CLASSES,
                   class_names=default_class_names(NUM_CLASSES))


@pytest.mark.parametrize("case", ["planted", "sample"])
def test_scan_and_flags_are_the_same_with_and_without_numba(case, monkeypatch):
    pairs, ids = (planted_sample().pairs, planted_sample().ids) if case == "planted" \
        else load_sample()
    dataset = planted_dataset(pairs, ids)
    compiled = find_outliers(dataset, OutlierConfig()).dataset.manifest
    monkeypatch.setattr(kernels, "available", lambda: False)
    reference = find_outliers(dataset, OutlierConfig()).dataset.manifest
    assert list(compiled.columns) == list(reference.columns)
    flags = [c for c in reference.columns if c.startswith("is_")] + ["removed", "reason"]
    assert compiled[flags].equals(reference[flags])
    numbers = reference.select_dtypes("number").columns
    np.testing.assert_allclose(compiled[numbers].to_numpy(float),
                               reference[numbers].to_numpy(float), rtol=1e-3, atol=1e-3)
    # float16 hex: at most one unit in the last place apart
    a = stored_vectors.from_hex(compiled["embedding"])
    b = stored_vectors.from_hex(reference["embedding"])
    np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-4)


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": str(ROOT), "NO_ALBUMENTATIONS_UPDATE": "1", **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=full, cwd=ROOT, timeout=600)


def test_without_numba_the_numpy_code_runs_with_one_note(tmp_path):
    code = ("import sys; sys.modules['numba'] = None\n"     # import numba now fails
            "from curate.cli.main import app\n"
            f"app(['outliers', {str(SAMPLE)!r}, '--num-classes', '5', '--dry-run'])")
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stderr.splitlines() if "numpy code" in line]
    assert len(notes) == 1 and notes[0].startswith("Note:") and "numba" in notes[0], done.stderr
    assert "Warning" not in done.stderr


def test_the_compiled_run_prints_no_note():
    result = runner.invoke(app, ["outliers", str(SAMPLE), "--num-classes", "5", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "numpy code" not in result.output


def test_cache_folder_rules(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "given"))
    assert kernels.cache_dir() == tmp_path / "given"
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert kernels.cache_dir() == tmp_path / "xdg" / "curate" / "numba"
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")                 # unwritable even for root
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(blocker / "cache"))
    assert kernels.cache_dir() is None


@pytest.mark.slow   # compiles every kernel from cold in a fresh process: 10-20 s
def test_an_unwritable_cache_compiles_without_one_and_writes_nothing_beside_the_package(
        tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    before = sorted(p.name for p in (ROOT / "curate" / "scan").rglob("*.nb*"))
    code = ("import numpy as np\n"
            "from curate.scan import kernels, pixel_kernel, embedding_kernel\n"
            "assert kernels.cache_dir() is None\n"
            "g = np.random.default_rng(0).integers(0, 255, (3, 40, 40), dtype=np.uint8)\n"
            "pixel_kernel.pixel_columns(g); embedding_kernel.embed(g)\n"
            "print(kernels.available())")
    done = run_python(code, NUMBA_CACHE_DIR=str(blocker / "cache"))
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr
    assert sorted(p.name for p in (ROOT / "curate" / "scan").rglob("*.nb*")) == before


@pytest.mark.slow
def test_a_writable_cache_folder_is_filled(tmp_path):
    code = ("import numpy as np\nfrom curate.scan import pixel_kernel\n"
            "pixel_kernel.pixel_columns(np.zeros((1, 20, 20), np.uint8))")
    done = run_python(code, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    assert done.returncode == 0, done.stderr
    assert list((tmp_path / "cache").rglob("*.nbi"))


def test_threads_default_to_every_core_and_follow_the_option(monkeypatch):
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert cluster.threads() == min(cores, cluster.MAX_THREADS)
    with cluster.connect(cluster.ClusterOptions(threads=1)) as client:
        assert client is None and cluster.threads() == 1
    assert cluster.threads() == min(cores, cluster.MAX_THREADS)
    seen = []
    real = features.ThreadPoolExecutor
    monkeypatch.setattr(features, "ThreadPoolExecutor",
                        lambda max_workers: seen.append(max_workers) or real(max_workers))
    result = runner.invoke(app, ["outliers", str(SAMPLE), "--num-classes", "5", "--dry-run",
                                 "--threads", "3"])
    assert result.exit_code == 0, result.output
    assert seen == [3]
    refused = runner.invoke(app, ["outliers", str(SAMPLE), "--dry-run", "--threads", "-1"])
    assert refused.exit_code == 2


def test_a_kernel_that_fails_to_compile_falls_back_to_numpy_with_the_note(monkeypatch):
    from curate.scan import compiled

    monkeypatch.setattr(kernels, "_state", {**kernels._state, "checked": False})

    def broken(gray):
        raise RuntimeError("no LLVM here")

    monkeypatch.setattr(pixel_kernel, "pixel_columns", broken)
    with pytest.warns(kernels.KernelNote, match="no LLVM here"):
        assert compiled.ready() is False
    pairs, ids = load_sample()
    table = features.scan(planted_dataset(pairs[:20], ids[:20]))
    assert len(table) == 20 and kernels.fallback_note().endswith("(RuntimeError: no LLVM here)")
