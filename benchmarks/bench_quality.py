"""Quality of a training recipe over seeds: trains with the `segment` CLI once per seed, scores
best.pt on val and test with `segment evaluate`, prints per-seed rows and mean +- std of the
mean IoU and of every scored class's IoU, and the command that reproduces it.

    .venv/bin/python benchmarks/bench_quality.py DATASET --seeds 0,1 --out /tmp/bq [--tta] \\
        [--calibrate] [--parallel] -- --epochs 24 --set threads=2 [any other `segment train` option]

Options after `--` go to `segment train` unchanged. Each run is RUN = OUT/seed_<S>; an
existing RUN is replaced (--force); its training log is OUT/train_seed_<S>.log. With --tta,
every checkpoint is also scored with flip test-time augmentation; with --calibrate, with
per-class biases tuned on val (`segment calibrate`, RUN/bias.json); each scoring is its own
rows. --parallel trains all seeds at once (e.g. two seeds with --set threads=1 each on 2 cores).
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


def scores(run: Path, data: str, split: str, variant: str) -> dict:
    """Mean and per-class IoU of RUN/best.pt on one split, scored as `variant` says:
    'plain', 'tta' (flip TTA), 'bias' (RUN/bias.json from calibrate) or 'bias+tta'."""
    out = run / f"eval_{variant.replace('+', '_')}"
    out.mkdir(exist_ok=True)
    extra = (["--tta"] if "tta" in variant else []) + (
        ["--class-bias", str(run / VARIANT_BIAS[variant])] if "bias" in variant else [])
    text = segment("evaluate", str(run / "best.pt"), data, "--split", split, "--json",
                   "--device", "cpu", "-o", str(out), *extra)
    return json.loads(text[text.index("{"):])


# The biases each calibrated variant uses: tuned on val without and with TTA, as the README
# says to (calibrate with --tta to score with --tta).
VARIANT_BIAS = {"bias": "bias.json", "bias+tta": "bias_tta.json"}


def train_all(data: str, out: Path, seeds: list[int], train_args: list[str],
              parallel: bool) -> dict[int, float]:
    """Train one run per seed (one after another, or all at once with `parallel`); the
    training wall time of each seed."""
    env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1", "COLUMNS": "200"}
    walls, running = {}, {}
    for seed in seeds:
        command = [sys.executable, "-m", "segment", "train", data, "-o", str(out / f"seed_{seed}"),
                   "--seed", str(seed), "--force", *train_args]
        log = open(out / f"train_seed_{seed}.log", "w")
        running[seed] = (subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                          stderr=subprocess.STDOUT), time.monotonic(), log)
        if not parallel:
            _wait(running.popitem()[1], seed, walls, out)
    for seed, job in running.items():
        _wait(job, seed, walls, out)
    return walls


def _wait(job, seed: int, walls: dict[int, float], out: Path) -> None:
    process, started, log = job
    code = process.wait()
    walls[seed] = time.monotonic() - started
    log.close()
    if code != 0:
        sys.exit(f"segment train (seed {seed}) failed ({code}): see {out}/train_seed_{seed}.log")
    print(f"seed {seed} trained in {walls[seed]:.0f} s", flush=True)


def score_seed(data: str, run: Path, seed: int, wall: float, variants: list[str]) -> list[dict]:
    epoch = json.loads((run / "val_scores.json").read_text())["epoch"]
    for variant, name in VARIANT_BIAS.items():
        if variant in variants:
            segment("calibrate", str(run / "best.pt"), data, "-o", str(run / name), "--force",
                    "--device", "cpu", *(["--tta"] if "tta" in variant else []))
    rows = []
    for variant in variants:
        row = {"seed": seed, "variant": variant, "wall_s": wall, "best_epoch": epoch}
        for split in ("val", "test"):
            s = scores(run, data, split, variant)
            row[f"{split}_miou"] = s["mean_iou"]
            for name, c in s["per_class"].items():
                if c["scored"]:
                    row[f"{split}_iou:{name}"] = c["iou"]
        rows.append(row)
    return rows


def summarise(rows: list[dict]) -> None:
    keys = [k for k in rows[0] if k.endswith("miou") or ":" in k]
    short = {k: k.replace("_iou:", " ") for k in keys}
    print("seed  variant  epoch  wall_s  " + "  ".join(f"{short[k]:>12}" for k in keys))
    for r in rows:
        print(f"{r['seed']:>4} {r['variant']:>8} {r['best_epoch']:>6} "
              f"{r['wall_s']:>7.0f}  " + "  ".join(f"{r[k]:>12.4f}" for k in keys))
    for variant in dict.fromkeys(r["variant"] for r in rows):
        group = [r for r in rows if r["variant"] == variant]
        print(f"\nmean +- std over {len(group)} seed(s), scored {variant} "
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
    parser.add_argument("--calibrate", action="store_true",
                        help="also score with per-class biases tuned on val (segment calibrate)")
    parser.add_argument("--parallel", action="store_true",
                        help="train every seed at once, one process each (give each "
                             "--set threads=N accordingly)")
    args = parser.parse_args(own)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    variants = ["plain"] + (["tta"] if args.tta else []) + (
        ["bias"] + (["bias+tta"] if args.tta else []) if args.calibrate else [])
    walls = train_all(args.data, out, seeds, train_args, args.parallel)
    rows = []
    for seed in seeds:
        done = score_seed(args.data, out / f"seed_{seed}", seed, walls[seed], variants)
        rows += done
        print(f"seed {seed} scored: val {done[0]['val_miou']:.4f} test {done[0]['test_miou']:.4f}"
              " (plain)", flush=True)
    summarise(rows)
    (out / "bench_quality.json").write_text(json.dumps(rows, indent=1))
    print("\nreproduce: .venv/bin/python benchmarks/bench_quality.py " + shlex.join(own)
          + (" -- " + shlex.join(train_args) if train_args else ""))


if __name__ == "__main__":
    main()
