"""Peak memory (max RSS) of one short `segment train` epoch at 64x128, 256x256 and 512x512.

Writes small synthetic dataset folders (smooth random blobs, 5 classes, grayscale) per the
dataset folder contract, then runs the CLI under /usr/bin/time -v, once per size, with the
default (pixel-budget) batch size; `--also-batch 32` adds runs at a fixed batch for comparison.

Reproduce: .venv/bin/python benchmarks/bench_train_memory.py [--train 48] [--val 16] [--also-batch 32]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from timed import SEGMENT, timed


def blobs(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """A smooth random field as image, and its quantised levels as a 5-class mask."""
    small = rng.random((max(2, h // 16), max(2, w // 16)))
    field = np.asarray(Image.fromarray((small * 255).astype(np.uint8)).resize((w, h), Image.BICUBIC))
    mask = np.minimum(field // 52, 4).astype(np.uint8)
    noise = rng.integers(0, 20, (h, w))
    return np.clip(field.astype(int) + noise, 0, 255).astype(np.uint8), mask


def write_folder(root: Path, h: int, w: int, n_train: int, n_val: int) -> Path:
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rows = []
    for i in range(n_train + n_val):
        image, mask = blobs(rng, h, w)
        Image.fromarray(image).save(root / "images" / f"p{i}.png")
        Image.fromarray(mask).save(root / "masks" / f"p{i}.png")
        rows.append({"id": f"p{i}", "image": f"images/p{i}.png", "mask": f"masks/p{i}.png",
                     "split": "train" if i < n_train else "val"})
    pd.DataFrame(rows).to_csv(root / "manifest.csv", index=False)
    (root / "dataset.json").write_text(json.dumps({
        "format": "curate-dataset", "format_version": 1, "num_classes": 5,
        "class_names": [f"c{k}" for k in range(5)], "ignore_index": 0, "history": []}))
    return root


def measure(data: Path, out: Path, threads: int, batch: int | None) -> tuple[float, str]:
    """(max RSS in MiB, the batch line the CLI printed)."""
    args = [*SEGMENT, "train", str(data), "-o", str(out), "--epochs", "1", "--set", f"threads={threads}",
            "--device", "cpu"]
    if batch:
        args += ["--batch-size", str(batch)]
    _, peak, stdout = timed(args)
    line = next((l for l in stdout.splitlines() if l.startswith("batch ")), "?")
    return peak, line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=48, help="training pairs per size")
    parser.add_argument("--val", type=int, default=8, help="validation pairs per size")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sizes", default="64x128,256x256,512x512", help="HxW,HxW,...")
    parser.add_argument("--also-batch", type=int, default=0, help="also run at this fixed batch")
    parser.add_argument("--also-max-side", type=int, default=256,
                        help="only sizes up to this side get the fixed-batch run (512x512 at "
                             "batch 32 needs over 10 GB)")
    args = parser.parse_args()
    print(f"one epoch, {args.train} train + {args.val} val synthetic gray pairs, "
          f"default model, CPU, {args.threads} threads")
    print(f"{'size':>9}  {'batch':>30}  max RSS")
    with tempfile.TemporaryDirectory() as tmp:
        for h, w in (tuple(map(int, size.split("x"))) for size in args.sizes.split(",")):
            data = write_folder(Path(tmp) / f"d{h}x{w}", h, w, args.train, args.val)
            also = args.also_batch and max(h, w) <= args.also_max_side
            for batch in [None] + ([args.also_batch] if also else []):
                rss, line = measure(data, Path(tmp) / f"r{h}x{w}b{batch}", args.threads, batch)
                print(f"{h:>4}x{w:<4}  {line.split(' (')[0] + (' (fixed)' if batch else ' (default)'):>30}"
                      f"  {rss:,.0f} MiB")
    print("reproduce: .venv/bin/python benchmarks/bench_train_memory.py "
          + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
