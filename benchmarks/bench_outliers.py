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
  alien_distinct ~4% a third each: ISBI crops, textures and street-like scenes
                  (`scene_image`), each carrying the mask of a DISTINCT real pair (not
                  shared: only odd_image can find them), appended.
  blank      12   real pairs whose image is replaced by a constant (6) or near-constant
                  (6, constant + noise sigma 0.4) image, in place.
  blurry     12   real pairs whose image is replaced by its Gaussian blur (sigma 1.5), in place.
Sources of every planted pair are distinct real pairs, so plants do not interact.

Scoring. Each planted kind has a check that should flag it (exact_dup: exact_duplicate,
near_dup: near_duplicate, alien and alien_region: shared_mask and odd_image, alien_distinct:
odd_image, blank: blank, blurry: blurry). For odd_image every flag on a real pair counts as a
false positive (no pre-existing rule); "all aliens" pools the three alien kinds. A separate
run plants 12 lone aliens (each under its own mask) among the real pairs. recall = planted
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

from curate.checks.outliers import OutlierConfig, find_outliers
from curate.data.readers import ReadOptions, load_dataset, read_dataset

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
KIND_CHECK = [("exact_dup", "exact_duplicate"), ("near_dup", "near_duplicate"),
              ("alien", "shared_mask"), ("alien_region", "shared_mask"), ("blank", "blank"),
              ("blurry", "blurry"), ("alien", "odd_image"), ("alien_region", "odd_image"),
              ("alien_distinct", "odd_image")]
ALIENS = ("alien", "alien_region", "alien_distinct")
CLEANVISION_PAIRS_PER_S_NOTE = "cleanvision sees images only (no masks)"


# --- planting --------------------------------------------------------------------------------

def plant(pairs: np.ndarray, names: np.ndarray, isbi: list[np.ndarray], seed: int,
          share: float = 0.04, few: int = 12):
    """(pairs, names, kinds, source, donor, domain): the planted (M, 2, H, W) set and its truth.

    kinds[k] is 'original' or a planted kind; source[k] the real pair it came from (-1 for
    aliens); donor the real pairs whose masks the two alien groups carry; domain[k] the
    picture's domain for aliens ('isbi', 'texture', 'scene'), else ''.
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
    # (c) each alien under a mask of its own: the masks of distinct other real pairs
    pictures, domains = distinct_aliens(isbi, per_kind, pairs.shape[2:], rng)
    owners = rest[(rest != donor) & (rest != region_donor)][:per_kind]
    extra.append(np.stack([np.stack([a, pairs[i, 1]]) for a, i in zip(pictures, owners)]))
    out = np.concatenate([out] + extra)
    kinds = np.r_[kinds, ["exact_dup"] * per_kind, ["near_dup"] * per_kind,
                  ["alien"] * per_kind, ["alien_region"] * per_kind,
                  ["alien_distinct"] * per_kind]
    source = np.r_[source, exact_src, near_src, [-1] * (3 * per_kind)]
    new_names = np.r_[names, [f"plant_exact_{k:04d}" for k in range(per_kind)],
                      [f"plant_near_{k:04d}" for k in range(per_kind)],
                      [f"plant_alien_{k:04d}" for k in range(per_kind)],
                      [f"plant_alien_region_{k:04d}" for k in range(per_kind)],
                      [f"plant_alien_distinct_{k:04d}" for k in range(per_kind)]]
    domain = np.r_[[""] * (n + 2 * per_kind),
                   (["isbi"] * half + ["texture"] * (per_kind - half)) * 2, domains]
    return out, new_names, kinds, source, [donor, region_donor], domain


def distinct_aliens(isbi: list[np.ndarray], count: int, shape: tuple[int, int], rng):
    """(pictures, domains) for variant (c): ISBI crops, textures and street-like scenes,
    a third each, in turn."""
    crops = iter(alien_images(isbi, (count + 2) // 3, shape, rng))
    pictures, domains = [], []
    for k in range(count):
        domain = ("isbi", "texture", "scene")[k % 3]
        pictures.append(next(crops) if domain == "isbi" else texture_image(rng, shape)
                        if domain == "texture" else scene_image(rng, shape))
        domains.append(domain)
    return pictures, domains


def scene_image(rng, shape: tuple[int, int]) -> np.ndarray:
    """A synthetic street-like picture: bright sky, a row of boxy buildings with window
    grids, a darker road with a dashed centre line, mild noise."""
    h, w = shape
    y, x = np.mgrid[0:h, 0:w]
    horizon = int(rng.uniform(0.4, 0.65) * h)
    picture = np.where(y < horizon, 210 - 50 * y / h, 80 + 40 * (y - horizon) / h)
    for _ in range(int(rng.integers(3, 8))):
        left, width = int(rng.integers(0, w - 8)), int(rng.integers(8, w // 4))
        top, shade = int(rng.integers(2, horizon - 4)), rng.uniform(50, 170)
        picture[top:horizon, left:left + width] = shade
        cell = int(rng.integers(3, 6))
        windows = ((y // cell) % 2 == 0) & ((x // cell) % 2 == 0) & (y > top + 1) & \
            (y < horizon - 2) & (x > left) & (x < left + width - 1)
        picture[windows] = shade + rng.choice([-40.0, 50.0])
    slope = rng.uniform(-0.8, 0.8)
    dashes = (np.abs(x - w / 2 - (y - horizon) * slope) < 1.5) & (y > horizon) & \
        ((y // 4) % 2 == 0)
    picture[dashes] = 235
    noise = rng.normal(0, 3, shape)
    return np.clip(picture + noise, 0, 255).round().astype(np.uint8)


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
    for kind, check in KIND_CHECK + [("all aliens", "odd_image")]:
        flag = table[f"is_{check}"].to_numpy()
        planted = np.isin(kinds, ALIENS) if kind == "all aliens" else kinds == kind
        pre = np.zeros(len(table), dtype=bool)
        if check != "odd_image":  # odd_image: every flag on a real pair is a false positive
            pre[:n_real] = clean[f"is_{check}"].to_numpy() & (kinds[:n_real] != kind)
        if check == "near_duplicate":
            copies = kinds == "exact_dup"
            pre[copies] = clean_group[source[copies]]
        if check == "shared_mask":
            pre[donor] = True
        if kind in ALIENS:                    # the other alien groups are not false positives
            pre |= np.isin(kinds, ALIENS) & (kinds != kind)
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


def lone_aliens(real: np.ndarray, names: np.ndarray, isbi: list[np.ndarray], seed: int,
                options: ReadOptions, tmp: Path, count: int = 12) -> str:
    """A separate run: the real pairs plus only `count` aliens (ISBI, texture, scene in turn),
    each under the mask of a distinct real pair: lone pictures, not a group."""
    rng = np.random.default_rng(seed + 1)
    pictures, domains = distinct_aliens(isbi, count, real.shape[2:], rng)
    owners = rng.choice(len(real), count, replace=False)
    pairs = np.concatenate([real, np.stack([np.stack([a, real[i, 1]])
                                            for a, i in zip(pictures, owners)])])
    npz = tmp / "lone.npz"
    np.savez_compressed(npz, training_set=pairs, names=np.r_[
        names, [f"lone_alien_{k:02d}" for k in range(count)]])
    table = find_outliers(load_dataset(npz, options), OutlierConfig()).dataset.manifest
    flag = table["is_odd_image"].to_numpy()
    alien, domain = flag[len(real):], np.array(domains)
    per = ", ".join(f"{d} {alien[domain == d].sum()}/{(domain == d).sum()}"
                    for d in ("isbi", "texture", "scene"))
    return (f"\nLone aliens (separate run: {len(real)} real pairs + {count} aliens, each under "
            f"its own real mask): odd_image found {per}; flags on real pairs "
            f"{int(flag[:len(real)].sum())}")


def recall_by_domain(table: pd.DataFrame, kinds: np.ndarray, domain: np.ndarray) -> str:
    """odd_image recall per alien kind and picture domain, as one line per kind."""
    flag = table["is_odd_image"].to_numpy()
    lines = []
    for kind in ALIENS:
        parts = [f"{d} {flag[(kinds == kind) & (domain == d)].mean():.2f}"
                 for d in ("isbi", "texture", "scene") if ((kinds == kind) & (domain == d)).any()]
        lines.append(f"  odd_image recall by domain, {kind}: " + ", ".join(parts))
    return "\n".join(lines)


def cleanvision_detection(pairs: np.ndarray, names: np.ndarray, kinds: np.ndarray,
                          folder: Path) -> str:
    """cleanvision 0.3.7 on the planted images: which of its issues fire on the aliens, and
    how often on the real pairs (it has no domain check; this shows what a user gets)."""
    os.environ["TQDM_DISABLE"] = "1"
    try:
        from cleanvision import Imagelab
    except ImportError as exc:
        return f"cleanvision: not installed ({exc}); pip install -e '.[bench]'"
    (folder / "images").mkdir(parents=True, exist_ok=True)
    for image, name in zip(pairs[:, 0], names):
        Image.fromarray(image).save(folder / "images" / f"{name}.png")
    lab = Imagelab(data_path=str(folder / "images"), verbose=False)
    lab.find_issues(verbose=False)
    issues = lab.issues
    stems = [Path(p).stem for p in issues.index]
    order = pd.Series(range(len(stems)), index=stems).reindex(names).to_numpy()
    columns = [c for c in issues.columns if c.startswith("is_") and c.endswith("_issue")]
    flags = issues[columns].to_numpy()[order]
    lines = ["cleanvision 0.3.7 on the same images (no masks; any issue but grayscale, which "
             "every image here has, counts as a flag):"]
    counted = np.array([c != "is_grayscale_issue" for c in columns])
    for kind in (*ALIENS, "original"):
        rows = kinds == kind
        anyflag = flags[rows][:, counted].any(axis=1)
        per = {c[3:-6]: int(flags[rows, j].sum()) for j, c in enumerate(columns)
               if flags[rows, j].any()}
        lines.append(f"  {kind:15s} {rows.sum():5d} pairs, flagged {anyflag.mean():.3f}: {per}")
    alien = np.isin(kinds, ALIENS)
    anyflag = flags[:, counted].any(axis=1)
    lines.append(f"  any issue as an alien detector: recall {anyflag[alien].mean():.3f}, "
                 f"precision {(anyflag & alien).sum() / max(anyflag.sum(), 1):.3f}")
    return "\n".join(lines)


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
    pairs, all_names, kinds, source, donor, domain = plant(real, names, isbi, args.seed)
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
    odd = clean[clean["is_odd_image"]].sort_values("odd_image_score", ascending=False)
    print(f"  odd_image (review only) on the clean pool: {len(odd)} pairs; highest: "
          + ", ".join(f"{i} (z {z:.1f})" for i, z in zip(odd["id"][:5], odd["odd_image_score"])))

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        npz = tmp / "planted.npz"
        np.savez_compressed(npz, training_set=pairs, names=all_names)
        result = find_outliers(load_dataset(npz, options), OutlierConfig())
        table, counts = result.dataset.manifest, result.summary["flagged_by_check"]
        print("\nDetection (rules for 'pre-existing' in the module docstring):")
        print(score(table, clean, kinds, source, donor).to_string(
            index=False, float_format=lambda v: f"{v:.3f}"))
        print(recall_by_domain(table, kinds, domain))
        checks = {c for _, c in KIND_CHECK}
        print("  other checks on the planted set: " + ", ".join(
            f"{k} {v}" for k, v in counts.items() if k not in checks))
        if not args.no_cleanvision:
            print(cleanvision_detection(pairs, all_names, kinds, tmp / "cv"))

        print(lone_aliens(real, names, isbi, args.seed, options, tmp))

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
