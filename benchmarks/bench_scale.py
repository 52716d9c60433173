"""Time and peak memory of `curate outliers --dry-run` as the number of pairs grows.

For each size N (default 20k and 200k; add 1M with --million) a synthetic npz is written once:
N 32x32 grayscale pairs (smooth random fields, 5 classes), of which 1 % are exact copies of
other pairs and 1 % are near copies (a few pixels changed). Then, each in a fresh process:

- `cli`: the user's command, `curate outliers DATA --dry-run --num-classes 5`, under
  /usr/bin/time -v (wall seconds, max RSS);
- `dask 1` / `dask 2` (with --dask): the same command with `--dask-workers 1` and `--dask-workers 2`
  (a local Dask cluster of worker processes; the wall time includes starting it, ~2 s);
- `stages`: the same work through the library, timed per stage (read, scan, checks, which
  include the near-duplicate search, the search alone again (3 times: the median, and the
  first of the 3 beside it), writing the manifest (the per-pair table of the scan and every
  check, as `manifest.csv`) and writing the kept pairs as a curated folder of PNGs;
  --manifest-only leaves the PNGs out), with the process's peak RSS after each stage (a
  running maximum, so a stage's figure includes the ones before it).

The time and memory ratios between the largest and the smallest size are printed last. The
machine may be shared: the load average is printed.

With --compressed the npz is written by np.savez_compressed (members decoded into memory
within the byte budget) and the cli runs again with CURATE_LAZY_BYTES=0 (members spilled to a
temporary file and mapped).

The table of the run is written to docs/results/outliers_scale.md (current only; git holds the
past) with the date, commit, command and load average.

Then the targets of issue 36: memory per added pair between consecutive sizes (flat is 0:
nothing per pair beyond the results asked for), 1M pairs in at most 2 GB and 300 s, and the
near-duplicate search's growth against N log N.

Reproduce: .venv/bin/python benchmarks/bench_scale.py [--sizes 20000 200000] [--million]
[--dask] [--compressed] [--manifest-only] [--cli-only] [--print-only]
           e.g. .venv/bin/python benchmarks/bench_scale.py --sizes 100000 --million --manifest-only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench_near import exact_growth
from results import write_table
from timed import CURATE, ENV, ROOT, timed


def write_npz(path: Path, n: int, seed: int = 0, compressed: bool = False) -> dict:
    """N pairs, 1 % exact and 1 % near copies; returns the planted counts."""
    images, masks, planted = synthetic_pairs(n, seed)
    (np.savez_compressed if compressed else np.savez)(path, images=images, masks=masks)
    return {"exact": len(planted["exact"]), "near": len(planted["near"])}


def synthetic_pairs(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, dict]:
    """(images, masks, planted): N 32x32 pairs, of which 1 % exact and 1 % near copies;
    planted["exact"] and planted["near"] are (k, 2) arrays of (source, copy) rows."""
    rng = np.random.default_rng(seed)
    images = np.empty((n, 32, 32), np.uint8)
    # An 8x8 random field upsampled: smooth, varied pictures. Not 4x4: the pHash of a 4x4
    # field has so few free bits that 56 % of 100,000 such pictures chained into near-duplicate
    # groups (one of 21,398) at distance 6, where 8x8 fields give no pair at all; the search
    # and the reasons then measured that degenerate case, not the 1 % planted copies.
    for start in range(0, n, 50_000):
        m = min(50_000, n - start)
        small = rng.random((m, 8, 8), dtype=np.float32)
        field = np.kron(small, np.ones((4, 4), np.float32))
        noise = rng.normal(0, 0.04, (m, 32, 32)).astype(np.float32)
        images[start:start + m] = np.clip((field + noise) * 255, 0, 255).astype(np.uint8)
    masks = np.minimum(images // 52, 4).astype(np.uint8)
    k = n // 100
    picks = rng.choice(n, size=4 * k, replace=False)
    exact_src, exact_dst, near_src, near_dst = np.split(picks, 4)
    images[exact_dst], masks[exact_dst] = images[exact_src], masks[exact_src]
    near = images[near_src].copy()
    rows = rng.integers(0, 32, (k, 3))
    cols = rng.integers(0, 32, (k, 3))
    near[np.arange(k)[:, None], rows, cols] ^= 8
    images[near_dst], masks[near_dst] = near, masks[near_src]
    return images, masks, {"exact": np.stack([exact_src, exact_dst], axis=1),
                           "near": np.stack([near_src, near_dst], axis=1)}


STAGES = r"""
import json, resource, sys, time
from pathlib import Path
from curate.data.readers import read_dataset, ReadOptions
from curate.scan.features import scan
from curate.checks.outliers import OutlierConfig, find_outliers
from curate.scan import neighbours as near
from curate.data.manifest import build_manifest
from curate.data.writers import write_dataset, write_manifest_csv
from curate.io.contract import order_columns

def rss():
    # VmHWM: this process's own peak. ru_maxrss would also count the parent's memory at the
    # fork (Linux keeps the larger maxrss across exec), here the arrays the bench just wrote.
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

out = {}
t = time.perf_counter(); data = read_dataset(sys.argv[1], ReadOptions(num_classes=5))
out["read"] = (time.perf_counter() - t, rss())
t = time.perf_counter(); table = scan(data)
out["scan"] = (time.perf_counter() - t, rss())
t = time.perf_counter(); result = find_outliers(data, OutlierConfig())
out["scan+checks"] = (time.perf_counter() - t, rss())
hashes = table["phash"].map(lambda h: int(h, 16)).to_numpy(dtype="uint64")
searches = []
for _ in range(3):   # the median of 3: one 0.2 s search at 100k moves with first-touch memory
    t = time.perf_counter(); pairs = near.near_pairs(hashes, 6)
    searches.append(time.perf_counter() - t)
out["near search"] = (sorted(searches)[1], rss())
out["near search, first of 3"] = (searches[0], rss())
t = time.perf_counter()
write_manifest_csv(order_columns(build_manifest(result.dataset)), Path(sys.argv[2] + ".csv"))
out["write manifest"] = (time.perf_counter() - t, rss())
if sys.argv[3] == "pairs":
    t = time.perf_counter(); write_dataset(Path(sys.argv[2]), result.dataset, result.reports)
    out["write pairs"] = (time.perf_counter() - t, rss())
print(json.dumps(out))
"""


def run_cli(data: Path, *extra: str, env: dict | None = None) -> tuple[float, float]:
    wall, peak, _ = timed([*CURATE, "outliers", str(data), "--dry-run", "--num-classes", "5", *extra],
                          {**ENV, **(env or {})})
    return wall, peak


def run_stages(data: Path, pairs: bool) -> dict:
    out = data.with_suffix(".curated")
    done = subprocess.run([sys.executable, "-c", STAGES, str(data), str(out),
                           "pairs" if pairs else "manifest"],
                          capture_output=True, text=True, cwd=ROOT, env=ENV)
    shutil.rmtree(out, ignore_errors=True)
    Path(str(out) + ".csv").unlink(missing_ok=True)
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _seconds(stage: str, seconds: float) -> str:
    """A stage's time as the tables give it: the near search (tenths of a second at 100k)
    to the hundredth."""
    return f"{seconds:.2f}" if stage.startswith("near search") else f"{seconds:.1f}"


def target_lines(rows: list) -> list[str]:
    """Issue 36's targets from the runs: memory per added pair, 1M pairs, near search."""
    lines = []
    for (n0, w0, p0, s0), (n1, w1, p1, s1) in zip(rows, rows[1:]):
        lines.append(f"{n0:,} -> {n1:,} pairs: cli peak {p0:,.0f} -> {p1:,.0f} MB, "
                     f"{(p1 - p0) * 1024 / (n1 - n0):.2f} kB per added pair (flat: 0)")
        if "near search" in s0 and "near search" in s1:
            t0, t1 = s0["near search"][0], s1["near search"][0]
            nlogn = n1 * np.log(n1) / (n0 * np.log(n0))
            lines.append(f"near-duplicate search {n0:,} -> {n1:,} (median of 3): "
                         f"{t1 / max(t0, 1e-9):.1f}x "
                         f"the time; N log N allows {nlogn:.1f}x "
                         f"({'within' if t1 / max(t0, 1e-9) <= nlogn else 'over'}); "
                         f"{exact_growth(n1 / n0, 6)}")
    for n, wall, peak, _ in rows:
        if n == 1_000_000:
            ok = peak <= 2048 and wall <= 300
            lines.append(f"1,000,000 pairs --dry-run: {wall:.0f} s, {peak:,.0f} MB "
                         f"(target at most 300 s and 2,048 MB: {'met' if ok else 'not met'})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--million", action="store_true", help="also 1,000,000 pairs")
    parser.add_argument("--dask", action="store_true", help="also --dask-workers 1 and --dask-workers 2")
    parser.add_argument("--compressed", action="store_true",
                        help="np.savez_compressed; also the cli with CURATE_LAZY_BYTES=0 "
                             "(members spilled to a temporary file and mapped)")
    parser.add_argument("--manifest-only", action="store_true",
                        help="the write stage writes manifest.csv only, not the kept pairs as PNGs")
    parser.add_argument("--cli-only", action="store_true",
                        help="only the cli runs (no stage columns): a quick peak-memory check")
    parser.add_argument("--print-only", action="store_true",
                        help="print, write nothing to docs/results")
    args = parser.parse_args()
    sizes = args.sizes + ([1_000_000] if args.million else [])
    print(f"command: .venv/bin/python benchmarks/bench_scale.py {' '.join(sys.argv[1:])}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}; 32x32 gray pairs, 1 % exact + 1 % near copies")
    rows, dask_rows, spill_rows = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            data = Path(tmp) / f"pairs_{n}.npz"
            write_npz(data, n, compressed=args.compressed)
            wall, peak = run_cli(data)
            if args.compressed:
                spill_rows.append((n, run_cli(data, env={"CURATE_LAZY_BYTES": "0"})))
            stages = {} if args.cli_only else run_stages(data, pairs=not args.manifest_only)
            rows.append((n, wall, peak, stages))
            if args.dask:
                dask_rows.append((n, [run_cli(data, "--dask-workers", str(w)) for w in (1, 2)]))
            data.unlink()
    print(f"\n{'pairs':>10}  {'cli s':>7}  {'cli peak MB':>11}  " + "  ".join(
        f"{name + ' s/MB':>22}" for name in rows[0][3]))
    for n, wall, peak, stages in rows:
        print(f"{n:>10,}  {wall:>7.1f}  {peak:>11,.0f}  " + "  ".join(
            f"{f'{_seconds(name, s)} / {m:,.0f}':>22}" for name, (s, m) in stages.items()))
    if dask_rows:
        print(f"\n{'pairs':>10}  {'in process s':>12}  {'--workers 1 s':>13}  {'--workers 2 s':>13}"
              "  (peak MB of the curate process)")
        for (n, runs), (_, wall, peak, _) in zip(dask_rows, rows):
            print(f"{n:>10,}  {f'{wall:.1f} ({peak:,.0f})':>12}  " + "  ".join(
                f"{f'{s:.1f} ({m:,.0f})':>13}" for s, m in runs))
    if spill_rows:
        print(f"\n{'pairs':>10}  {'compressed npz, in memory':>26}  {'spilled (CURATE_LAZY_BYTES=0)':>30}")
        for (n, (ws, ps)), (_, wall, peak, _) in zip(spill_rows, rows):
            print(f"{n:>10,}  {f'{wall:.1f} s, {peak:,.0f} MB':>26}  {f'{ws:.1f} s, {ps:,.0f} MB':>30}")
    (n0, w0, p0, _), (n1, w1, p1, _) = rows[0], rows[-1]
    growth = (f"{n1:,} vs {n0:,} pairs ({n1 / n0:.0f}x): time {w1 / w0:.1f}x, "
              f"peak memory {p1 / p0:.1f}x ({p1:,.0f} MB)")
    print("\n" + growth)
    targets = target_lines(rows)
    print("\n".join(targets))
    if args.print_only:
        return
    stage_names = list(rows[0][3])
    path = write_table(
        "outliers_scale", "curate outliers as the pairs grow",
        ["pairs", "cli --dry-run: wall s, peak MB",
         *(f"{name}: s, peak MB so far" for name in stage_names)],
        [[f"{n:,}", f"{wall:.1f}, {peak:,.0f}",
          *(f"{_seconds(name, stages[name][0])}, {stages[name][1]:,.0f}"
            for name in stage_names)]
         for n, wall, peak, stages in rows],
        notes=(f"32x32 synthetic gray pairs (8x8 random fields upsampled, plus noise) in an "
               f"uncompressed npz, 1 % exact and 1 % near copies. (Until 2026-12-07 the fields "
               f"were 4x4: their pHashes chained 56 % of 100,000 pairs into near-duplicate "
               f"groups, a degenerate case.) `cli` is the whole `curate outliers DATA --dry-run --num-classes 5` "
               f"(scan, every default check, the near-duplicate search); the stage columns "
               f"run the same work through the library in one fresh process (scan+checks "
               f"scans again). Load average at the end {os.getloadavg()[0]:.1f}.\n\n{growth}.\n\n"
               + "\n".join(f"- {line}" for line in targets)))
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
