"""Peak memory of `curate outliers --dry-run` on an images/ + masks/ folder, its pixels held
in memory (the default below 2 GB) or read by reference (CURATE_LAZY_BYTES=0).

N synthetic 256x256 pairs (default 2,000; --pairs for more) are written once as PNGs: colour
pictures (a coarse random field upsampled, plus noise) and 5-class masks, 1 % of the pairs
exact copies of others. Then the same command runs twice, each in a fresh process under
/usr/bin/time -v (wall seconds, max RSS = VmHWM): once as is, once with CURATE_LAZY_BYTES=0.
Both are compared with the pure PIL decode of the same files on every core (the floor:
decoding in parallel too); issue 36's targets are at most 1.5x that time and 1 GB.
The machine may be shared: the load average is printed.

Reproduce: .venv/bin/python benchmarks/bench_folder.py [--pairs 2000]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from timed import CURATE, ENV as BASE_ENV, ROOT, timed

ENV = {**BASE_ENV, "PYTHONPATH": str(ROOT)}

SIZE = 256


def write_folder(root: Path, n: int, seed: int = 0) -> None:
    """N colour 256x256 pairs as PNGs in root/images and root/masks."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    copies = dict(zip(*np.split(rng.choice(n, size=2 * (n // 100), replace=False), 2)))
    for k in range(n):
        pair = np.random.default_rng([seed, copies.get(k, k)])   # a copy redraws its source
        coarse = pair.random((8, 8, 3), dtype=np.float32)
        field = np.kron(coarse, np.ones((SIZE // 8, SIZE // 8, 1), np.float32))
        noise = pair.normal(0, 0.04, field.shape).astype(np.float32)
        image = np.clip((field + noise) * 255, 0, 255).astype(np.uint8)
        mask = np.minimum(image[..., 0] // 52, 4).astype(np.uint8)
        Image.fromarray(image).save(root / "images" / f"p{k:06d}.png")
        Image.fromarray(mask).save(root / "masks" / f"p{k:06d}.png")


def decode_all(root: Path, threads: int) -> float:
    """Seconds to decode every image and mask of `root` with PIL on `threads` threads (PIL
    releases the GIL while it decodes)."""
    from concurrent.futures import ThreadPoolExecutor

    def decode(f: Path) -> None:
        with Image.open(f) as picture:
            picture.load()

    files = [f for sub in ("images", "masks") for f in sorted((root / sub).iterdir())]
    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(decode, files, chunksize=64))
    return time.perf_counter() - t


def run_cli(data: Path, budget: str | None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of `curate outliers DATA --dry-run`."""
    env = {k: v for k, v in ENV.items() if k != "CURATE_LAZY_BYTES"}
    if budget is not None:
        env["CURATE_LAZY_BYTES"] = budget
    wall, peak, _ = timed([*CURATE, "outliers", str(data), "--dry-run", "--num-classes", "5"], env)
    return wall, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2_000)
    args = parser.parse_args()
    n = args.pairs
    print(f"command: .venv/bin/python benchmarks/bench_folder.py {' '.join(sys.argv[1:])}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}; {n:,} pairs of {SIZE}x{SIZE} colour PNGs, "
          f"{n * SIZE * SIZE * 4 / 1e6:,.0f} MB decoded (images + masks)")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        write_folder(data, n)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        floor = min(decode_all(data, cores) for _ in range(2))
        run_cli(data, None)                     # compiles the scan kernels, if not cached
        rows = [("in memory (default)", "unset", *run_cli(data, None)),
                ("by reference", "0", *run_cli(data, "0"))]
    print(f"\ncurate outliers DATA --dry-run --num-classes 5, {n:,} pairs")
    print(f"pure PIL decode of every file on {cores} threads (the floor): {floor:.1f} s")
    print(f"{'pixels':<22}  {'CURATE_LAZY_BYTES':>17}  {'wall s':>7}  {'/ decode':>8}  "
          f"{'peak RSS MB':>11}  target (<= 1.5x, <= 1,024 MB)")
    for name, budget, wall, peak in rows:
        met = "met" if wall <= 1.5 * floor and peak <= 1024 else "not met"
        print(f"{name:<22}  {budget:>17}  {wall:>7.1f}  {wall / floor:>7.2f}x  "
              f"{peak:>11,.0f}  {met}")
    print(f"\nload {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
