"""Reading a downloaded layout at Cityscapes' size: wall time and peak memory of
`curate outliers --dry-run` on a synthetic Cityscapes tree of N 1024x512 pairs.

The tree (default 2,000 pairs; --pairs N) is written once under .bench/ (git-ignored) as
Cityscapes lays it out: leftImg8bit/{train,val}/{city}/*_leftImg8bit.png beside
gtFine/.../*_gtFine_labelIds.png holding label ids 0..33, which the reader maps to the 19 train
ids. N pairs decode to N x 2 MB, past the lazy budget (curate.io.pixels.DEFAULT_LAZY_BYTES,
512 MB) from about 250 pairs on, so the pixels are read by reference: peak memory should stay
near that of a 10-pair tree (the first row) whatever N is. The command runs in a fresh process under /usr/bin/time -v
(wall seconds, max RSS). The machine may be shared: the load average is in the table.

Reproduce: .venv/bin/python benchmarks/bench_layouts.py [--pairs 2000] [--write]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from results import write_table
from timed import CURATE, ENV as BASE_ENV, ROOT, timed

ENV = {**BASE_ENV, "PYTHONPATH": str(ROOT)}
WIDTH, HEIGHT = 1024, 512
CITIES = ("aachen", "bremen", "lindau", "bonn")
# label ids drawn into the masks: road, sidewalk, building, vegetation, sky, car, person,
# and two void ids (unlabeled, static)
IDS = np.array([7, 8, 11, 21, 23, 26, 24, 0, 4], np.uint8)
BASELINE = 10   # pairs of the first row: what the process costs before the pixels


def write_tree(root: Path, n: int, seed: int = 0) -> None:
    """N pairs in Cityscapes' layout; a pair is written only when missing, so an interrupted
    tree is finished and an existing one reused."""
    for k in range(n):
        split = "val" if k % 5 == 4 else "train"
        city = CITIES[k % len(CITIES)]
        stem = f"{city}_{k // 30:06d}_{k % 30:06d}"
        image_dir = root / "leftImg8bit" / split / city
        gt_dir = root / "gtFine" / split / city
        mask_path = gt_dir / f"{stem}_gtFine_labelIds.png"
        if mask_path.is_file():
            continue
        image_dir.mkdir(parents=True, exist_ok=True)
        gt_dir.mkdir(parents=True, exist_ok=True)
        pair = np.random.default_rng([seed, k])
        blocks = np.kron(pair.integers(0, len(IDS), (8, 16)),
                         np.ones((HEIGHT // 8, WIDTH // 16), np.int64))   # (H, W) class index
        shade = pair.integers(40, 220, (len(IDS), 3)).astype(np.uint8)
        image = shade[blocks] + pair.integers(0, 6, (HEIGHT, WIDTH, 3), dtype=np.uint8)
        ids = IDS[blocks]
        Image.fromarray(image).save(
            image_dir / f"{stem}_leftImg8bit.png", compress_level=1)
        Image.fromarray(ids).save(mask_path, compress_level=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2_000)
    parser.add_argument("--write", action="store_true",
                        help="write the table to docs/results/layouts.md")
    args = parser.parse_args()
    n = args.pairs
    command = "python benchmarks/bench_layouts.py " + " ".join(sys.argv[1:])
    print(f"command: {command}")
    from curate.io.pixels import DEFAULT_LAZY_BYTES

    budget = DEFAULT_LAZY_BYTES / 1e6
    header = ["pairs", "size", "decoded MB", "lazy budget MB", "pixels", "wall s", "ms per pair",
              "peak RSS MB", "load before / after"]
    rows = []
    for pairs in (BASELINE, n):   # the baseline: the libraries, and next to no pixels
        tree = ROOT / ".bench" / f"cityscapes-{pairs}"
        write_tree(tree, pairs)
        load_before = os.getloadavg()[0]
        wall, peak, _ = timed([*CURATE, "outliers", str(tree), "--dry-run"], ENV)
        decoded = pairs * WIDTH * HEIGHT * 4 / 1e6          # RGB image + one-byte mask
        rows.append([f"{pairs:,}", f"{WIDTH}x{HEIGHT}", f"{decoded:,.0f}", f"{budget:,.0f}",
                     "by reference" if decoded > budget else "in memory", f"{wall:,.0f}",
                     f"{wall / pairs * 1000:,.0f}", f"{peak:,.0f}",
                     f"{load_before:.1f} / {os.getloadavg()[0]:.1f}"])
        print("  ".join(f"{h}: {v}" for h, v in zip(header, rows[-1])))
    if args.write:
        page = write_table(
            "layouts", "Reading a Cityscapes tree: time and peak memory",
            header, rows, command,
            notes=("`curate outliers .bench/cityscapes-N --dry-run`: detection, reading "
                   "*_gtFine_labelIds.png through the 19-train-id map, the pixel scan and "
                   "every check, in a fresh process under /usr/bin/time -v. The tree is "
                   "synthetic (blocks of label ids, images shaded per class with a little "
                   "noise), written once under .bench/. Peak RSS is the process's VmHWM; "
                   "past the lazy budget (CURATE_LAZY_BYTES, default 512 MB) the pixels are "
                   "decoded again from their files at each pass rather than held. The "
                   "machine is shared by other jobs: the load column says how busy it was. The "
                   f"first row ({BASELINE} pairs) is the cost of the process and its libraries."))
        print(f"wrote {page.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
