"""`shared_mask` judges a repeated mask by its layout: whole-frame labels pass, others do not.

Planted on real Mars pairs (curate/samples/mars300.npz): six gratings (not terrain) share a
mask that is mostly ignore class with one labelled region, which the old rule (one class
>= 90% of the labelled pixels) let pass; six real images share a whole-frame one-class mask
with a one-pixel border, as AI4Mars repeats legitimately.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from curate.cli.main import app
from curate.scan.features import mask_stats
from planted import alien_image, load_sample, write_npz

runner = CliRunner()


def region_mask(shape: tuple[int, int]) -> np.ndarray:
    """Class 3 in an ellipse covering about 30% of the frame; everything else ignored (0)."""
    y, x = np.mgrid[0:shape[0], 0:shape[1]]
    inside = ((y - 36) / 22.0) ** 2 + ((x - 60) / 40.0) ** 2 <= 1
    return np.where(inside, 3, 0).astype(np.uint8)


def whole_frame_mask(shape: tuple[int, int]) -> np.ndarray:
    """All soil (1) with a one-pixel unlabelled border on the left and bottom."""
    mask = np.ones(shape, np.uint8)
    mask[:, 0] = 0
    mask[-1, :] = 0
    return mask


def planted_npz(tmp_path):
    pairs, ids = load_sample()
    rng = np.random.default_rng(3)
    shape = pairs.shape[2:]
    real = pairs[:120].copy()
    real_ids = ids[:120]
    legit = real[10:16]                                   # six distinct real images
    legit[:, 1] = whole_frame_mask(shape)
    aliens = np.stack([np.stack([alien_image(rng, shape), region_mask(shape)])
                       for _ in range(6)])
    all_pairs = np.concatenate([real[:10], legit, real[16:], aliens])
    all_ids = real_ids + [f"region_alien_{k}" for k in range(6)]
    return write_npz(tmp_path / "planted.npz", all_pairs, all_ids), real_ids[10:16]


def test_mostly_ignored_region_mask_is_not_simple_but_a_whole_frame_label_is(tmp_path):
    data, legit_ids = planted_npz(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(app, ["outliers", str(data), "-o", str(out), "--num-classes", "5"])
    assert result.exit_code == 0, result.output
    report = pd.read_csv(out / "reports" / "outliers.csv", dtype={"id": str})
    shared = report[report["flags"].str.contains("shared_mask")]
    assert set(shared["id"]) == {f"region_alien_{k}" for k in range(6)}
    assert shared["removed"].all()
    assert not set(legit_ids) & set(report["id"])          # whole-frame repeats pass
    kept = pd.read_csv(out / "manifest.csv", dtype={"id": str})["id"]
    assert set(legit_ids) <= set(kept)
    reason = shared["reason"].iloc[0]
    assert "one of 6 pairs sharing an identical mask (as region_alien_0)" in reason
    mask = region_mask((64, 128))
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    margin = max(rows[0], cols[0], 63 - rows[-1], 127 - cols[-1])
    assert f"its largest labelled class covers {(mask == 3).mean():.0%} of the frame" in reason
    assert f"unlabelled margin {margin} px wide (a straight border is <= 4 px)" in reason


def test_thick_border_or_holes_make_a_repeated_mask_not_simple():
    shape = (64, 128)
    thick = np.ones(shape, np.uint8)
    thick[:, :20] = 0                                      # 20 px unlabelled strip
    holed = whole_frame_mask(shape)
    holed[20:40, 30:60] = 0                                # a hole inside the label
    stats = mask_stats(np.stack([whole_frame_mask(shape), thick, holed]), 5, 0)
    assert stats["labelled_margin"].tolist() == [1, 20, 1]
    assert np.allclose(stats["labelled_fill"], [1.0, 1.0, (63 * 127 - 600) / (63 * 127)])


def test_repeated_holed_mask_is_flagged_with_its_reason(tmp_path):
    pairs, ids = load_sample()
    holed = whole_frame_mask(pairs.shape[2:])
    holed[8:56, 16:112] = 0                                # a labelled ring, mostly ignored
    holed[8:56, 16:112][::2] = 2
    data = pairs[:60].copy()
    data[:6, 1] = holed
    path = write_npz(tmp_path / "holed.npz", data, ids[:60])
    out = tmp_path / "out"
    result = runner.invoke(app, ["outliers", str(path), "-o", str(out), "--num-classes", "5"])
    assert result.exit_code == 0, result.output
    report = pd.read_csv(out / "reports" / "outliers.csv", dtype={"id": str}).set_index("id")
    flagged = {i for i in report.index if "shared_mask" in report.at[i, "flags"]}
    assert flagged == set(ids[:6])
    assert "of their bounding box (irregular shape or several regions)" in \
        report.at[ids[0], "reason"]


def test_older_manifest_without_layout_columns_is_rescanned(tmp_path):
    data, _ = planted_npz(tmp_path)
    first = tmp_path / "first"
    assert runner.invoke(app, ["outliers", str(data), "-o", str(first), "--num-classes", "5",
                               "--keep", "shared_mask"]).exit_code == 0
    manifest = pd.read_csv(first / "manifest.csv", dtype=str, keep_default_na=False)
    manifest.drop(columns=["labelled_fill", "labelled_margin"]).to_csv(
        first / "manifest.csv", index=False)
    result = runner.invoke(app, ["outliers", str(first), "-o", str(tmp_path / "second")])
    assert result.exit_code == 0, result.output
    report = pd.read_csv(tmp_path / "second" / "reports" / "outliers.csv", dtype={"id": str})
    assert set(report.loc[report["flags"].str.contains("shared_mask"), "id"]) == {
        f"region_alien_{k}" for k in range(6)}
