"""Speed, peak memory and recall of the near-duplicate search (curate.scan.neighbours.near_pairs).

Reproduce: .venv/bin/python benchmarks/bench_near.py                     (100k and 1M hashes)
           .venv/bin/python benchmarks/bench_near.py --sizes 20000 100000 --distance 8

Each size runs in a fresh subprocess, so that its peak RSS (resource.getrusage ru_maxrss) is
its own: N uniformly random 64-bit hashes (seeded, --seed), of which --planted are replaced by
copies of other hashes in the set with 0..distance random bits flipped (planted pairs). Reported:
the search time (median of 3 in the same process), peak RSS of the whole process and before
the search (Python, numpy and the hashes themselves), the chunk plan the search chose, the
pairs found, and recall = planted pairs found / planted pairs (must be 1.0: the search is
exact). The machine may be shared: check `uptime`; the search is single-threaded numpy. The
table, with the time's growth from the smallest to the largest size against N log N and
against what exact multi-index search costs (`exact_growth`), is written to
docs/results/near_search.md (--print-only leaves it alone).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

from results import write_table


def exact_growth(ratio: float, radius: int, bits: int = 64) -> str:
    """What exact multi-index search costs as the hashes grow `ratio` times: with chunks of
    about log2 N bits (so that a bucket holds about one hash), a query flips up to
    radius x chunk / bits bits of each chunk, about N^H(radius / bits) lookups (H the binary
    entropy), so N queries cost about N^(1 + H). Norouzi, Punjani & Fleet, "Fast Exact Search
    in Hamming Space with Multi-Index Hashing" (arXiv 1307.2982), analyse it the same way."""
    p = radius / bits
    entropy = -p * math.log2(p) - (1 - p) * math.log2(1 - p) if 0 < p < 1 else 0.0
    return (f"exact search at radius {radius} of {bits} bits grows about as N^{1 + entropy:.2f}: "
            f"{ratio ** (1 + entropy):.1f}x")

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 3


def planted_hashes(n: int, planted: int, distance: int, seed: int):
    """(hashes (n,) uint64, planted pairs (P, 2) with i < j) with every planted j a copy of
    hash i with 0..distance bits flipped."""
    import numpy as np

    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 2**64, n, dtype=np.uint64, endpoint=False)
    picks = rng.choice(n, size=2 * planted, replace=False)
    sources, copies = picks[:planted], picks[planted:]
    for src, dst in zip(sources, copies):
        bits = rng.choice(64, size=rng.integers(0, distance + 1), replace=False)
        hashes[dst] = hashes[src] ^ np.uint64(sum(1 << int(b) for b in bits))
    pairs = np.sort(np.stack([sources, copies], axis=1), axis=1)
    return hashes, pairs


def measure_one(n: int, planted: int, distance: int, seed: int) -> dict:
    """Run in the child process: one search, its time, peak RSS and recall."""
    sys.path.insert(0, str(ROOT))
    import numpy as np
    from curate.scan.neighbours import near_pairs, search_plan

    hashes, pairs = planted_hashes(n, planted, distance, seed)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = []
    for _ in range(REPEATS):                      # the median: one cold call is noisy at 100k
        t0 = time.perf_counter()
        i, j, _ = near_pairs(hashes, distance)
        times.append(time.perf_counter() - t0)
    seconds = sorted(times)[len(times) // 2]
    found = set(zip(i.tolist(), j.tolist()))
    hit = sum((int(a), int(b)) in found for a, b in pairs)
    plan = " ".join(f"{c.bits}b/r{c.radius}" for c in search_plan(n, distance))
    return dict(n=n, seconds=seconds, peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                before_mb=rss_before / 1024, pairs=len(found), recall=hit / max(len(pairs), 1),
                plan=plan)


def measure_faiss(n: int, planted: int, distance: int, seed: int) -> dict:
    """The same search with faiss-cpu's IndexBinaryMultiHash (when installed): 64 bits cut
    into 4 tables of 16 bits, 1 bit flipped per probe, which is exact for distance <= 7
    (4 tables x (1 + 1) bits > 7); range search radius distance + 1 (faiss counts < radius)."""
    import faiss
    import numpy as np

    hashes, pairs = planted_hashes(n, planted, distance, seed)
    codes = hashes.view(np.uint8).reshape(n, 8)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    index = faiss.IndexBinaryMultiHash(64, 4, 16)
    index.nflip = 1
    index.add(codes)
    lims, _, found_j = index.range_search(codes, distance + 1)
    seconds = time.perf_counter() - t0
    found_i = np.repeat(np.arange(n), np.diff(lims).astype(np.int64))
    keep = found_i < found_j
    found = set(zip(found_i[keep].tolist(), found_j[keep].tolist()))
    hit = sum((int(a), int(b)) in found for a, b in pairs)
    return dict(n=n, seconds=seconds, peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                before_mb=rss_before / 1024, pairs=len(found), recall=hit / max(len(pairs), 1),
                plan=f"faiss IndexBinaryMultiHash 4x16b nflip 1, {faiss.omp_get_max_threads()} threads")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--distance", type=int, default=6)
    parser.add_argument("--planted", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--faiss", action="store_true",
                        help="also time faiss-cpu's binary multi-hash index (pip install faiss-cpu)")
    parser.add_argument("--print-only", action="store_true",
                        help="print the table without writing docs/results/near_search.md")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)   # child process: one size
    parser.add_argument("--one-faiss", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        measure = measure_faiss if args.one_faiss else measure_one
        print(json.dumps(measure(args.one, args.planted, args.distance, args.seed)))
        return
    print("command:", " ".join([os.path.relpath(sys.executable, ROOT), *sys.argv]))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}; distance <= {args.distance}, {args.planted} planted pairs")
    print(f"{'hashes':>10} {'seconds':>8} {'peak MB':>8} {'before':>7} {'pairs':>7} {'recall':>6}  plan")
    rows = []
    for n, engine in [(n, e) for n in args.sizes for e in ["ours"] + ["faiss"] * args.faiss]:
        child = [sys.executable, __file__, "--one", str(n), "--planted", str(args.planted),
                 "--distance", str(args.distance), "--seed", str(args.seed)]
        child += ["--one-faiss"] if engine == "faiss" else []
        row = json.loads(subprocess.run(child, check=True, capture_output=True, text=True).stdout)
        print(f"{row['n']:>10,} {row['seconds']:>8.1f} {row['peak_mb']:>8.0f} {row['before_mb']:>7.0f} "
              f"{row['pairs']:>7,} {row['recall']:>6.3f}  {row['plan']}")
        rows.append((engine, row))
    ours = [row for engine, row in rows if engine == "ours"]
    growth = ""
    if len(ours) > 1:
        small, large = ours[0], ours[-1]
        ratio = large["n"] / small["n"]
        allowed = ratio * math.log(large["n"]) / math.log(small["n"])
        growth = (f"{small['n']:,} -> {large['n']:,} hashes ({ratio:.0f}x): "
                  f"{large['seconds'] / small['seconds']:.1f}x the time; "
                  f"N log N allows {allowed:.1f}x; {exact_growth(ratio, args.distance)}")
        print(growth)
    if args.print_only:
        return
    path = write_table(
        "near_search", "The near-duplicate search as the hashes grow",
        ["hashes", "engine", "seconds", "peak RSS MB (before the search)", "pairs found",
         "recall of planted pairs", "plan"],
        [[f"{row['n']:,}", engine, f"{row['seconds']:.2f}",
          f"{row['peak_mb']:.0f} ({row['before_mb']:.0f})", f"{row['pairs']:,}",
          f"{row['recall']:.3f}", row["plan"]] for engine, row in rows],
        notes=(f"Uniform random 64-bit hashes (seed {args.seed}), {args.planted:,} planted pairs at "
               f"distance 0..{args.distance}, search radius {args.distance}; each size in a fresh "
               f"process, one thread (faiss: its own threads), the median of {REPEATS} searches "
               f"(faiss: one). Load average at the end {os.getloadavg()[0]:.1f}.\n\n{growth}"))
    print(f"wrote {path.relative_to(ROOT)}")

if __name__ == "__main__":
    main()
