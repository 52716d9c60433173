"""`curate review` at scale: build time, peak memory and index.html size of the review folder,
and the time to the first card in headless Chromium; docs/results/review-scale.md.

Reproduce: .venv/bin/python benchmarks/bench_review_scale.py
           [--flags 10000 100000] [--raw ../shared/data/ai4mars-256-raw]

Cases: the 400 raw AI4Mars 256x256 pairs read with --label-map 0:1,1:2,2:3,3:4,255:0
--num-classes 5 and curated by `curate outliers` (real flags: as many as the checks find),
reviewed as one page (the default below 1,000 flags) and as a folder (--folder); and
synthetic curated folders (tests/synthetic_flags.py: 64x64 pictures, near-duplicate groups,
blank, dark, odd images) with --flags flagged pairs each, under .bench/. Each build runs in a
fresh process under /usr/bin/time (wall, peak RSS of the largest process). The first card:
navigation start to the page's first rendered card (curateReview.firstCardMs), and the wall
time from the driver's get() to it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import pandas as pd

from results import write_table
from timed import CURATE, ROOT, timed

sys.path.insert(0, str(ROOT / "tests"))
BENCH = ROOT / ".bench" / "review-scale"
RAW = ROOT.parent / "shared" / "data" / "ai4mars-256-raw"
RAW_OPTIONS = ["--label-map", "0:1,1:2,2:3,3:4,255:0", "--num-classes", "5"]


def first_card(page: Path, profile: Path) -> tuple[float, float]:
    """(ms from navigation start to the first card, wall s from get() to it)."""
    from selenium_chrome import chrome, missing

    if missing():
        return float("nan"), float("nan")
    shutil.rmtree(profile, ignore_errors=True)
    driver = chrome(profile)
    try:
        start = time.perf_counter()
        driver.get(page.as_uri())
        while not driver.execute_script("return !!(window.curateReview && curateReview.ready)"):
            time.sleep(0.02)
        return driver.execute_script("return curateReview.firstCardMs"), \
            time.perf_counter() - start
    finally:
        driver.quit()


def review(folder: Path, out: Path, *extra: str) -> list:
    """One row: flags, cards, layout, build s, ms per flag, peak MB, page MB, first card."""
    shutil.rmtree(out, ignore_errors=True)
    out.unlink(missing_ok=True) if out.is_file() else None
    wall, rss, _ = timed(CURATE + ["review", str(folder), "-o", str(out), *extra])
    flags = len(pd.read_csv(folder / "reports" / "outliers.csv", usecols=["id"]))
    page = out if out.is_file() else out / "index.html"
    ms, seconds = first_card(page, BENCH / "profile")
    layout = "one page" if out.is_file() else "folder"
    print(f"{folder.name}: {flags} flags, {layout}: {wall:.1f} s ({1000 * wall / flags:.2f} ms "
          f"per flag), {rss:.0f} MB, {page.name} {page.stat().st_size / 1e6:.3f} MB, first card "
          f"{ms:.0f} ms ({seconds:.2f} s from get); load {os.getloadavg()[0]:.1f}", flush=True)
    return [folder.name, flags, layout, f"{wall:.1f}", f"{1000 * wall / flags:.2f}",
            f"{rss:.0f}", f"{page.stat().st_size / 1e6:.3f}", f"{ms:.0f}", f"{seconds:.2f}",
            f"{os.getloadavg()[0]:.1f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flags", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--raw", type=Path, default=RAW)
    args = parser.parse_args()
    from synthetic_flags import synthetic_flags

    BENCH.mkdir(parents=True, exist_ok=True)
    rows = []
    if args.raw.is_dir():
        curated = BENCH / "raw400"
        shutil.rmtree(curated, ignore_errors=True)
        timed(CURATE + ["outliers", str(args.raw), "-o", str(curated), *RAW_OPTIONS])
        rows.append(review(curated, BENCH / "raw400-review.html"))
        rows.append(review(curated, BENCH / "raw400-review", "--folder"))
    else:
        print(f"{args.raw} not found: the real case is skipped")
    for flags in args.flags:
        folder = BENCH / f"synthetic{flags}"
        if not (folder / "reports" / "outliers.csv").is_file():
            shutil.rmtree(folder, ignore_errors=True)
            synthetic_flags(folder, flags)
        rows.append(review(folder, BENCH / f"synthetic{flags}-review"))
    header = ["data", "flagged pairs", "layout", "build s", "ms per flagged pair",
              "peak RSS MB", "page / index.html MB", "first card ms (in page)",
              "first card s (from get)", "load (1 min)"]
    notes = ("Build: `curate review` in a fresh process (its worker processes included in the "
             "peak RSS of the largest process). The machine is shared: the load column is the "
             "1-minute load average after each row, on a machine with the cores named above. "
             "The real case: `curate outliers` flags 3 of the 400 raw AI4Mars pairs (fewer than "
             "the 457 of 6,000 in issue 37, which used frames we do not have).")
    write_table("review-scale", "Review at scale", header, rows, notes=notes)


if __name__ == "__main__":
    main()
