"""Pairs/s of `curate augment` (geometric recipe, PNG writing included) against raw albumentations,
both without writing and with each raw output written as PNG files by the same encoder.

Run on one core:  taskset -c 0 .venv/bin/python benchmarks/bench_augment.py [N_NEW]
Both sides use the same Compose (HorizontalFlip p=0.5 + SafeRotate +-10 deg p=1, reflected
borders) on the 64x128 AI4Mars pairs, with cv2.setNumThreads(0) (OpenCV runs single-threaded;
cv2.getNumThreads() then reports 1). Timings of the transform and PNG lines are best of 3.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from curate.augment import AugmentConfig, apply_plan, augment, plan_augmentation  # noqa: E402
from curate.augment.recipes import geometric_transform  # noqa: E402
from curate.data.manifest import build_manifest  # noqa: E402
from curate.data.readers import load_dataset  # noqa: E402
from curate.data.writers import png_bytes, write_dataset  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "ai4mars-mars64" / "train.npz"


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def best_of(fn, repeats: int = 3) -> float:
    # The cores are shared: the fastest of a few runs is the least disturbed one.
    return min(timed(fn)[1] for _ in range(repeats))


def raw_albumentations(dataset, n: int) -> float:
    transform = geometric_transform()
    transform.set_random_seed(0)
    m = len(dataset)
    return n / best_of(lambda: [transform(image=dataset.images[i % m],
                                          mask=dataset.masks[i % m]) for i in range(n)])


def raw_albumentations_writing(dataset, n: int) -> float:
    """The same transform, then each new pair encoded and written as two PNG files."""
    transform = geometric_transform()
    transform.set_random_seed(0)
    m = len(dataset)

    def run():
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(n):
                out = transform(image=dataset.images[i % m], mask=dataset.masks[i % m])
                Path(tmp, f"{i}_image.png").write_bytes(png_bytes(out["image"]))
                Path(tmp, f"{i}_mask.png").write_bytes(png_bytes(out["mask"]))
    return n / best_of(run)


def png_options(dataset, n: int = 2000) -> dict[str, float]:
    """Microseconds to encode one pair (image + mask) as PNG, per encoder setting."""
    pairs = [(dataset.images[i], dataset.masks[i]) for i in range(n)]

    def pil(level):
        def encode(a):
            buffer = io.BytesIO()
            Image.fromarray(a).save(buffer, format="PNG", compress_level=level)
        return lambda: [encode(a) for pair in pairs for a in pair]

    options = {"writers.png_bytes (OpenCV level 1)": lambda: [png_bytes(a) for p in pairs
                                                              for a in p],
               "PIL level 0": pil(0),
               "cv2.imencode level 1": lambda: [cv2.imencode(
                   ".png", a, [cv2.IMWRITE_PNG_COMPRESSION, 1]) for p in pairs for a in p]}
    return {name: best_of(fn) / n * 1e6 for name, fn in options.items()}


def main(n_new: int = 2000) -> None:
    if not DATA.is_file():
        print(f"skipped: {DATA} is absent")
        return
    cv2.setNumThreads(0)
    dataset = load_dataset(DATA)
    manifest = build_manifest(dataset)
    manifest["split"] = np.random.default_rng(0).choice(
        ["train", "val", "test"], len(manifest), p=[0.7, 0.15, 0.15])
    dataset = replace(dataset, manifest=manifest)
    print(f"data: {DATA.name}, {len(dataset)} pairs {dataset.images[0].shape}; {n_new} new "
          f"pairs; cpus allowed: {len(os.sched_getaffinity(0))}; cv2 threads: "
          f"{cv2.getNumThreads()}")
    raw = raw_albumentations(dataset, n_new)
    raw_writing = raw_albumentations_writing(dataset, n_new)
    config = AugmentConfig(4, count=n_new, copy_paste_fraction=0.0, recipes=("geometric",))
    plan, t_plan = timed(lambda: plan_augmentation(manifest, config))
    t_apply = best_of(lambda: apply_plan(dataset, plan, 4))
    result, t_augment = timed(lambda: augment(dataset, config))
    with tempfile.TemporaryDirectory() as tmp:
        _, t_write = timed(lambda: write_dataset(Path(tmp) / "out", result.dataset,
                                                 result.reports))
    total = len(result.dataset)
    t_write_new = t_write * n_new / total        # the new pairs' share of the folder write
    rows = [
        ("raw albumentations (transform only)", raw),
        ("raw albumentations + writing each pair as 2 PNG files", raw_writing),
        ("pipeline: transform (apply_plan, per-pair seeds)", n_new / t_apply),
        ("pipeline: plan + transform", n_new / (t_plan + t_apply)),
        ("pipeline: augment() (plan, transform, scan, reports)", n_new / t_augment),
        ("pipeline: augment() + writing the new pairs", n_new / (t_augment + t_write_new)),
        (f"pipeline: augment() + writing the whole folder ({total} pairs)",
         n_new / (t_augment + t_write)),
    ]
    print(f"{'':<64} {'':>9}          vs raw   vs raw+writing")
    for name, rate in rows:
        print(f"{name:<64} {rate:9.0f} pairs/s  {rate / raw:5.2f}x  {rate / raw_writing:5.2f}x")
    print(f"write_dataset: {t_write:.2f} s for {total} pairs = {t_write / total * 1e6:.0f} us/pair")
    for name, us in png_options(dataset).items():
        print(f"PNG encode, {name:<34} {us:6.0f} us/pair (image + mask)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
