"""Output bytes, time and peak memory of `curate split` writing PNGs (--files encode) versus
hardlinks to the source files (--files link), on a folder of JPEG images and PNG masks.

The folder is made once: N (default 2,000) 256x256 RGB JPEGs (quality 90; smooth random
fields with noise and texture, so they compress like photographs rather than flat colour)
and mode-L PNG masks of 5 classes. Then each form runs in a fresh process under
/usr/bin/time -v: `curate split DATA -o OUT --num-classes 5 --files FORM`. "new bytes" counts
the files of OUT that are not hardlinks of a source file (what the output adds to the disk);
"apparent bytes" counts every file once, as `du --apparent-size` on OUT alone would.

Reproduce: .venv/bin/python benchmarks/bench_linked.py [--pairs 2000] [--size 256]
           [--ai4mars-raw ../shared/data/ai4mars-256-raw]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from timed import CURATE, timed


def write_folder(root: Path, n: int, size: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    cell = size // 8
    yy, xx = np.mgrid[0:size, 0:size]
    for i in range(n):
        field = np.kron(rng.random((8, 8, 3), dtype=np.float32), np.ones((cell, cell, 1)))
        texture = np.sin(xx * rng.uniform(0.1, 0.6) + yy * rng.uniform(0.1, 0.6))[..., None]
        noise = rng.normal(0, 10, (size, size, 3))
        image = np.clip(field * 200 + texture * 25 + noise + 15, 0, 255).astype(np.uint8)
        Image.fromarray(image).save(root / "images" / f"p{i:05d}.jpg", quality=90)
        mask = np.minimum(np.kron(rng.integers(0, 5, (8, 8)), np.ones((cell, cell))), 4)
        Image.fromarray(mask.astype(np.uint8)).save(root / "masks" / f"p{i:05d}.png")


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def new_bytes(out: Path, source: Path) -> int:
    """Bytes of files in `out` that are not hardlinks of a file in `source`."""
    inodes = {(p.stat().st_dev, p.stat().st_ino) for p in source.rglob("*") if p.is_file()}
    return sum(p.stat().st_size for p in out.rglob("*")
               if p.is_file() and (p.stat().st_dev, p.stat().st_ino) not in inodes)


def run_split(data: Path, out: Path, form: str, *extra: str) -> tuple[float, float, str]:
    wall, peak, stdout = timed([*CURATE, "split", str(data), "-o", str(out), "--num-classes", "5",
                                "--files", form, *extra])
    said = next(line for line in stdout.splitlines() if line.startswith("Files:"))
    return wall, peak, said


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2_000)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--ai4mars-raw", type=Path, help="also this folder in the raw "
                        "AI4Mars layout (gray JPEGs stored as RGB, raw labels: masks are "
                        "renumbered, so encoded), read with the course's label map")
    args = parser.parse_args()
    print(f"command: .venv/bin/python benchmarks/bench_linked.py {' '.join(sys.argv[1:])}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:  # input and outputs on one file system
        data = Path(tmp) / "data"
        write_folder(data, args.pairs, args.size)
        print(f"input: {args.pairs:,} pairs of {args.size}x{args.size} RGB JPEG (q90) + PNG "
              f"mask, {folder_bytes(data) / 1e6:,.1f} MB")
        table(data, Path(tmp) / "synthetic")
        if args.ai4mars_raw:
            n = len(list((args.ai4mars_raw / "images").iterdir()))
            print(f"\n\ninput: {args.ai4mars_raw}, {n:,} pairs, "
                  f"{folder_bytes(args.ai4mars_raw) / 1e6:,.1f} MB; "
                  f"--label-map {MARS_MAP} --ignore-index 0")
            table(args.ai4mars_raw, Path(tmp) / "ai4mars", "--label-map", MARS_MAP,
                  "--ignore-index", "0")


MARS_MAP = "0:1,1:2,2:3,3:4,255:0"


def table(data: Path, outs: Path, *extra: str) -> None:
    print(f"\n{'--files':>8}  {'wall s':>7}  {'peak RSS MB':>11}  {'apparent MB':>11}  "
          f"{'new bytes MB':>12}")
    for form in ("encode", "link"):
        out = outs / form
        wall, peak, said = run_split(data, out, form, *extra)
        print(f"{form:>8}  {wall:7.1f}  {peak:11,.0f}  {folder_bytes(out) / 1e6:11,.1f}  "
              f"{new_bytes(out, data) / 1e6:12,.1f}")
        print(f"{'':>8}  {said}")


if __name__ == "__main__":
    main()
