"""Speed, peak memory and recall of the near-duplicate search (curate.scan.neighbours.near_pairs).

Reproduce: .venv/bin/python benchmarks/bench_near.py                     (100k and 1M hashes)
           .venv/bin/python benchmarks/bench_near.py --sizes 20000 100000 --distance 8
           .venv/bin/python benchmarks/bench_near.py --print-only --sources uniform

Each size runs in a fresh subprocess, so that its peak RSS (resource.getrusage ru_maxrss) is
its own: N uniformly random 64-bit hashes (seeded, --seed), of which --planted are replaced by
copies of other hashes in the set with 0..distance random bits flipped (planted pairs); and
(source `scale`) the pHashes of benchmarks/bench_scale.py's synthetic pictures, the hashes
that bench's near-search figure searches, whose planted pairs are its 1 % exact and 1 % near
copies. Reported: the search time (median of 3 in the same process), peak RSS of the whole
process and before the search (Python, numpy and the hashes themselves), the chunk plan the
search chose, the pairs found, and recall = planted pairs found / planted pairs whose hashes
are within the distance (must be 1.0: the search is exact). The machine may be shared: check
`uptime`; the search is single-threaded numpy. The table, with the time's growth from the
smallest to the largest size against N log N and against what exact multi-index search costs
(`exact_growth`), is written to docs/results/near_search.md (--print-only leaves it alone).

Whether a set of hashes is fair to the search's buckets: `bucket_fill` counts the pairs of
hashes that share a bucket of 8, 12 and 16 bits, against what uniform random hashes would give
(1.0), at the size of the real set: the pHashes of AI4Mars train.npz (6,000 real pictures, from
../shared/data when present) beside the same number of uniform and synthetic hashes.
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
import tempfile
import time
from pathlib import Path

from results import markdown_table, write_table


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
SOURCES = {"uniform": "uniform random hashes", "scale": "bench_scale's synthetic pictures"}


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


def scale_hashes(n: int, seed: int) -> tuple:
    """(hashes, planted pairs (P, 2), i < j) of bench_scale's N synthetic pictures."""
    import numpy as np
    from bench_scale import synthetic_pairs

    sys.path.insert(0, str(ROOT))
    from curate.scan.phash import phash

    images, _, planted = synthetic_pairs(n, seed)
    hashes = np.concatenate([np.array(phash(images[s:s + 50_000]), dtype=np.uint64)
                             for s in range(0, n, 50_000)])
    return hashes, np.sort(np.concatenate([planted["exact"], planted["near"]]), axis=1)


def real_hashes():
    """pHashes of AI4Mars train.npz's 6,000 real pictures, or None where ../shared is absent."""
    import numpy as np

    path = ROOT.parent / "shared" / "data" / "ai4mars-mars64" / "train.npz"
    if not path.exists():
        return None
    sys.path.insert(0, str(ROOT))
    from curate.scan.phash import phash

    with np.load(path) as data:
        return np.array(phash(data["training_set"][:, 0]), dtype=np.uint64)


def bucket_fill(hashes, bits: int) -> float:
    """Pairs of hashes sharing a bucket of `bits` bits (over every whole chunk of the 64),
    divided by what uniform random hashes give on average: n (n - 1) / 2 / 2^bits a chunk."""
    import numpy as np

    n, chunks, same = len(hashes), 64 // bits, 0.0
    for k in range(chunks):
        key = ((hashes >> np.uint64(k * bits)) & np.uint64((1 << bits) - 1)).astype(np.int64)
        count = np.bincount(key, minlength=1 << bits).astype(np.float64)
        same += (count * (count - 1) / 2).sum()
    return same / chunks / (n * (n - 1) / 2 / 2**bits)


def fill_rows(seed: int, distance: int) -> list[list[str]]:
    """bucket_fill of real, synthetic and uniform hashes of the real set's size, and their
    pairs within the distance (near duplicates share buckets too)."""
    import numpy as np
    from curate.scan.neighbours import near_pairs

    real = real_hashes()
    n = 6000 if real is None else len(real)
    sources = [("AI4Mars train.npz, real pictures", real),
               ("bench_scale synthetic pictures", scale_hashes(n, seed)[0]),
               ("uniform random", planted_hashes(n, 0, 0, seed)[0])]
    rows = []
    for name, hashes in sources:
        if hashes is None:
            rows.append([name, "absent (../shared/data not here)", "", "", "", "", ""])
            continue
        ones = ((hashes[:, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)).mean(axis=0)
        rows.append([name, f"{len(hashes):,}"] + [f"{bucket_fill(hashes, b):.2f}" for b in (8, 12, 16)]
                    + [f"{len(near_pairs(hashes, distance)[0]):,}",
                       f"{int((np.abs(ones - 0.5) > 0.1).sum())} ({int((ones == 1).sum())} always 1)"])
    return rows


def measure_one(n: int, planted: int, distance: int, seed: int, source: str = "uniform") -> dict:
    """Run in the child process: one search, its time, peak RSS and recall."""
    sys.path.insert(0, str(ROOT))
    import numpy as np
    from curate.scan.neighbours import near_pairs, popcount, search_plan

    if source != "uniform":     # a file of scale hashes: drawing the pictures here would set the peak
        with np.load(source) as saved:
            hashes, pairs = saved["hashes"], saved["pairs"]
    else:
        hashes, pairs = planted_hashes(n, planted, distance, seed)
    pairs = pairs[popcount(hashes[pairs[:, 0]] ^ hashes[pairs[:, 1]]) <= distance]
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
    parser.add_argument("--sources", nargs="+", choices=list(SOURCES), default=list(SOURCES),
                        help="the hashes searched: uniform random, or bench_scale's pictures")
    parser.add_argument("--print-only", action="store_true",
                        help="print the table without writing docs/results/near_search.md")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)   # child process: one size
    parser.add_argument("--one-faiss", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--one-source", default="uniform", help=argparse.SUPPRESS)
    parser.add_argument("--save-scale", nargs=2, help=argparse.SUPPRESS)   # child: N, path
    args = parser.parse_args()
    if args.save_scale:
        import numpy as np

        hashes, pairs = scale_hashes(int(args.save_scale[0]), args.seed)
        np.savez(args.save_scale[1], hashes=hashes, pairs=pairs)
        return
    if args.one:
        if args.one_faiss:
            row = measure_faiss(args.one, args.planted, args.distance, args.seed)
        else:
            row = measure_one(args.one, args.planted, args.distance, args.seed, args.one_source)
        print(json.dumps(row))
        return
    print("command:", " ".join([os.path.relpath(sys.executable, ROOT), *sys.argv]))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}; distance <= {args.distance}, {args.planted} planted pairs")
    print(f"{'hashes':>10} {'source':>8} {'seconds':>8} {'peak MB':>8} {'before':>7} {'pairs':>7} "
          f"{'recall':>6}  plan")
    rows, growths = [], []
    engines = ["ours"] + ["faiss"] * args.faiss
    for source in args.sources:
        for n, engine in [(n, e) for n in args.sizes for e in engines if source == "uniform" or e == "ours"]:
            with tempfile.TemporaryDirectory() as scratch:
                given = source
                if source == "scale":     # drawn in a process of their own
                    given = os.path.join(scratch, "hashes.npz")
                    subprocess.run([sys.executable, __file__, "--save-scale", str(n), given,
                                    "--seed", str(args.seed)], check=True)
                child = [sys.executable, __file__, "--one", str(n), "--planted", str(args.planted),
                         "--distance", str(args.distance), "--seed", str(args.seed),
                         "--one-source", given]
                child += ["--one-faiss"] if engine == "faiss" else []
                row = json.loads(subprocess.run(child, check=True, capture_output=True, text=True).stdout)
            print(f"{row['n']:>10,} {source:>8} {row['seconds']:>8.2f} {row['peak_mb']:>8.0f} "
                  f"{row['before_mb']:>7.0f} {row['pairs']:>7,} {row['recall']:>6.3f}  {row['plan']}")
            rows.append((source, engine, row))
        ours = [row for s, engine, row in rows if engine == "ours" and s == source]
        if len(ours) > 1:
            small, large = ours[0], ours[-1]
            ratio = large["n"] / small["n"]
            allowed = ratio * math.log(large["n"]) / math.log(small["n"])
            growths.append(f"- {SOURCES[source]}: {small['n']:,} -> {large['n']:,} hashes "
                           f"({ratio:.0f}x): {large['seconds'] / small['seconds']:.1f}x the time; "
                           f"N log N allows {allowed:.1f}x; {exact_growth(ratio, args.distance)}")
            print(growths[-1])
    fill = fill_rows(args.seed, args.distance)
    fill_header = ["hashes", "how many", "8-bit buckets", "12-bit buckets", "16-bit buckets",
                   f"pairs within distance {args.distance}",
                   "bits with a 1 in under 40 % or over 60 % of hashes"]
    print(markdown_table(fill_header, fill))
    if args.print_only:
        return
    path = write_table(
        "near_search", "The near-duplicate search as the hashes grow",
        ["hashes", "source", "engine", "seconds", "peak RSS MB (before the search)", "pairs found",
         "recall of planted pairs", "plan"],
        [[f"{row['n']:,}", source, engine, f"{row['seconds']:.2f}",
          f"{row['peak_mb']:.0f} ({row['before_mb']:.0f})", f"{row['pairs']:,}",
          f"{row['recall']:.3f}", row["plan"]] for source, engine, row in rows],
        notes=(f"Sources: `uniform`, uniform random 64-bit hashes (seed {args.seed}) with "
               f"{args.planted:,} planted pairs at distance 0..{args.distance}; `scale`, the pHashes "
               f"of benchmarks/bench_scale.py's synthetic pictures (seed {args.seed}), whose planted "
               f"pairs are its 1 % exact and 1 % near copies (recall counts those within the "
               f"distance). Search radius {args.distance}; each size in a fresh process, one thread "
               f"(faiss: its own threads), the median of {REPEATS} searches (faiss: one). Load "
               f"average at the end {os.getloadavg()[0]:.1f}.\n\n" + "\n".join(growths) +
               "\n\nHow full the buckets of the search are, as pairs of hashes sharing a bucket "
               "against what uniform random hashes of the same number give (1.00). Pairs within "
               "the distance share buckets too, which weighs most on the widest buckets; every "
               "pHash has its first bit (the DC term, always above the median of the others) set:\n\n"
               + markdown_table(fill_header, fill)))
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
