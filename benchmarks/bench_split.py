"""Benchmark `curate split` against sklearn's train_test_split on AI4Mars (6000 pairs).

Run: .venv/bin/python benchmarks/bench_split.py [--data PATH] [--seed 0]
Prints, for a 70/15/15 split by each method, big rock's image share per split, the worst
per-class deviation from the whole (image and pixel share, percentage points) and the time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from curate.scan.features import scan
from curate.split.leakage import find_leakage
from curate.data.readers import read_dataset
from results import write_table

from curate.split.stratify import SPLITS, SplitConfig, split_report, stratified_split, worst_deviation

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ai4mars-mars64" / "train.npz"
BIG_ROCK = 4


def sklearn_split(n: int, seed: int) -> np.ndarray:
    """70/15/15 by two train_test_split calls with the same seed."""
    train, rest = train_test_split(np.arange(n), test_size=0.3, random_state=seed)
    val, test = train_test_split(rest, test_size=0.5, random_state=seed)
    splits = np.empty(n, dtype=object)
    splits[train], splits[val], splits[test] = "train", "val", "test"
    return splits


def describe(name: str, manifest, splits, seconds: float) -> dict:
    report = split_report(manifest, splits, 5, ignore_index=0)
    rock = report[report["class"] == BIG_ROCK].set_index("split")
    whole = rock.loc["all", "image_share_pct"]
    worst = worst_deviation(report)
    print(f"\n{name} ({seconds:.2f} s)")
    print(f"  big rock image share: whole {whole:.2f} %")
    for split in SPLITS:
        row = rock.loc[split]
        print(f"    {split:5s} {row.images:5d} pairs, {row.images_with_class:4d} with big rock: "
              f"{row.image_share_pct:.2f} % ({row.image_share_dev_pp:+.2f} pp)")
    print(f"  worst per-class deviation: image share {worst['image_share_pp']:.2f} pp, "
          f"pixel share {worst['pixel_share_pp']:.2f} pp")
    leaks = find_leakage(manifest.assign(split=splits), distance=6)
    print(f"  near-duplicate pairs (pHash distance <= 6) across splits: {len(leaks)}")
    return {"rock": rock, "worst": worst, "leaks": len(leaks), "whole": whole}


def results_rows(ours: dict, theirs: dict) -> list[list[str]]:
    """The comparison as the rows of docs/results/split.md."""
    def shares(result: dict) -> str:
        return " / ".join(f"{result['rock'].loc[s, 'image_share_pct']:.2f}" for s in SPLITS) + " %"
    return [
        [f"big rock image share train / val / test (whole {ours['whole']:.2f} %)",
         shares(ours), shares(theirs)],
        ["worst per-class deviation, image share",
         f"{ours['worst']['image_share_pp']:.2f} pp", f"{theirs['worst']['image_share_pp']:.2f} pp"],
        ["worst per-class deviation, pixel share",
         f"{ours['worst']['pixel_share_pp']:.2f} pp", f"{theirs['worst']['pixel_share_pp']:.2f} pp"],
        ["near-duplicate pairs across splits", str(ours["leaks"]), str(theirs["leaks"])],
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"{args.data} is absent; pass --data PATH to the AI4Mars train.npz.")
        return 2
    start = time.perf_counter()
    dataset = read_dataset(args.data)
    manifest = scan(dataset)
    print(f"{args.data}: {len(manifest)} pairs, read and scanned in "
          f"{time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    ours = stratified_split(manifest, 5, 0, SplitConfig(seed=args.seed))
    ours_result = describe("curate split 70/15/15 (near-duplicate groups kept together)",
                           manifest, ours, time.perf_counter() - start)
    start = time.perf_counter()
    theirs = sklearn_split(len(manifest), args.seed)
    theirs_result = describe("sklearn train_test_split 70/15/15", manifest, theirs,
                             time.perf_counter() - start)
    within = bool((ours_result["rock"]["image_share_dev_pp"].abs() <= 2.0).all())
    better = all(ours_result["worst"][k] < theirs_result["worst"][k]
                 for k in ("image_share_pp", "pixel_share_pp"))
    print(f"\nbig rock within +-2 pp in every split: {within}; "
          f"worst deviation better than train_test_split (image and pixel): {better}")
    command = f".venv/bin/python benchmarks/bench_split.py --seed {args.seed}"
    print(f"reproduce: {command}")
    page = write_table("split", f"Split: curate split against train_test_split (70/15/15, seed {args.seed})",
                       ["", "curate split", "sklearn train_test_split"],
                       results_rows(ours_result, theirs_result), command,
                       notes=f"Data: {args.data.name}, {len(manifest)} pairs.")
    print(f"wrote {page}")
    return 0 if within and better else 1


if __name__ == "__main__":
    sys.exit(main())
