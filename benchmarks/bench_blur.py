"""The `blurry` check on real Mars frames and on planted blur: real frames removed, recall.

Reproduce: .venv/bin/python benchmarks/bench_blur.py                 (all three data sets)
           .venv/bin/python benchmarks/bench_blur.py --sets raw400    (one)

For each data set (the 400 raw AI4Mars 256x256 pairs of ai4mars-256-raw, read in the course
convention; sample300.npz; the 6,000 pairs of train.npz) a planted copy replaces, in place and
at seeded distinct real pairs, `--per-sigma` images by their Gaussian blur at each sigma of
1.5, 2 and 3 (benchmarks/bench_outliers.gaussian_blur) and `--blank` images by a constant (half)
or near-constant (half, noise sigma 0.4) image.

"before" is the rule curate used up to commit e91ecf7, rebuilt here from its definition: robust
z below -z_threshold of either fine_detail (log10 ratio of the Laplacian variance at full and
half resolution) or the Laplacian variance per unit of pixel variance. "after" is the check as it
is now (curate.checks.pixel_stats.blurry over the blur_keep column). Printed per data set: real frames
removed as blurry (on the clean data, and among the real frames of the planted copy), real frames
removed by any pixel-statistics check (blank, blurry), planted recall per sigma and for blanks.
Contact sheets of the real frames each rule removes, of the real frames nearest the new cut and
of the planted blur it misses or catches last go to .bench/blur/ (git-ignored).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from curate.checks import pixel_stats as pixels
from curate.checks.findings import robust_z
from curate.io.dataset import Dataset, to_gray
from curate.checks.outliers import OutlierConfig, find_outliers
from curate.ui.plots import contact_sheet, pair_tile
from curate.data.readers import ReadOptions, load_dataset

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_outliers import gaussian_blur  # noqa: E402  (the planting the other bench uses)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SIGMAS = (1.5, 2.0, 3.0)
RAW_OPTIONS = ReadOptions(num_classes=5, label_map={0: 1, 1: 2, 2: 3, 3: 4, 255: 0},
                          ignore_index=0)
SETS = {"raw400": ("ai4mars-256-raw", RAW_OPTIONS),
        "sample300": ("ai4mars-mars64/sample300.npz", ReadOptions(num_classes=5)),
        "train6000": ("ai4mars-mars64/train.npz", ReadOptions(num_classes=5))}


def old_blurry(gray: list[np.ndarray], blank: np.ndarray, z_threshold: float) -> np.ndarray:
    """The rule of curate <= e91ecf7: fine_detail or detail per contrast far below typical."""
    fine, per_contrast = [], []
    for g in gray:
        g = g.astype(np.float64)
        h, w = g.shape[0] // 2 * 2, g.shape[1] // 2 * 2
        half = g[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
        lap, lap_half = _laplacian_var(g), _laplacian_var(half)
        fine.append(np.log10((lap + 1) / (lap_half + 1)))
        per_contrast.append(np.log10(lap / (g.var() + 1) + 1e-3))
    z = np.minimum(robust_z(np.array(fine)), robust_z(np.array(per_contrast)))
    return (z < -z_threshold) & ~blank


def _laplacian_var(g: np.ndarray) -> float:
    return float((g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1]
                  - 4 * g[1:-1, 1:-1]).var())


def plant(dataset: Dataset, per_sigma: int, blanks: int, seed: int):
    """A copy with blurred and blank images in place; kinds[i] names what was planted."""
    rng = np.random.default_rng(seed)
    n = len(dataset)
    chosen = rng.choice(n, per_sigma * len(SIGMAS) + blanks, replace=False)
    images = [np.asarray(dataset.images[i]) for i in range(n)]
    kinds = np.array(["real"] * n, dtype=object)
    for k, sigma in enumerate(SIGMAS):
        for i in chosen[k * per_sigma:(k + 1) * per_sigma]:
            images[i] = gaussian_blur(to_gray(images[i]), sigma)
            kinds[i] = f"blur {sigma:g}"
    for k, i in enumerate(chosen[len(SIGMAS) * per_sigma:]):
        level = int(np.clip(to_gray(images[i]).mean(), 1, 254))
        flat = np.full(to_gray(images[i]).shape, float(level))
        if k % 2:
            flat += rng.normal(0, 0.4, flat.shape)
        images[i] = np.clip(flat.round(), 0, 255).astype(np.uint8)
        kinds[i] = "blank"
    return replace(dataset, images=images, manifest=None), kinds


def judge(dataset: Dataset, config: OutlierConfig) -> tuple[pd.DataFrame, np.ndarray]:
    """The outlier table of `dataset` and the old rule's blurry flags on the same images."""
    table = find_outliers(replace(dataset, manifest=None), config).dataset.manifest
    gray = [to_gray(np.asarray(dataset.images[i])) for i in range(len(dataset))]
    old = old_blurry(gray, table["is_blank"].to_numpy(), config.z_threshold)
    return table, old


def sheet(dataset: Dataset, rows: np.ndarray, captions: list[str], title: str,
          path: Path) -> None:
    tiles = [(pair_tile(np.asarray(dataset.images[i]), np.asarray(dataset.masks[i]),
                        dataset.num_classes, height=128, ignore_index=dataset.ignore_index),
              c) for i, c in zip(rows, captions)]
    path.write_bytes(contact_sheet(tiles[:24], title + (f" (first 24 of {len(tiles)})"
                                                         if len(tiles) > 24 else ""), 4))


def run_set(name: str, args, out: Path) -> None:
    path, options = SETS[name]
    dataset = load_dataset(args.data / path, options)
    n = len(dataset)
    per_sigma = args.per_sigma or max(20, n // 100)
    blanks = args.blank or max(10, n // 200)
    config = OutlierConfig()
    print(f"\n== {name}: {args.data / path}, {n} real pairs; planted copy: {per_sigma} per sigma "
          f"{', '.join(f'{s:g}' for s in SIGMAS)} and {blanks} blank (seed {args.seed})")

    table, old = judge(dataset, config)
    new = table["is_blurry"].to_numpy()
    keep = table["blur_keep"].to_numpy()
    print(f"  clean data, real frames removed as blurry: before {old.sum()}, after {new.sum()}")
    print(f"  clean data, real frames removed by a pixel-statistics check (blank | blurry): "
          f"before {(old | table['is_blank']).sum()}, after {(new | table['is_blank']).sum()}")
    print(f"  blur_keep on real frames: median {np.median(keep):.3f}, 99th percentile "
          f"{np.percentile(keep, 99):.3f}, max {keep.max():.3f} (cut {config.blur_keep})")
    cap = [f"{table['id'][i]}\nkeep {keep[i]:.2f}, mean {table['mean'][i]:.0f}, "
           f"std {table['std'][i]:.1f}" for i in range(n)]
    before_rows = np.flatnonzero(old)
    sheet(dataset, before_rows, [cap[i] for i in before_rows],
          f"{name}: real frames removed as blurry BEFORE (old rule), {len(before_rows)}",
          out / f"{name}_before.png")
    after_rows = np.flatnonzero(new)
    sheet(dataset, after_rows, [cap[i] for i in after_rows],
          f"{name}: real frames removed as blurry AFTER (blur_keep), {len(after_rows)}",
          out / f"{name}_after.png")
    nearest = np.argsort(-keep)[:12]
    sheet(dataset, nearest, [cap[i] for i in nearest],
          f"{name}: the 12 real frames with the highest blur_keep (kept unless > "
          f"{config.blur_keep})", out / f"{name}_nearest_real.png")

    planted, kinds = plant(dataset, per_sigma, blanks, args.seed)
    ptable, pold = judge(planted, config)
    pnew, pblank = ptable["is_blurry"].to_numpy(), ptable["is_blank"].to_numpy()
    real = kinds == "real"
    print(f"  planted copy, real frames removed as blurry: before {(pold & real).sum()}, "
          f"after {(pnew & real).sum()}")
    for kind in [f"blur {s:g}" for s in SIGMAS]:
        at = kinds == kind
        print(f"  recall {kind:9s} (blurry): before {pold[at].mean():.3f}, after "
              f"{pnew[at].mean():.3f}  ({pnew[at].sum()}/{at.sum()})")
    at = kinds == "blank"
    print(f"  recall blank     (blank): {pblank[at].mean():.3f}  ({pblank[at].sum()}/{at.sum()})")
    pkeep = ptable["blur_keep"].to_numpy()
    blur_rows = np.flatnonzero(kinds == "blur 1.5")
    lowest = blur_rows[np.argsort(pkeep[blur_rows])[:8]]
    sheet(planted, lowest, [f"{ptable['id'][i]} planted sigma 1.5\nkeep {pkeep[i]:.2f}, "
                            f"{'removed' if pnew[i] else 'KEPT'}" for i in lowest],
          f"{name}: planted sigma-1.5 blur with the lowest blur_keep (hardest to catch)",
          out / f"{name}_planted_hardest.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", choices=list(SETS), default=list(SETS))
    parser.add_argument("--per-sigma", type=int, default=0,
                        help="Planted blurs per sigma (default: 1%% of the pairs, at least 20).")
    parser.add_argument("--blank", type=int, default=0,
                        help="Planted blanks (default: 0.5%% of the pairs, at least 10).")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=DATA, help="The shared data folder.")
    parser.add_argument("--out", type=Path, default=ROOT / ".bench" / "blur")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.sets:
        if not (args.data / SETS[name][0]).exists():
            print(f"\n== {name}: {args.data / SETS[name][0]} is absent, skipped")
            continue
        run_set(name, args, args.out)
    print(f"\nSheets in {args.out}")
    print("Reproduce: PYTHONPATH=. .venv/bin/python benchmarks/bench_blur.py --sets "
          + " ".join(args.sets) + f" --seed {args.seed}"
          + (f" --data {args.data}" if args.data != DATA else "")
          + (f" --per-sigma {args.per_sigma}" if args.per_sigma else "")
          + (f" --blank {args.blank}" if args.blank else ""))


if __name__ == "__main__":
    main()
