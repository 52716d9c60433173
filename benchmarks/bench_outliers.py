"""Detection quality and speed of `curate outliers` on real Mars pairs with planted defects.

Reproduce: .venv/bin/python benchmarks/bench_outliers.py            (cleanvision if installed)
           .venv/bin/python benchmarks/bench_outliers.py --no-cleanvision --repeats 3

What is planted (seeded, --seed) into the 6,000 real pairs of ai4mars-mars64/train.npz:
  exact_dup  ~4%  copies of real pairs (image and mask), appended.
  near_dup   ~4%  copies of real pairs with ONE small change each, appended: brightness
                  +-5..10 levels, Gaussian noise sigma 2, a 1-2 px horizontal shift (mask shifted
                  alike, edge column repeated), or a JPEG re-encode at quality 85 (mask as is).
  alien      ~4%  pictures that are not Mars, from two domains, half each: crops of the 30
                  ISBI-2012 electron-microscopy images (128x256 crops at random places at
                  least 16 px apart, 2x box-downsampled to 64x128) and synthetic textures
                  (gratings, checkerboards, blocky noise, dots; `texture_image`). All carry
                  ONE real detailed mask (a real pair with >= 3 classes, largest class < 60%
                  of labelled pixels), appended.
  alien_region ~4% the same two domains (other crops, other textures), all carrying ONE
                  mask that is mostly ignore class: the pixels of one class of a real mask
                  (covering 20-50% of the frame) kept, every other pixel set to 0. A mask
                  that is all one class among its labelled pixels: the old "simple" rule
                  (one class >= 90% of labelled pixels) let such groups pass.
  blank      12   real pairs whose image is replaced by a constant (6) or near-constant
                  (6, constant + noise sigma 0.4) image, in place.
  blurry     12   real pairs whose image is replaced by its Gaussian blur (sigma 1.5), in place.
Sources of every planted pair are distinct real pairs, so plants do not interact.

Scoring. Each planted kind has one check that should flag it (exact_dup: exact_duplicate,
near_dup: near_duplicate, alien: shared_mask, blank: blank, blurry: blurry). recall = planted
pairs of the kind flagged by its check / planted pairs of the kind. precision = flags of that
check on planted pairs of that kind / all its flags that are not pre-existing. Pre-existing
(reported apart, not false positives): a flag on one of the first 6,000 pairs (original, or
blank/blurry replaced in place) that the same check also raises there on the clean 6,000; for near_duplicate also a flag on an exact_dup copy whose source is
in a near-duplicate group of the clean run (the copy is that real near duplicate again); for
shared_mask also the real pair that gave the aliens its mask (it shares the mask by design).

Speed (median of --repeats runs; the machine may be shared, check `uptime`): library path
(load npz + scan + checks), scan + checks alone (in memory), CLI end to end (`curate outliers
... --dry-run`, process start included), and from a folder of PNGs against the pure decode time
(PIL open + load of every file).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from curate.outliers import OutlierConfig, find_outliers
from curate.readers import ReadOptions, load_dataset, read_dataset

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
KIND_CHECK = {"exact_dup": "exact_duplicate", "near_dup": "near_duplicate",
              "alien": "shared_mask", "alien_region": "shared_mask", "blank": "blank",
              "blurry": "blurry"}
CLEANVISION_PAIRS_PER_S_NOTE = "cleanvision sees images only (no masks)"


# --- planting --------------------------------------------------------------------------------

def plant(pairs: np.ndarray, names: np.ndarray, isbi: list[np.ndarray], seed: int,
          share: float = 0.04, few: int = 12):
    """(pairs, names, kinds, source, donor): the planted (M, 2, H, W) set and its truth.

    kinds[k] is 'original' or a planted kind; source[k] the real pair it came from (-1 for
    aliens); donor the real pairs whose masks the two alien groups carry.
    """
    rng = np.random.default_rng(seed)
    n = len(pairs)
    per_kind = int(round(share * n))
    order = rng.permutation(n)
    exact_src, near_src = order[:per_kind], order[per_kind:2 * per_kind]
    blank_src = order[2 * per_kind:2 * per_kind + few]
    blurry_src = order[2 * per_kind + few:2 * per_kind + 2 * few]
    rest = order[2 * per_kind + 2 * few:]
    donor = _detailed_mask(pairs[:, 1], rest, rng)
    region_donor, region_mask = _region_mask(pairs[:, 1], rest[rest != donor])

    out = pairs.copy()
    kinds = np.array(["original"] * n, dtype=object)
    source = np.arange(n)
    for k, i in enumerate(blank_src):
        level = rng.integers(10, 245)
        noise = rng.normal(0, 0.4, out.shape[2:]) if k % 2 else 0.0
        out[i, 0] = np.clip(level + noise, 0, 255).round().astype(np.uint8)
        kinds[i] = "blank"
    for i in blurry_src:
        out[i, 0] = gaussian_blur(pairs[i, 0], 1.5)
        kinds[i] = "blurry"
    extra = [pairs[exact_src]]
    extra.append(np.stack([near_copy(pairs[i], rng) for i in near_src]))
    crops = alien_images(isbi, per_kind, pairs.shape[2:], rng)     # per_kind distinct crops
    half = per_kind // 2
    textures = [texture_image(rng, pairs.shape[2:]) for _ in range(per_kind)]
    for pictures, mask in ((crops[:half] + textures[:per_kind - half], pairs[donor, 1]),
                           (crops[half:] + textures[per_kind - half:], region_mask)):
        extra.append(np.stack([np.stack([a, mask]) for a in pictures]))
    out = np.concatenate([out] + extra)
    kinds = np.r_[kinds, ["exact_dup"] * per_kind, ["near_dup"] * per_kind,
                  ["alien"] * per_kind, ["alien_region"] * per_kind]
    source = np.r_[source, exact_src, near_src, [-1] * (2 * per_kind)]
    new_names = np.r_[names, [f"plant_exact_{k:04d}" for k in range(per_kind)],
                      [f"plant_near_{k:04d}" for k in range(per_kind)],
                      [f"plant_alien_{k:04d}" for k in range(per_kind)],
                      [f"plant_alien_region_{k:04d}" for k in range(per_kind)]]
    return out, new_names, kinds, source, [donor, region_donor]


def _region_mask(masks: np.ndarray, candidates: np.ndarray) -> tuple[int, np.ndarray]:
    """(pair, mask): one class of a real mask, covering 20-50% of the frame; the rest 0."""
    for i in candidates:
        counts = np.bincount(masks[i].ravel(), minlength=256)
        counts[0] = 0
        k = int(counts.argmax())
        if 0.2 <= counts[k] / masks[i].size <= 0.5:
            return int(i), np.where(masks[i] == k, k, 0).astype(np.uint8)
    raise RuntimeError("no mask with a class covering 20-50% of the frame")


def texture_image(rng, shape: tuple[int, int]) -> np.ndarray:
    """A synthetic texture (grating, checkerboard, blocky noise or dots) with sensor noise."""
    h, w = shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    kind = rng.integers(4)
    if kind == 0:
        angle, cycles = rng.uniform(0, np.pi), rng.uniform(3, 12)
        phase = (x * np.cos(angle) + y * np.sin(angle)) / w * 2 * np.pi * cycles
        pattern = 50 * np.sin(phase + rng.uniform(0, 2 * np.pi))
    elif kind == 1:
        size = int(rng.integers(4, 16))
        pattern = 60 * (((x // size + y // size) % 2) - 0.5)
    elif kind == 2:
        cells = rng.normal(0, 1, (h // 8 + 1, w // 8 + 1))
        pattern = 40 * np.kron(cells, np.ones((8, 8)))[:h, :w]
    else:
        pattern = np.full((h, w), -40.0)
        for _ in range(int(rng.integers(20, 60))):
            cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(2, 6)
            pattern[(y - cy) ** 2 + (x - cx) ** 2 < r * r] = 40
    noise = rng.normal(0, rng.uniform(2, 10), shape)
    return np.clip(rng.uniform(60, 190) + pattern + noise, 0, 255).round().astype(np.uint8)


def _detailed_mask(masks: np.ndarray, candidates: np.ndarray, rng) -> int:
    """A real mask with >= 3 labelled classes whose largest class is < 60% of them."""
    for i in candidates:
        counts = np.bincount(masks[i].ravel(), minlength=256)[1:]
        if (counts > 0).sum() >= 3 and counts.max() < 0.6 * counts.sum():
            return int(i)
    raise RuntimeError("no detailed mask found")


def near_copy(pair: np.ndarray, rng) -> np.ndarray:
    """A copy of a (2, H, W) pair with one small, realistic change."""
    image, mask = pair[0].astype(np.int16), pair[1].copy()
    change = rng.integers(4)
    if change == 0:                                    # brightness +-5..10 levels
        image = image + rng.choice([-1, 1]) * rng.integers(5, 11)
    elif change == 1:                                  # mild sensor noise
        image = image + rng.normal(0, 2.0, image.shape).round().astype(np.int16)
    elif change == 2:                                  # 1-2 px horizontal shift
        s = int(rng.integers(1, 3)) * int(rng.choice([-1, 1]))
        image, mask = _shift(image, s), _shift(mask, s)
    else:                                              # JPEG re-encode
        buf = io.BytesIO()
        Image.fromarray(pair[0]).save(buf, format="JPEG", quality=85)
        image = np.asarray(Image.open(buf), dtype=np.int16)
    return np.stack([np.clip(image, 0, 255).astype(np.uint8), mask])


def _shift(a: np.ndarray, s: int) -> np.ndarray:
    """Shift columns by s (positive: right), repeating the edge column."""
    idx = np.clip(np.arange(a.shape[1]) - s, 0, a.shape[1] - 1)
    return a[:, idx]


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of an (H, W) uint8 image, edges reflected."""
    radius = int(np.ceil(3 * sigma))
    x = np.arange(-radius, radius + 1)
    k = np.exp(-x ** 2 / (2 * sigma ** 2))
    k /= k.sum()
    g = np.pad(image.astype(np.float64), radius, mode="reflect")
    g = np.apply_along_axis(lambda r: np.convolve(r, k, mode="valid"), 1, g)
    g = np.apply_along_axis(lambda c: np.convolve(c, k, mode="valid"), 0, g)
    return np.clip(g.round(), 0, 255).astype(np.uint8)


def alien_images(isbi: list[np.ndarray], count: int, shape: tuple[int, int], rng) -> list:
    """`count` 2x-downsampled crops of the ISBI images, spread over them, >= 16 px apart."""
    h, w = 2 * shape[0], 2 * shape[1]
    taken: dict[int, list] = {}
    out = []
    while len(out) < count:
        k = len(out) % len(isbi)
        src = isbi[k]
        y, x = rng.integers(0, src.shape[0] - h + 1), rng.integers(0, src.shape[1] - w + 1)
        if any(abs(y - a) < 16 and abs(x - b) < 16 for a, b in taken.get(k, [])):
            continue
        taken.setdefault(k, []).append((y, x))
        crop = src[y:y + h, x:x + w].astype(np.float32)
        out.append(crop.reshape(shape[0], 2, shape[1], 2).mean(axis=(1, 3)).round()
                   .astype(np.uint8))
    return out


# --- scoring ---------------------------------------------------------------------------------

def score(table: pd.DataFrame, clean: pd.DataFrame, kinds: np.ndarray, source: np.ndarray,
          donor: list[int]) -> pd.DataFrame:
    n_real = len(clean)
    clean_group = clean["dup_group"].to_numpy() != ""
    rows = []
    for kind, check in KIND_CHECK.items():
        flag = table[f"is_{check}"].to_numpy()
        planted = kinds == kind
        pre = np.zeros(len(table), dtype=bool)
        pre[:n_real] = clean[f"is_{check}"].to_numpy() & (kinds[:n_real] != kind)
        if check == "near_duplicate":
            copies = kinds == "exact_dup"
            pre[copies] = clean_group[source[copies]]
        if check == "shared_mask":
            pre[donor] = True
        if check == "shared_mask":            # the other alien group is not a false positive
            pre |= kinds == ("alien_region" if kind == "alien" else "alien")
        tp = int((flag & planted).sum())
        fp_rows = flag & ~planted & ~pre
        rows.append({
            "kind": kind, "check": check, "planted": int(planted.sum()), "found": tp,
            "recall": tp / max(planted.sum(), 1),
            "precision": tp / max(tp + fp_rows.sum(), 1),
            "false_pos": int(fp_rows.sum()), "pre_existing": int((flag & pre).sum()),
            "false_pos_ids": " ".join(table["id"].to_numpy()[fp_rows][:4]),
        })
    return pd.DataFrame(rows)


# --- timing ----------------------------------------------------------------------------------

def timed(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def write_folder(pairs: np.ndarray, names: np.ndarray, folder: Path) -> None:
    (folder / "images").mkdir(parents=True)
    (folder / "masks").mkdir()
    for (image, mask), name in zip(pairs, names):
        Image.fromarray(image).save(folder / "images" / f"{name}.png")
        Image.fromarray(mask).save(folder / "masks" / f"{name}.png")


def decode_all(folder: Path) -> int:
    count = 0
    for sub in ("images", "masks"):
        for f in sorted((folder / sub).iterdir()):
            with Image.open(f) as img:
                img.load()
            count += 1
    return count


def run_cleanvision(folder: Path) -> tuple[float | None, str]:
    os.environ["TQDM_DISABLE"] = "1"        # its progress bars ignore verbose=False
    try:
        from cleanvision import Imagelab
    except ImportError as exc:
        return None, f"not installed ({exc}); pip install 'curate-segment[bench]'"
    try:
        t = time.perf_counter()
        lab = Imagelab(data_path=str(folder / "images"), verbose=False)
        lab.find_issues(verbose=False)
        elapsed = time.perf_counter() - t
        found = {c[3:-6]: int(lab.issues[c].sum()) for c in lab.issues.columns
                 if c.startswith("is_") and c.endswith("_issue")}
        return elapsed, f"issues found: {found}"
    except Exception as exc:  # an optional extra: report and go on
        return None, f"failed: {type(exc).__name__}: {exc}"


# --- main ------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA / "ai4mars-mars64" / "train.npz")
    parser.add_argument("--isbi", type=Path, default=DATA / "isbi2012-membrane" / "images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-cleanvision", action="store_true")
    parser.add_argument("--no-speed", action="store_true", help="Detection only.")
    args = parser.parse_args()

    with np.load(args.data) as d:
        real, names = d["training_set"], d["names"]
    isbi = [np.asarray(Image.open(f).convert("L")) for f in sorted(args.isbi.glob("*.png"))]
    pairs, all_names, kinds, source, donor = plant(real, names, isbi, args.seed)
    n = len(pairs)
    print(f"{platform.node()}: {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}; python {platform.python_version()}")
    print(f"{len(real)} real pairs + plants = {n} pairs (seed {args.seed}); counts: "
          f"{pd.Series(kinds).value_counts().to_dict()}")

    options = ReadOptions(num_classes=5)
    clean = find_outliers(load_dataset(args.data, options), OutlierConfig()).dataset.manifest
    print("\nFlags on the clean real data (every one counts as a false positive of a real "
          "pair unless reviewed):")
    print("  " + ", ".join(f"{c[3:]} {int(clean[c].sum())}" for c in clean.columns
                           if c.startswith("is_")))

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        npz = tmp / "planted.npz"
        np.savez_compressed(npz, training_set=pairs, names=all_names)
        result = find_outliers(load_dataset(npz, options), OutlierConfig())
        table, counts = result.dataset.manifest, result.summary["flagged_by_check"]
        print("\nDetection (rules for 'pre-existing' in the module docstring):")
        print(score(table, clean, kinds, source, donor).to_string(
            index=False, float_format=lambda v: f"{v:.3f}"))
        print("  other checks on the planted set: " + ", ".join(
            f"{k} {v}" for k, v in counts.items() if k not in KIND_CHECK.values()))

        if args.no_speed:
            return
        print(f"\nSpeed on {n} pairs of 64x128 (median of {args.repeats}):")
        t_lib, _ = timed(lambda: find_outliers(load_dataset(npz, options), OutlierConfig()),
                         args.repeats)
        dataset = read_dataset(npz, options)      # no manifest yet: find_outliers scans
        t_mem, _ = timed(lambda: find_outliers(dataset, OutlierConfig()), args.repeats)
        cli = [str(Path(sys.executable).parent / "curate"), "outliers", str(npz),
               "--num-classes", "5", "--dry-run"]
        t_cli, _ = timed(lambda: subprocess.run(cli, check=True, capture_output=True),
                         args.repeats)
        folder = tmp / "folder"
        write_folder(pairs, all_names, folder)
        t_decode, _ = timed(lambda: decode_all(folder), args.repeats)
        t_folder, _ = timed(lambda: find_outliers(load_dataset(folder, options),
                                                  OutlierConfig()), args.repeats)
        lines = [("scan + checks, in memory", t_mem), ("library: load npz + scan + checks", t_lib),
                 ("CLI end to end from npz (--dry-run)", t_cli),
                 ("pure decode of the PNG folder (PIL)", t_decode),
                 ("library: load PNG folder + scan + checks", t_folder)]
        for label, t in lines:
            print(f"  {label:42s} {t:7.3f} s  {n / t:9,.0f} pairs/s")
        print(f"  folder path / pure decode: {t_folder / t_decode:.2f}x")

        if not args.no_cleanvision:
            t_cv, note = run_cleanvision(folder)
            if t_cv is None:
                print(f"  cleanvision 0.3.7: {note}")
            else:
                print(f"  {'cleanvision 0.3.7 (PNG folder, one run)':42s} {t_cv:7.3f} s  "
                      f"{n / t_cv:9,.0f} pairs/s; {note}")
                print(f"  ratio ours/cleanvision: npz library {t_cv / t_lib:.0f}x, in memory "
                      f"{t_cv / t_mem:.0f}x, CLI {t_cv / t_cli:.0f}x, PNG folder "
                      f"{t_cv / t_folder:.0f}x")
    print(f"\nReproduce: {Path(sys.executable).relative_to(ROOT) if ROOT in Path(sys.executable).parents else sys.executable} "
          f"benchmarks/bench_outliers.py --seed {args.seed} --repeats {args.repeats}"
          + (" --no-cleanvision" if args.no_cleanvision else ""))


if __name__ == "__main__":
    main()
