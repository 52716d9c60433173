"""The `blurry` check: planted defocus and blank frames go, sharp hazy or dark frames stay."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from curate.cli.main import app
from curate.scan.features import blur_keep
from curate.checks.outliers import OutlierConfig, find_outliers
from curate.data.readers import ReadOptions, load_dataset
from planted import load_sample, write_npz

RAW = Path(__file__).parents[2].parent / "shared" / "data" / "ai4mars-256-raw"
runner = CliRunner()


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of an (H, W) uint8 image, edges reflected, rounded."""
    radius = int(np.ceil(3 * sigma))
    x = np.arange(-radius, radius + 1)
    k = np.exp(-x ** 2 / (2 * sigma ** 2))
    k /= k.sum()
    g = np.pad(image.astype(np.float64), radius, mode="reflect")
    rows = np.stack([np.convolve(r, k, mode="valid") for r in g])
    both = np.stack([np.convolve(c, k, mode="valid") for c in rows.T]).T
    return np.clip(both.round(), 0, 255).astype(np.uint8)


def hazy(image: np.ndarray) -> np.ndarray:
    """A veil: 40 % of the contrast on a bright offset (the detail is still there; the flattest
    sample frame, std 3.7, drops to 1.5 gray levels, near blank's limit of 1)."""
    return np.clip(image * 0.4 + 150, 0, 255).round().astype(np.uint8)


def darkened(image: np.ndarray) -> np.ndarray:
    """Under-exposed: 30 % of the brightness (mean 16.5 gray levels over the sample, as dark
    as the darkest raw AI4Mars frame; at 20 % rounding erases the detail of one frame)."""
    return (image * 0.3).round().astype(np.uint8)


def test_blur_keep_ignores_contrast_and_sees_defocus():
    pairs, _ = load_sample()
    sharp = pairs[:20, 0]
    keep = blur_keep(sharp)
    assert np.all(keep < 0.3)
    cut = OutlierConfig().blur_keep
    for change in (hazy, darkened):
        changed = np.stack([change(g) for g in pairs[:, 0]])
        # Below 2 gray levels of spread, rounding has erased the detail (blank's business).
        visible = changed.reshape(len(changed), -1).std(axis=1) >= 2
        assert visible.sum() > 250
        assert np.all(blur_keep(changed[visible]) < cut), change.__name__
    for sigma in (1.5, 2.0, 3.0):
        blurred = np.stack([gaussian_blur(g, sigma) for g in sharp])
        assert np.all(blur_keep(blurred) > 0.5), sigma


def test_blur_keep_is_nan_for_tiny_images():
    assert np.isnan(blur_keep(np.zeros((2, 5, 40), np.uint8))).all()


def test_cli_removes_planted_blur_and_blanks_but_keeps_hazy_and_dark_sharp_frames(tmp_path):
    pairs, ids = load_sample()
    pairs = pairs.copy()
    rng = np.random.default_rng(0)
    picks = [int(i) for i in rng.choice(len(pairs), size=20, replace=False)]
    blurred = {ids[i]: s for i, s in zip(picks[:9], [1.5, 2.0, 3.0] * 3)}
    blanks, veiled, dim = picks[9:12], picks[12:16], picks[16:20]
    for i in picks[:9]:
        pairs[i, 0] = gaussian_blur(pairs[i, 0], blurred[ids[i]])
    for i in blanks:
        pairs[i, 0] = int(pairs[i, 0].mean())
    for i in veiled:
        pairs[i, 0] = hazy(pairs[i, 0])
    for i in dim:
        pairs[i, 0] = darkened(pairs[i, 0])
    data = write_npz(tmp_path / "planted.npz", pairs, ids)

    result = runner.invoke(app, ["outliers", str(data), "-o", str(tmp_path / "out"),
                                 "--num-classes", "5"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "out" / "reports" / "outliers.csv")
    is_blurry = table["flags"].str.split(";").apply(lambda f: "blurry" in f)
    assert set(table.loc[is_blurry, "id"]) == set(blurred)
    assert table.loc[is_blurry, "removed"].all()
    assert all("a re-blur keeps" in r for r in table.loc[is_blurry, "reason"])
    is_blank = table["flags"].str.split(";").apply(lambda f: "blank" in f)
    assert set(table.loc[is_blank & table["removed"], "id"]) == {ids[i] for i in blanks}
    sharp_but_odd = {ids[i] for i in veiled + dim}
    assert not sharp_but_odd & set(table.loc[is_blurry, "id"])


@pytest.mark.skipif(not RAW.is_dir(), reason=f"{RAW} is absent (shared test data)")
def test_no_raw_256_frame_is_blurry():
    """The 400 raw AI4Mars frames hold hazy horizons, dark frames and rover shadows."""
    options = ReadOptions(num_classes=5, label_map={0: 1, 1: 2, 2: 3, 3: 4, 255: 0},
                          ignore_index=0)
    config = OutlierConfig(checks=["blank", "blurry"])
    table = find_outliers(load_dataset(RAW, options), config).dataset.manifest
    assert not table["is_blurry"].any(), table.loc[table["is_blurry"], "reason"].tolist()
    assert table["blur_keep"].max() < config.blur_keep / 1.5  # far from the cut


def smooth_sky(h: int = 64, w: int = 128) -> np.ndarray:
    """A smooth sky over smooth sand, split by a sharp (anti-aliased) skyline 4 gray levels
    high: little fine detail (a re-blur keeps about half of it), but its one edge is steep."""
    y, x = np.mgrid[0:h, 0:w].astype(float)
    sand = np.clip(y - (0.45 * h + 3 * np.sin(x / 15.0)) + 0.5, 0, 1)
    image = (1 - sand) * (150 + 12 * y / h) + sand * (146 + 4 * np.sin(x / 25.0 + y / 12.0))
    return np.clip(image.round(), 0, 255).astype(np.uint8)


def test_a_smooth_frame_with_a_sharp_skyline_is_not_blurry(tmp_path):
    """Smooth is not blurry: the frame keeps over 48 % of its fine detail under a re-blur,
    far above the sample's own share (the fine-detail rule alone removed it), but its
    skyline is steep; the same frame defocused (sigma 1.5) is still removed."""
    pairs, ids = load_sample()
    pairs = pairs[:80].copy()
    ids = ids[:80]
    pairs[3, 0] = smooth_sky()
    pairs[5, 0] = gaussian_blur(smooth_sky(), 1.5)
    assert blur_keep(pairs[3, 0][None])[0] > OutlierConfig().blur_keep
    data = write_npz(tmp_path / "sky.npz", pairs, ids)
    result = runner.invoke(app, ["outliers", str(data), "--dry-run", "--num-classes", "5",
                                 "--check", "blurry"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert f"removed {ids[5]}: blurry" in text
    assert ids[3] not in text
