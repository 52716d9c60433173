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
Both tools get the same cores: every core by default (cleanvision's pool and our scan's
threads both use them all), or the first N with --cores N (each command under taskset, and our
--threads N). Our runs use compiled kernels from a warm cache; one extra run per repeat is the
numpy fallback (CURATE_KERNELS=numpy) for comparison. Then, in fresh processes with an empty
NUMBA_CACHE_DIR: the import of curate (and whether it imported numba or torch), `curate
--help`, the first scan call that compiles the kernels (cold), and the same call in a new
process that loads them from the cache (warm).
Then, in this process: scan + checks on the pairs already in memory (median of --repeats), and
in a fresh process the stages one by one: imports, read, scan, each check, the reports
(`clean`: outliers.csv / .json / contact sheet) and writing the kept pairs as a curated folder.

With --folder-pairs N (e.g. 6000): N synthetic 256x256 colour PNG pairs (bench_folder.py's)
are written once; the pure PIL decode of every file (the floor) is timed against
`curate outliers FOLDER --dry-run`, with its peak RSS, by default and with the pixels read by
reference (CURATE_LAZY_BYTES=0); then the scan alone of the same pairs already in memory, which
with the decode and the start gives the least time any run that decodes once could take.

The table of the run is written to docs/results/outliers_speed.md (current only; git holds the
past) with the date, machine, commit, command and load average.

Reproduce: .venv/bin/python benchmarks/bench_speed.py [--repeats 3] [--folder-pairs 6000]
           [--cores N]
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
PRINT_ONLY = False       # --print-only: the tables are printed, not written

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


SCAN_ALONE = r"""
import json, sys, time
t = time.perf_counter()
from curate.data.readers import ReadOptions, read_dataset
from curate.scan.compiled import ready
from curate.scan.features import scan
ready()
out = {"start": time.perf_counter() - t}
data = read_dataset(sys.argv[1], ReadOptions(num_classes=5))
t = time.perf_counter(); scan(data)
out["scan"] = time.perf_counter() - t
print("RESULT " + json.dumps(out))
"""


COMPILE = r"""
import json, sys, time
t = time.perf_counter()
import curate.scan.features
out = {"import": time.perf_counter() - t}
out["heavy"] = [m for m in ("numba", "torch") if m in sys.modules]
import numpy as np
from curate.scan import kernels
gray = np.random.default_rng(0).integers(0, 256, (8, 64, 128), dtype=np.uint8)
t = time.perf_counter()
from curate.scan.embedding_kernel import embed
from curate.scan.pixel_kernel import pixel_columns
pixel_columns(gray), embed(gray)
out["first call"] = time.perf_counter() - t
t = time.perf_counter(); pixel_columns(gray), embed(gray)
out["second call"] = time.perf_counter() - t
out["compiled"] = kernels.available()
print("RESULT " + json.dumps(out))
"""


def pinned(command: list[str], cores: int) -> list[str]:
    """`command` on the first `cores` cores (taskset), or as it is (0: every core)."""
    return ["taskset", "-c", f"0-{cores - 1}", *command] if cores else command


def compile_costs(tmp: Path) -> dict:
    """Import time, `curate --help`, the cold compile and the warm-cache call, each in a fresh
    process with its own NUMBA_CACHE_DIR (empty at first)."""
    env = {**ENV, "NUMBA_CACHE_DIR": str(tmp / "numba-cache")}
    help_wall, _, _ = timed([*CURATE, "--help"], env)
    runs = []
    for _ in range(2):   # cold (compiles and fills the cache), then warm (loads it)
        runs.append(run_script(COMPILE, env=env))
    return {"help": help_wall, "import": runs[1]["import"], "heavy": runs[1]["heavy"],
            "cold": runs[0]["first call"], "warm": runs[1]["first call"],
            "hot": runs[1]["second call"], "compiled": runs[1]["compiled"]}


def load() -> float:
    return os.getloadavg()[0]


def planted_set(tmp: Path, limit: int = 0) -> tuple[Path, Path, int]:
    """(npz, PNG image folder, pairs) of the planted set of bench_outliers.py, seed 0 (its
    first `limit` pairs when given: a quick check of the script, not a figure)."""
    from bench_outliers import plant

    with np.load(DATA / "ai4mars-mars64" / "train.npz") as d:
        real, names = d["training_set"], d["names"]
    isbi = [np.asarray(Image.open(f).convert("L"))
            for f in sorted((DATA / "isbi2012-membrane" / "images").glob("*.png"))]
    pairs, all_names, *_ = plant(real, names, isbi, 0)
    if limit:
        pairs, all_names = pairs[:limit], all_names[:limit]
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


def paired(npz: Path, folder: Path, repeats: int, cv_python: str | None,
           cores: int = 0) -> dict:
    """Interleaved runs: ours end to end, then cleanvision end to end, `repeats` times (after
    one untimed run of ours that fills the kernel cache); ours on numpy after each pair."""
    ours, cv, cv_find, loads, numpy_runs = [], [], [], [], []
    issues = None
    command = [*CURATE, "outliers", str(npz), "--num-classes", "5", "--dry-run",
               *(["--threads", str(cores)] if cores else [])]
    timed(pinned(command, cores), ENV)      # compiles the kernels once (the user cache)
    for _ in range(repeats):
        loads.append(load())
        wall, peak, _ = timed(pinned(command, cores), ENV)
        ours.append((wall, peak))
        if cv_python:
            wall, peak, out = timed(pinned([cv_python, "-c", CLEANVISION, str(folder)], cores),
                                    {**ENV, "TQDM_DISABLE": "1"})
            found = result_line(out)
            cv.append((wall, peak))
            cv_find.append(found["find"])
            issues = found["issues"]
        numpy_runs.append(timed(pinned(command, cores), {**ENV, "CURATE_KERNELS": "numpy"}))
    return {"ours": ours, "cv": cv, "cv_find": cv_find, "issues": issues, "loads": loads,
            "numpy": numpy_runs}


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


def run_script(script: str, *args: str, env: dict | None = None) -> dict:
    """The RESULT line of `script` run by this Python in a fresh process from the repository
    root with `args` and `env` (default ENV); exits with its output when it fails."""
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                          text=True, cwd=ROOT, env=ENV if env is None else env)
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    return result_line(done.stdout)


def stages(npz: Path) -> dict:
    return run_script(STAGES, str(npz))


def folder_case(tmp: Path, n: int, repeats: int) -> list[str]:
    """Pure decode floor (one thread, and every core) against `curate outliers FOLDER
    --dry-run`, with peak RSS; the ratio is to the decode on every core (both decode in
    parallel)."""
    from bench_folder import decode_all, write_folder

    root = tmp / "folder"
    write_folder(root, n)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    one = statistics.median(decode_all(root, 1) for _ in range(repeats))
    floor = statistics.median(decode_all(root, cores) for _ in range(repeats))
    rows = [f"| pure PIL decode of every file, one thread | {one:.1f} | | {one / floor:.2f}x "
            f"| {load():.1f} |",
            f"| pure PIL decode of every file, {cores} threads (the floor) | {floor:.1f} | "
            f"| 1.00x | {load():.1f} |"]
    for label, budget in (("curate outliers FOLDER --dry-run (default)", None),
                          ("same, pixels by reference (CURATE_LAZY_BYTES=0)", "0")):
        env = {k: v for k, v in ENV.items() if k != "CURATE_LAZY_BYTES"}
        if budget is not None:
            env["CURATE_LAZY_BYTES"] = budget
        command = [*CURATE, "outliers", str(root), "--dry-run", "--num-classes", "5"]
        timed(command, env)                 # the kernels compiled once, outside the timing
        runs = [timed(command, env) for _ in range(repeats)]
        wall = statistics.median(r[0] for r in runs)
        peak = max(r[1] for r in runs)
        rows.append(f"| {label} | {wall:.1f} | {peak:,.0f} | {wall / floor:.2f}x "
                    f"| {load():.1f} |")
    # What one decode leaves room for: the scan of the same pairs already decoded (read into
    # memory whatever their size), and the start (imports, the compiled kernels loaded).
    alone = [scan_alone(root) for _ in range(repeats)]
    start = statistics.median(a["start"] for a in alone)
    scanned = statistics.median(a["scan"] for a in alone)
    rows.append(f"| the scan alone, pixels already in memory (library, every core) | "
                f"{scanned:.1f} | | {scanned / floor:.2f}x | {load():.1f} |")
    least = floor + start + scanned
    return [f"\nFrom a folder: {n:,} synthetic 256x256 colour PNG pairs (bench_folder.py), "
            f"median of {repeats}; targets: at most 1.5x the decode on every core, peak at "
            f"most 1 GB:\n",
            "| | wall s | peak RSS MB | / decode | load |", "| --- | --- | --- | --- | --- |",
            *rows,
            f"\nOne decode, the start ({start:.1f} s: imports, the compiled kernels loaded) "
            f"and the scan, with nothing else: {least:.1f} s = {least / floor:.2f}x the "
            f"decode; 1.5x leaves {0.5 * floor:.1f} s beside the decode for the start, the scan "
            f"and every check."]


def scan_alone(root: Path) -> dict:
    """The start and the scan of `root` in a fresh process, its pixels read into memory."""
    return run_script(SCAN_ALONE, str(root), env={**ENV, "CURATE_LAZY_BYTES": str(1 << 40)})


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
    parser.add_argument("--cores", type=int, default=0,
                        help="both tools on the first N cores (taskset; ours --threads N); "
                             "0: every core")
    parser.add_argument("--pairs", type=int, default=0,
                        help="only the first N planted pairs (a quick check of the script)")
    parser.add_argument("--print-only", action="store_true",
                        help="print the tables, write nothing to docs/results")
    parser.add_argument("--folder-only", action="store_true",
                        help="only the folder case (its table goes to "
                             f"{FOLDER_RESULTS.relative_to(ROOT)})")
    args = parser.parse_args()
    if args.folder_only and not args.folder_pairs:
        parser.error("--folder-only needs --folder-pairs N")
    if args.cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, range(args.cores))   # this process too (in memory, stages)
    global PRINT_ONLY
    PRINT_ONLY = args.print_only
    command = f".venv/bin/python benchmarks/bench_speed.py {' '.join(sys.argv[1:])}".strip()
    started = datetime.datetime.now(datetime.timezone.utc)
    lines = [f"command: {command}",
             f"date: {started:%Y-%m-%d %H:%M} UTC; machine: {platform.node()}, "
             f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores "
             f"({f'both tools on {args.cores}' if args.cores else 'both tools on all'}); "
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
        npz, folder, n = planted_set(tmp, args.pairs)
        costs = compile_costs(tmp)
        run = paired(npz, folder, args.repeats, args.cleanvision_python or None, args.cores)
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
    numpy_wall = statistics.median(w for w, _, _ in run["numpy"])
    numpy_row = (f"| ours on numpy, no kernels (CURATE_KERNELS=numpy), end to end | "
                 f"{numpy_wall:.2f} | {n / numpy_wall:,.0f} | "
                 f"{max(p for _, p, _ in run['numpy']):,.0f} | |")
    if run["cv"]:
        cv = statistics.median(w for w, _ in run["cv"])
        cv_find = statistics.median(run["cv_find"])
        table[3] = table[3][:-1] + f"{cv / ours:.1f}x |"      # the last column, empty so far
        table[4] = table[4][:-1] + f"{cv_find / memory:.1f}x (its find_issues alone) |"
        table += [f"| cleanvision, end to end (imports included) | {cv:.2f} | {n / cv:,.0f} | "
                  f"{max(p for _, p in run['cv']):,.0f} | |",
                  f"| cleanvision, find_issues alone | {cv_find:.2f} | {n / cv_find:,.0f} | | |",
                  "\nPer pair (run k: cleanvision end to end / ours end to end): "
                  + ", ".join(f"{c[0] / o[0]:.1f}x" for c, o in zip(run["cv"], run["ours"]))
                  + f". cleanvision's issues: {run['issues']}"]
    table.insert(5, numpy_row)
    table += ["\nStart-up and the compiled kernels (fresh processes, a new NUMBA_CACHE_DIR):\n",
              "| | seconds |", "| --- | --- |",
              f"| `curate --help` | {costs['help']:.2f} |",
              f"| import curate.scan.features (imports numba or torch: "
              f"{', '.join(costs['heavy']) or 'neither'}) | {costs['import']:.2f} |",
              f"| first scan call, cold: numba imported, kernels compiled, cache written "
              f"(compiled kernels used: {costs['compiled']}) | "
              f"{costs['cold']:.2f} |",
              f"| first scan call, warm cache: numba imported, kernels loaded | "
              f"{costs['warm']:.2f} |",
              f"| the same call again (8 pairs of 64x128) | {costs['hot']:.4f} |"]
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
    if PRINT_ONLY:
        return
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
