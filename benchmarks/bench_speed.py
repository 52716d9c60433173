"""Speed of `curate outliers --dry-run` (every default check on) against cleanvision 0.3.7,
side by side in one run, and where our time goes.

The set: the 6,000 real pairs of ai4mars-mars64/train.npz with the plantings of
bench_outliers.py (duplicates, near duplicates, three alien groups, blank and blurry frames;
7,200 pairs of 64x128), stored once as a compressed npz (what we read) and once as a folder of
PNG images (what cleanvision reads; it has no masks).

Measured, each in a fresh process, paired and interleaved (ours, then cleanvision, --repeats
times; medians):
- ours end to end: `curate outliers PLANTED.npz --num-classes 5 --dry-run` under
  /usr/bin/time -v (process start, imports, npz read, scan, every check, the printed summary);
- cleanvision end to end: `Imagelab(data_path=FOLDER).find_issues()` in a fresh interpreter
  (--cleanvision-python, default this one), imports included; its find_issues time alone too.
Then, in this process: scan + checks on the pairs already in memory (median of --repeats), and
in a fresh process the stages one by one: imports, read, scan, each check, the reports
(`clean`: outliers.csv / .json / contact sheet) and writing the kept pairs as a curated folder.

With --folder-pairs N (e.g. 6000): N synthetic 256x256 colour PNG pairs (bench_folder.py's)
are written once; the pure PIL decode of every file (the floor) is timed against
`curate outliers FOLDER --dry-run`, with its peak RSS, by default and with the pixels read by
reference (CURATE_LAZY_BYTES=0).

The table of the run is written to docs/results/outliers_speed.md (current only; git holds the
past) with the date, machine, commit, command and load average.

Reproduce: .venv/bin/python benchmarks/bench_speed.py [--repeats 3] [--folder-pairs 6000]
           [--cleanvision-python /path/to/venv/bin/python]
           .venv/bin/python benchmarks/bench_speed.py --folder-only --folder-pairs 6000
           (the folder case alone; its table goes to docs/results/outliers_folder_speed.md)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from timed import CURATE, ENV as BASE_ENV, ROOT, timed

ENV = {**BASE_ENV, "PYTHONPATH": str(ROOT)}
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "docs" / "results" / "outliers_speed.md"
FOLDER_RESULTS = ROOT / "docs" / "results" / "outliers_folder_speed.md"   # --folder-only

CLEANVISION = r"""
import json, os, sys, time
os.environ["TQDM_DISABLE"] = "1"
t0 = time.perf_counter()
from cleanvision import Imagelab
t1 = time.perf_counter()
lab = Imagelab(data_path=sys.argv[1], verbose=False)
lab.find_issues(verbose=False)
t2 = time.perf_counter()
issues = {c[3:-6]: int(lab.issues[c].sum()) for c in lab.issues.columns
          if c.startswith("is_") and c.endswith("_issue")}
print("RESULT " + json.dumps({"import": t1 - t0, "find": t2 - t1, "issues": issues}))
"""

STAGES = r"""
import dataclasses, json, sys, tempfile, time
from pathlib import Path
out = {}
t = time.perf_counter()
from curate.checks import CHECKS
from curate.scan.features import scan
from curate.data.manifest import build_manifest
from curate.checks.outliers import OutlierConfig, clean, find_outliers, resolved
from curate.data.readers import ReadOptions, read_dataset
from curate.data.writers import write_dataset
out["imports"] = time.perf_counter() - t
t = time.perf_counter(); data = read_dataset(Path(sys.argv[1]), ReadOptions(num_classes=5))
out["read (npz)"] = time.perf_counter() - t
t = time.perf_counter(); features = scan(data)
out["scan"] = time.perf_counter() - t
config = resolved(OutlierConfig(), data)
manifest = build_manifest(data, features)
for name in config.checks:
    t = time.perf_counter(); CHECKS[name](manifest, config)
    out["check " + name] = time.perf_counter() - t
data = dataclasses.replace(data, manifest=manifest)
t = time.perf_counter(); result = find_outliers(data, OutlierConfig())
out["all checks + table (run_checks)"] = time.perf_counter() - t
t = time.perf_counter(); cleaned = clean(result.dataset, OutlierConfig())
out["reports (csv, json, sheet)"] = time.perf_counter() - t
with tempfile.TemporaryDirectory() as tmp:
    t = time.perf_counter(); write_dataset(Path(tmp) / "out", cleaned.dataset, cleaned.reports)
    out["write kept pairs + manifest"] = time.perf_counter() - t
print("RESULT " + json.dumps(out))
"""


def load() -> float:
    return os.getloadavg()[0]


def planted_set(tmp: Path) -> tuple[Path, Path, int]:
    """(npz, PNG image folder, pairs) of the planted set of bench_outliers.py, seed 0."""
    from bench_outliers import plant

    with np.load(DATA / "ai4mars-mars64" / "train.npz") as d:
        real, names = d["training_set"], d["names"]
    isbi = [np.asarray(Image.open(f).convert("L"))
            for f in sorted((DATA / "isbi2012-membrane" / "images").glob("*.png"))]
    pairs, all_names, *_ = plant(real, names, isbi, 0)
    npz = tmp / "planted.npz"
    np.savez_compressed(npz, training_set=pairs, names=all_names)
    folder = tmp / "planted_png"
    folder.mkdir()
    for image, name in zip(pairs[:, 0], all_names):
        Image.fromarray(image).save(folder / f"{name}.png")
    return npz, folder, len(pairs)


def result_line(stdout: str) -> dict:
    return json.loads(next(line for line in stdout.splitlines()
                           if line.startswith("RESULT "))[len("RESULT "):])


def paired(npz: Path, folder: Path, repeats: int, cv_python: str | None) -> dict:
    """Interleaved runs: ours end to end, then cleanvision end to end, `repeats` times."""
    ours, cv, cv_find, loads = [], [], [], []
    issues = None
    for _ in range(repeats):
        loads.append(load())
        wall, peak, _ = timed([*CURATE, "outliers", str(npz), "--num-classes", "5",
                               "--dry-run"], ENV)
        ours.append((wall, peak))
        if cv_python:
            wall, peak, out = timed([cv_python, "-c", CLEANVISION, str(folder)],
                                    {**ENV, "TQDM_DISABLE": "1"})
            found = result_line(out)
            cv.append((wall, peak))
            cv_find.append(found["find"])
            issues = found["issues"]
    return {"ours": ours, "cv": cv, "cv_find": cv_find, "issues": issues, "loads": loads}


def in_memory(npz: Path, repeats: int) -> float:
    """Median seconds of find_outliers (scan + every check) on pairs already in memory."""
    from curate.checks.outliers import OutlierConfig, find_outliers
    from curate.data.readers import ReadOptions, read_dataset

    dataset = read_dataset(npz, ReadOptions(num_classes=5))   # no manifest: find_outliers scans
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        find_outliers(dataset, OutlierConfig())
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def stages(npz: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", STAGES, str(npz)], capture_output=True,
                          text=True, cwd=ROOT, env=ENV)
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    return result_line(done.stdout)


def folder_case(tmp: Path, n: int, repeats: int) -> list[str]:
    """Pure decode floor against `curate outliers FOLDER --dry-run`, with peak RSS."""
    from bench_folder import write_folder

    root = tmp / "folder"
    write_folder(root, n)
    decode = []
    for _ in range(repeats):
        t = time.perf_counter()
        for sub in ("images", "masks"):
            for f in sorted((root / sub).iterdir()):
                with Image.open(f) as picture:
                    picture.load()
        decode.append(time.perf_counter() - t)
    floor = statistics.median(decode)
    rows = [f"| pure PIL decode of every file (one thread, the floor) | {floor:.1f} | | 1.00x "
            f"| {load():.1f} |"]
    for label, budget in (("curate outliers FOLDER --dry-run (default)", None),
                          ("same, pixels by reference (CURATE_LAZY_BYTES=0)", "0")):
        env = {k: v for k, v in ENV.items() if k != "CURATE_LAZY_BYTES"}
        if budget is not None:
            env["CURATE_LAZY_BYTES"] = budget
        runs = [timed([*CURATE, "outliers", str(root), "--dry-run", "--num-classes", "5"], env)
                for _ in range(repeats)]
        wall = statistics.median(r[0] for r in runs)
        peak = max(r[1] for r in runs)
        rows.append(f"| {label} | {wall:.1f} | {peak:,.0f} | {wall / floor:.2f}x "
                    f"| {load():.1f} |")
    return [f"\nFrom a folder: {n:,} synthetic 256x256 colour PNG pairs (bench_folder.py), "
            f"median of {repeats}:\n",
            "| | wall s | peak RSS MB | / decode | load |", "| --- | --- | --- | --- | --- |",
            *rows]


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return git("rev-parse", "--short", "HEAD") + (" (with uncommitted changes)" if dirty else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cleanvision-python", default=sys.executable,
                        help="interpreter with cleanvision 0.3.7 installed ('' to skip)")
    parser.add_argument("--folder-pairs", type=int, default=0,
                        help="also the folder case with this many 256x256 pairs (e.g. 6000)")
    parser.add_argument("--folder-only", action="store_true",
                        help="only the folder case (its table goes to "
                             f"{FOLDER_RESULTS.relative_to(ROOT)})")
    args = parser.parse_args()
    if args.folder_only and not args.folder_pairs:
        parser.error("--folder-only needs --folder-pairs N")
    command = f".venv/bin/python benchmarks/bench_speed.py {' '.join(sys.argv[1:])}".strip()
    started = datetime.datetime.now(datetime.timezone.utc)
    lines = [f"command: {command}",
             f"date: {started:%Y-%m-%d %H:%M} UTC; machine: {platform.node()}, "
             f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
             f"commit {commit()}; load average at start {load():.1f}"]
    print("\n".join(lines), flush=True)
    if args.folder_only:
        with tempfile.TemporaryDirectory() as tmp:
            table = folder_case(Path(tmp), args.folder_pairs, args.repeats)
        table.append(f"\nload average at the end {load():.1f}")
        write_results(FOLDER_RESULTS, "Speed of `curate outliers` from a folder of image files",
                      lines, table)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        npz, folder, n = planted_set(tmp)
        run = paired(npz, folder, args.repeats, args.cleanvision_python or None)
        memory = in_memory(npz, args.repeats)
        parts = stages(npz)
        folder_lines = folder_case(tmp, args.folder_pairs, args.repeats) \
            if args.folder_pairs else []
    ours = statistics.median(w for w, _ in run["ours"])
    table = [f"\n`curate outliers --dry-run`, every default check, on {n:,} planted 64x128 "
             f"pairs (npz); cleanvision 0.3.7 on the same images as PNG files. Paired runs, "
             f"median of {args.repeats}; load average before each pair: "
             + ", ".join(f"{x:.1f}" for x in run["loads"]) + "\n",
             "| | seconds | pairs/s | peak RSS MB | cleanvision / this |",
             "| --- | --- | --- | --- | --- |",
             f"| ours, CLI end to end (npz) | {ours:.2f} | {n / ours:,.0f} | "
             f"{max(p for _, p in run['ours']):,.0f} | |",
             f"| ours, scan + checks in memory | {memory:.2f} | {n / memory:,.0f} | | |"]
    if run["cv"]:
        cv = statistics.median(w for w, _ in run["cv"])
        cv_find = statistics.median(run["cv_find"])
        table[3] = table[3][:-1] + f"{cv / ours:.1f}x |"      # the last column, empty so far
        table[4] = table[4][:-1] + f"{cv_find / memory:.1f}x (its find_issues alone) |"
        table += [f"| cleanvision, end to end (imports included) | {cv:.2f} | {n / cv:,.0f} | "
                  f"{max(p for _, p in run['cv']):,.0f} | |",
                  f"| cleanvision, find_issues alone | {cv_find:.2f} | {n / cv_find:,.0f} | | |",
                  f"\nPer pair (run k: cleanvision end to end / ours end to end): "
                  + ", ".join(f"{c[0] / o[0]:.1f}x" for c, o in zip(run["cv"], run["ours"]))
                  + f". cleanvision's issues: {run['issues']}"]
    total = sum(v for k, v in parts.items() if not k.startswith("check "))
    table += ["\nWhere the time goes (one fresh process, the stages one by one):\n",
              "| stage | seconds |", "| --- | --- |",
              *[f"| {k} | {v:.2f} |" for k, v in parts.items()],
              f"| sum of imports, read, scan, run_checks, reports, write | {total:.2f} |"]
    table += folder_lines
    table.append(f"\nload average at the end {load():.1f}")
    write_results(RESULTS, "Speed of `curate outliers` against cleanvision", lines, table)


def write_results(path: Path, title: str, lines: list[str], table: list[str]) -> None:
    """Print the table and write it, with the run's header lines, to `path` (new name, then
    rename)."""
    print("\n".join(table))
    path.parent.mkdir(parents=True, exist_ok=True)
    body = (f"# {title}\n\nWritten by benchmarks/bench_speed.py; the machine may be shared "
            "(see the load figures).\n\n" + "\n".join(f"- {line}" for line in lines) + "\n"
            + "\n".join(table) + "\n")
    partial = path.with_name(path.name + ".partial")
    partial.write_text(body)
    partial.replace(path)
    print(f"\nwritten {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
