"""Quality of a training recipe over seeds: trains with the `segment` CLI once per seed, scores
best.pt on val and test with `segment evaluate`, prints per-seed rows and mean +- std of the
mean IoU and of every scored class's IoU, and the command that reproduces it.

    .venv/bin/python benchmarks/bench_quality.py DATASET --seeds 0,1 --out /tmp/bq [--tta] \\
        -- --epochs 24 --threads 2 [any other `segment train` option]

Options after `--` go to `segment train` unchanged. Each run is RUN = OUT/seed_<S>; an
existing RUN is replaced (--force). With --tta, every checkpoint is also scored with flip
test-time augmentation and printed as its own rows.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def segment(*args: str) -> str:
    """Run `python -m segment ARGS` from the repository; its stdout, or exit with its stderr."""
    env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1", "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "segment", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"segment {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


def scores(run: Path, data: str, split: str, tta: bool) -> dict:
    out = run / ("eval_tta" if tta else "eval")
    out.mkdir(exist_ok=True)
    text = segment("evaluate", str(run / "best.pt"), data, "--split", split, "--json",
                   "--device", "cpu", "-o", str(out), *(["--tta"] if tta else []))
    return json.loads(text[text.index("{"):])


def one_seed(data: str, out: Path, seed: int, train_args: list[str], tta: bool) -> list[dict]:
    run = out / f"seed_{seed}"
    started = time.monotonic()
    segment("train", data, "-o", str(run), "--seed", str(seed), "--force", *train_args)
    wall = time.monotonic() - started
    epoch = json.loads((run / "val_scores.json").read_text())["epoch"]
    rows = []
    for use_tta in ([False, True] if tta else [False]):
        row = {"seed": seed, "tta": use_tta, "wall_s": wall, "best_epoch": epoch}
        for split in ("val", "test"):
            s = scores(run, data, split, use_tta)
            row[f"{split}_miou"] = s["mean_iou"]
            for name, c in s["per_class"].items():
                if c["scored"]:
                    row[f"{split}_iou:{name}"] = c["iou"]
        rows.append(row)
    return rows


def summarise(rows: list[dict]) -> None:
    keys = [k for k in rows[0] if k.endswith("miou") or ":" in k]
    short = {k: k.replace("_iou:", " ") for k in keys}
    print("seed tta  epoch  wall_s  " + "  ".join(f"{short[k]:>12}" for k in keys))
    for r in rows:
        print(f"{r['seed']:>4} {'yes' if r['tta'] else 'no':>3} {r['best_epoch']:>6} "
              f"{r['wall_s']:>7.0f}  " + "  ".join(f"{r[k]:>12.4f}" for k in keys))
    for tta in sorted({r["tta"] for r in rows}):
        group = [r for r in rows if r["tta"] == tta]
        print(f"\nmean +- std over {len(group)} seed(s), tta {'yes' if tta else 'no'} "
              f"(std is the sample std; 0 for one seed):")
        for k in keys + ["wall_s"]:
            v = np.array([r[k] for r in group], dtype=float)
            std = v.std(ddof=1) if len(v) > 1 else 0.0
            print(f"  {short.get(k, k):<20} {v.mean():.4f} +- {std:.4f}")


def main() -> None:
    argv = sys.argv[1:]
    train_args = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="curated, split dataset folder")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds, e.g. 0,1")
    parser.add_argument("--out", required=True, help="folder for the runs (outside DATA)")
    parser.add_argument("--tta", action="store_true", help="also score with flip TTA")
    args = parser.parse_args(own)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        done = one_seed(args.data, out, seed, train_args, args.tta)
        rows += done
        print(f"seed {seed} done: val {done[0]['val_miou']:.4f} test {done[0]['test_miou']:.4f}"
              f" (without TTA), {done[0]['wall_s']:.0f} s training", flush=True)
    summarise(rows)
    (out / "bench_quality.json").write_text(json.dumps(rows, indent=1))
    print("\nreproduce: .venv/bin/python benchmarks/bench_quality.py " + shlex.join(own)
          + (" -- " + shlex.join(train_args) if train_args else ""))


if __name__ == "__main__":
    main()
