"""Size and speed of the `curate review` page, and its round trip, on 6,000 real Mars pairs.

Reproduce: .venv/bin/python benchmarks/bench_review.py            (needs chromium, chromedriver
           and selenium for the browser figures; prints the others without them)

Planted (seeded, --seed) into ai4mars-mars64/train.npz: --copies exact copies and --copies
copies 8 gray levels brighter (appended), --copies blank images and --copies masks set all to
the ignore class (in place), on distinct real pairs. Printed: pairs and flags, the time of
`curate outliers` and of `curate review` (fresh processes), the page's size, and in headless
Chromium the page's load time (navigation start to the script's first render), the time one
decision takes to redraw (median of 20 key presses), and the round trip: decisions made on the
page, exported, applied with `curate outliers --decisions`, and the kept set checked. The review
at 10,000 and 100,000 flagged pairs (a review folder) is bench_review_scale.py.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from timed import CURATE, ROOT, timed

sys.path.insert(0, str(ROOT / "tests"))
DATA = ROOT.parent / "shared" / "data" / "ai4mars-mars64" / "train.npz"


def plant(pairs: np.ndarray, names: list[str], copies: int, seed: int):
    """(pairs, names) with the planted copies appended and blank / unlabelled pairs in place."""
    rng = np.random.default_rng(seed)
    labelled = np.flatnonzero(pairs[:, 1].reshape(len(pairs), -1).any(1))
    exact, near, blank, unlabelled = rng.choice(labelled, (4, copies), replace=False)
    out = pairs.copy()
    out[blank, 0] = out[blank, 0].mean(axis=(1, 2), keepdims=True).round().astype(np.uint8)
    out[unlabelled, 1] = 0
    brighter = np.clip(pairs[near, 0].astype(np.int16) + 8, 0, 255).astype(np.uint8)
    extra = np.concatenate([pairs[exact], np.stack([brighter, pairs[near, 1]], axis=1)])
    ids = names + [f"copy_{k}" for k in range(copies)] + [f"near_{k}" for k in range(copies)]
    return np.concatenate([out, extra]), ids


def load_in_browser(page: Path, profile: Path, presses: int = 20) -> dict:
    """Seconds from navigation start to the first render, and per key press redraw."""
    from selenium.webdriver.common.by import By
    from selenium_chrome import chrome

    driver = chrome(profile)
    try:
        start = time.perf_counter()
        driver.get(page.as_uri())
        while not driver.execute_script("return !!(window.curateReview && curateReview.ready)"):
            time.sleep(0.02)
        wall = time.perf_counter() - start
        ready = driver.execute_script(
            "return performance.now()")  # ms since navigation start, after the first render
        body = driver.find_element(By.TAG_NAME, "body")
        times = []
        for k in range(presses):
            t = driver.execute_script(
                "const t = performance.now();"
                "document.dispatchEvent(new KeyboardEvent('keydown', {key: arguments[0]}));"
                "return performance.now() - t;", "x" if k % 2 else "a")
            times.append(t)
        body.send_keys("u")
        return {"load_s": wall, "js_ready_ms": ready, "key_ms": statistics.median(times),
                "cards": len(driver.find_elements(By.CSS_SELECTOR, ".card"))}
    finally:
        driver.quit()


def round_trip(page: Path, profile: Path, downloads: Path, decide: int) -> tuple[dict, Path]:
    """Decide the first `decide` cards alternately keep / remove, export; {id: decision}."""
    from selenium.webdriver.common.by import By
    from selenium_chrome import chrome

    driver = chrome(profile, downloads)
    try:
        driver.get(page.as_uri())
        while not driver.execute_script("return !!(window.curateReview && curateReview.ready)"):
            time.sleep(0.02)
        body = driver.find_element(By.TAG_NAME, "body")
        for k in range(decide):
            body.send_keys("a" if k % 2 == 0 else "x")
        decided = {k: v["decision"] for k, v in
                   driver.execute_script("return curateReview.decisions()").items()}
        driver.find_element(By.ID, "export").click()
        end = time.monotonic() + 10
        while not list(downloads.glob("decisions*.csv")) and time.monotonic() < end:
            time.sleep(0.1)
        return decided, next(downloads.glob("decisions*.csv"))
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--copies", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"{args.data} not found (see ../shared/data/README.md)")
    with np.load(args.data) as npz:
        pairs, names = npz["training_set"], [str(n) for n in npz["names"]]
    pairs, ids = plant(pairs, names, args.copies, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        np.savez(tmp / "planted.npz", training_set=pairs, names=np.array(ids))
        out, page = tmp / "out", tmp / "review.html"
        wall, rss, _ = timed(CURATE + ["outliers", str(tmp / "planted.npz"), "-o", str(out),
                                       "--num-classes", "5"])
        flagged = pd.read_csv(out / "reports" / "outliers.csv", dtype={"id": str})
        print(f"pairs {len(ids)}, flagged {len(flagged)} ({int(flagged['removed'].sum())} "
              f"removed by default); curate outliers {wall:.1f} s, {rss:.0f} MB")
        wall, rss, _ = timed(CURATE + ["review", str(out), "-o", str(page)])
        print(f"curate review: {wall:.1f} s, {rss:.0f} MB; page {page.stat().st_size / 1e6:.2f} MB")
        from selenium_chrome import missing
        if missing():
            print(f"browser figures skipped: {missing()}")
            return
        figures = load_in_browser(page, tmp / "p1")
        print(f"page in headless Chromium: loaded in {figures['load_s']:.2f} s (script ready "
              f"{figures['js_ready_ms']:.0f} ms after navigation start), {figures['cards']} "
              f"cards rendered, one decision redraws in {figures['key_ms']:.1f} ms (median)")
        downloads = tmp / "downloads"
        downloads.mkdir()
        decided, exported = round_trip(page, tmp / "p2", downloads, 10)
        timed(CURATE + ["outliers", str(tmp / "planted.npz"), "-o", str(tmp / "decided"),
                        "--num-classes", "5", "--decisions", str(exported)])
        before = set(pd.read_csv(out / "manifest.csv", dtype={"id": str})["id"])
        after = set(pd.read_csv(tmp / "decided" / "manifest.csv", dtype={"id": str})["id"])
        want = (before - {k for k, v in decided.items() if v == "remove"}) | {
            k for k, v in decided.items() if v == "keep"}
        print(f"round trip: {len(decided)} decisions exported and applied; kept set "
              f"{'as decided' if after == want else 'WRONG'} ({len(before)} -> {len(after)} pairs)")


if __name__ == "__main__":
    main()
