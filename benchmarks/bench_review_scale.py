"""`curate review` at scale: build time, peak memory and index.html size of the review folder,
and the time to the first card in headless Chromium; docs/results/review-scale.md.

Reproduce: .venv/bin/python benchmarks/bench_review_scale.py
           [--flags 10000 100000] [--raw ../shared/data/ai4mars-256-raw]

Cases: the 400 raw AI4Mars 256x256 pairs read with --label-map 0:1,1:2,2:3,3:4,255:0
--num-classes 5 and curated by `curate outliers` (real flags: as many as the checks find),
reviewed as one page (the default for so few) and as a folder (--folder). The 457-flag case
of issue 37 (6,000 frames we do not have) by a real-image proxy, raw400+457: the same 400
frames, plus planted copies with known defects (plant_raw, seed 0; each kind draws its
frames without replacement, the kinds independently): 130 exact copies (image and mask
files copied byte for byte), 130 near copies (8 random pixels inverted, saved as PNG), 110
dark copies (gray levels divided by 8, PNG), 86 blank copies (one random gray level,
40..199, PNG), each with its frame's mask; `curate outliers` flags 457 pairs of the 856,
reviewed by default (a folder: its page would be some 12 MB) and as one page
(--single-file). Synthetic curated folders (tests/synthetic_flags.py: 64x64 pictures,
near-duplicate groups, blank, dark, odd images) with --flags flagged pairs each, under
.bench/. Each build runs in a fresh process under /usr/bin/time (wall, peak RSS of the
largest process). The first card: navigation start to the page's first rendered card
(curateReview.firstCardMs), and the wall time from the driver's get() to it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from results import write_table
from timed import CURATE, ROOT, timed

sys.path.insert(0, str(ROOT / "tests"))
BENCH = ROOT / ".bench" / "review-scale"
RAW = ROOT.parent / "shared" / "data" / "ai4mars-256-raw"
RAW_OPTIONS = ["--label-map", "0:1,1:2,2:3,3:4,255:0", "--num-classes", "5"]
PLANT = {"exact": 130, "near": 130, "dark": 110, "blank": 86}   # copies of each kind


def plant_raw(raw: Path, out: Path, counts: dict[str, int], seed: int = 0) -> Path:
    """The raw folder `raw` (images/*.jpg, masks/*.png) copied to `out`, plus counts[kind]
    copies of distinct frames per kind, named <frame>_<kind>, each with its frame's mask:
    'exact' (the files byte for byte), 'near' (8 random pixels inverted), 'dark' (gray
    levels // 8), 'blank' (one gray level in 40..199); the changed images as PNG."""
    rng = np.random.default_rng(seed)
    shutil.rmtree(out, ignore_errors=True)
    (out / "images").mkdir(parents=True)
    (out / "masks").mkdir()
    images = sorted((raw / "images").glob("*.jpg"))
    for image in images:
        shutil.copyfile(image, out / "images" / image.name)
        shutil.copyfile(raw / "masks" / f"{image.stem}.png", out / "masks" / f"{image.stem}.png")
    for kind, n in counts.items():
        for k in sorted(rng.choice(len(images), n, replace=False)):
            source, stem = images[k], f"{images[k].stem}_{kind}"
            shutil.copyfile(raw / "masks" / f"{source.stem}.png", out / "masks" / f"{stem}.png")
            if kind == "exact":
                shutil.copyfile(source, out / "images" / f"{stem}.jpg")
                continue
            with Image.open(source) as picture:
                pixels = np.asarray(picture.convert("L"), dtype=np.int16)
            if kind == "near":
                rows, cols = (rng.integers(0, size, 8) for size in pixels.shape)
                pixels[rows, cols] = 255 - pixels[rows, cols]
            elif kind == "dark":
                pixels = pixels // 8
            elif kind == "blank":
                pixels[:] = int(rng.integers(40, 200))
            Image.fromarray(pixels.astype(np.uint8)).save(out / "images" / f"{stem}.png")
    return out


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
            if time.perf_counter() - start > 120:      # a page that never gets ready
                return float("nan"), float("nan")
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
        planted = BENCH / "raw400+457"
        plant_raw(args.raw, BENCH / "raw400-planted", PLANT)
        shutil.rmtree(planted, ignore_errors=True)
        timed(CURATE + ["outliers", str(BENCH / "raw400-planted"), "-o", str(planted),
                        *RAW_OPTIONS])
        rows.append(review(planted, BENCH / "raw400+457-review"))
        rows.append(review(planted, BENCH / "raw400+457-review.html", "--single-file"))
    else:
        print(f"{args.raw} not found: the real case is skipped")
    for flags in args.flags:
        folder = BENCH / f"synthetic{flags}"
        if not (folder / "reports" / "outliers.csv").is_file():
            shutil.rmtree(folder, ignore_errors=True)
            synthetic_flags(folder, flags)
        rows.append(review(folder, BENCH / f"synthetic{flags}-review", "--folder"))
    header = ["data", "flagged pairs", "layout", "build s", "ms per flagged pair",
              "peak RSS MB", "page / index.html MB", "first card ms (in page)",
              "first card s (from get)", "load (1 min)"]
    synthetic = [r for r in rows if r[0].startswith("synthetic")]
    growth = ""
    if len(synthetic) >= 2:
        (small, large) = synthetic[0], synthetic[-1]
        per_flag = 1000 * (float(large[5]) - float(small[5])) / (large[1] - small[1])
        growth = (f" Peak RSS grows {per_flag:.2f} kB per flagged pair from {small[1]:,} to "
                  f"{large[1]:,} flags.")
        print(growth.strip())
    notes = ("Build: `curate review` in a fresh process (its worker processes included in the "
             "peak RSS of the largest process). The machine is shared: the load column is the "
             "1-minute load average after each row, on a machine with the cores named above. "
             "The real case: `curate outliers` flags 3 of the 400 raw AI4Mars pairs (fewer than "
             "the 457 of 6,000 in issue 37, which used frames we do not have). raw400+457 is "
             "its real-image proxy: the 400 frames plus 130 exact copies, 130 near copies (8 "
             "pixels inverted), 110 dark copies (gray levels / 8) and 86 blank copies (one gray "
             "level) of frames drawn at random (seed 0), each with its frame's mask; `curate "
             "outliers` flags 457 of the 856 pairs (plant_raw in the benchmark). By default "
             "it is a folder, as its page would inline every picture (the --single-file "
             "row)." + growth)
    path = write_table("review-scale", "Review at scale", header, rows, notes=notes)
    print(f"Wrote {path}. Reproduce: .venv/bin/python benchmarks/bench_review_scale.py --flags "
          f"{' '.join(map(str, args.flags))} --raw {args.raw}")


if __name__ == "__main__":
    main()
