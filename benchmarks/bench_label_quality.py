"""Benchmark `segment crossval`'s label-quality ranking on real AI4Mars pairs with planted
mask corruptions.

Run: .venv/bin/python benchmarks/bench_label_quality.py [--pairs 1200] [--folds 3] [--epochs 6]
     [--width 8] [--share 0.05] [--seed 0] [--threads 2]
Takes --pairs real pairs of train.npz (seed), splits them with `curate split` (80/10/10),
corrupts --share of the train masks in four ways (a region's class swapped, one class grown
into its neighbour by 3-6 px = erosion of the neighbour, the mask shifted by 4-8 px, a
labelled object painted over with its surrounding class), runs `segment crossval`, and prints
per kind the share of corrupted masks ranked in the top 2 x (number corrupted) by score, plus
recall and precision of the default label_issue flag of `curate outliers` (edit_probability >=
0.5 where the table learned one, else low_share >= 0.1). Wall time included.

Score with any trained model, no crossval (its val and test pairs were never trained on, so
its probabilities there are held out exactly as out-of-fold ones are):
     .venv/bin/python benchmarks/bench_label_quality.py --held-out RUN/best.pt DATASET [--replant 6]
plants --replant N fresh corruptions (seeds 1..N, --share each) into the clean val + test masks
of DATASET and ranks them with the checkpoint's probabilities: a fast way to see how the
ranking behaves with a stronger model than a K-fold CPU crossval affords. With --unseen it
plants two kinds instead that segment/label_quality/mask_edits.py never makes, so the learned score was not
taught them: class_confusion (two classes trade places all over the mask) and coarse_outline
(the mask redrawn on an 8x coarser grid). --kinds new plants five more kinds invented from
how masks go wrong in practice (pairing_offset: another image's mask; region_confusion: a class
confused in one region only; hurried_outline: outlines smoothed by a 21-31 px majority;
objects_unlabelled: one class's objects left out; resized_badly: a mask scaled 1.1-1.3x and
cropped).
--leave-one-kind-out plants each own kind alone, learning from every edit but the one that
teaches it. --write puts the table into docs/results/label-quality-<kinds>.md (own, new,
unseen or leave-one-kind-out), with the date, machine, commit and command. Every table has a
column by cleanlab's softmin (segment/label_quality/evidence.py::softmin, the documented
formula, on the same probabilities; cleanlab is not needed).

Rescore a kept run without training (the folder of --keep: data/, cv/, planted.csv, pairs.npz):
     .venv/bin/python benchmarks/bench_label_quality.py --rescore DIR [--replant 4]
--replant N adds N held-out plantings: each seed corrupts a fresh 5 % of the original (clean)
train masks after the fact and scores them against the same out-of-fold probabilities. That is
exact, not an approximation: a pair's probabilities come from the model that never saw its mask.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from scipy import ndimage

from results import markdown_table, write_table

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ai4mars-mars64" / "train.npz"
KINDS = ("class_swap", "erode_dilate", "shift", "object_deleted")
IGNORE = 0
LABELS = (1, 2, 3, 4)


def _labelled_classes(mask: np.ndarray) -> list[int]:
    counts = np.bincount(mask.reshape(-1), minlength=5)
    return [c for c in LABELS if counts[c] >= 0.05 * mask.size]


def class_swap(mask, rng):
    """The largest connected region of a labelled class takes another labelled class."""
    best, size, cls = None, 0, 0
    for c in _labelled_classes(mask):
        regions, n = ndimage.label(mask == c)
        if n:
            sizes = np.bincount(regions.reshape(-1))[1:]
            if sizes.max() > size:
                best, size, cls = regions == sizes.argmax() + 1, sizes.max(), c
    if best is None or size < 0.15 * mask.size:
        return None
    out = mask.copy()
    out[best] = rng.choice([c for c in (1, 2, 3) if c != cls])
    return out


def erode_dilate(mask, rng):
    """One of the two largest labelled classes grows 3-6 px into the other (the other erodes)."""
    classes = sorted(_labelled_classes(mask), key=lambda c: -(mask == c).sum())[:2]
    if len(classes) < 2:
        return None
    grow, shrink = rng.permutation(classes)
    radius = int(rng.integers(3, 7))
    grown = ndimage.binary_dilation(mask == grow, np.ones((3, 3), bool), iterations=radius)
    out = mask.copy()
    out[grown & (mask == shrink)] = grow
    changed = (out != mask).mean()
    return out if changed >= 0.02 else None


def shift(mask, rng):
    """The whole mask moves 4-8 px in a random direction; uncovered pixels become unlabelled."""
    if len(_labelled_classes(mask)) < 2:
        return None
    dy, dx = (int(v) * int(rng.choice([-1, 1])) for v in rng.integers(4, 9, size=2))
    out = np.full_like(mask, IGNORE)
    h, w = mask.shape
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        mask[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    labelled = (mask != IGNORE) & (out != IGNORE)
    return out if (out != mask)[labelled].mean() >= 0.02 else None


def object_deleted(mask, rng):
    """A labelled object (a region of 1-30 % of the image) is painted with its surroundings."""
    candidates = []
    for c in LABELS:
        regions, n = ndimage.label(mask == c)
        for r in range(1, n + 1):
            region = regions == r
            if 0.01 * mask.size <= region.sum() <= 0.3 * mask.size:
                candidates.append(region)
    rng.shuffle(candidates)
    for region in candidates:
        ring = ndimage.binary_dilation(region, iterations=2) & ~region
        around = mask[ring]
        around = around[(around != IGNORE)]
        if around.size >= 10:
            out = mask.copy()
            out[region] = np.bincount(around).argmax()
            if (out != mask).any():
                return out
    return None


def class_confusion(mask, rng):
    """Two labelled classes of the mask trade places everywhere (a labeller who mixed up two
    class names). Not one of segment/label_quality/mask_edits.py's edits: an unseen kind (--unseen)."""
    present = _labelled_classes(mask)
    if len(present) < 2:
        return None
    a, b = rng.choice(present, size=2, replace=False)
    out = mask.copy()
    out[mask == a], out[mask == b] = b, a
    return out


def coarse_outline(mask, rng):
    """The mask as if drawn on a grid 8x coarser (majority of each 8x8 cell): sloppy outlines.
    An unseen kind (--unseen)."""
    h, w = mask.shape
    if len(_labelled_classes(mask)) < 2 or h % 8 or w % 8:
        return None
    cells = mask.reshape(h // 8, 8, w // 8, 8).transpose(0, 2, 1, 3).reshape(h // 8, w // 8, 64)
    counts = np.stack([(cells == c).sum(-1) for c in range(5)], -1)
    out = np.repeat(np.repeat(counts.argmax(-1).astype(mask.dtype), 8, 0), 8, 1)
    labelled = (mask != IGNORE) & (out != IGNORE)
    return out if (out != mask)[labelled].mean() >= 0.02 else None


def pairing_offset(mask, rng, pool):
    """The mask of another image of `pool` (pairing by file name gone wrong): one that gives
    another class to at least a quarter of the pixels both label (20 tries)."""
    for j in rng.permutation(len(pool))[:20]:
        other = np.asarray(pool[j])
        if other.shape != mask.shape:
            continue
        both = (mask != IGNORE) & (other != IGNORE)
        if both.sum() >= 0.2 * mask.size and (other != mask)[both].mean() >= 0.25:
            return other.copy()
    return None


def region_confusion(mask, rng):
    """One mid-sized region (2-15 % of the image) takes another class the mask has elsewhere:
    a class confused in one region only (class_swap takes the largest region, >= 15 %)."""
    present = [c for c in LABELS if (mask == c).any()]
    if len(present) < 2:
        return None
    candidates = []
    for c in present:
        regions, _ = ndimage.label(mask == c)
        sizes = np.bincount(regions.reshape(-1))[1:]
        ok = (sizes >= 0.02 * mask.size) & (sizes <= 0.15 * mask.size)
        candidates += [(c, regions == r + 1) for r in np.flatnonzero(ok)]
    if not candidates:
        return None
    c, region = candidates[int(rng.integers(len(candidates)))]
    out = mask.copy()
    out[region] = rng.choice([k for k in present if k != c])
    return out


def hurried_outline(mask, rng):
    """Outlines drawn in a hurry: each labelled pixel takes the majority class of its 21-31 px
    window (corners cut, thin parts and small objects lost); unlabelled pixels stay so. The
    windows are wide because the benchmark's 64x128 masks are already smooth: a 9 px window
    changes under 0.4 % of their labelled pixels, 25 px a median 1.8 %."""
    if len(_labelled_classes(mask)) < 2:
        return None
    size = int(rng.choice([21, 25, 31]))
    votes = np.stack([ndimage.uniform_filter((mask == c).astype(np.float32), size)
                      for c in LABELS])  # (4, H, W)
    out = np.where(mask == IGNORE, IGNORE, np.array(LABELS)[votes.argmax(0)]).astype(mask.dtype)
    return out if (out != mask)[mask != IGNORE].mean() >= 0.01 else None


def objects_unlabelled(mask, rng):
    """Every object (0.2-30 % of the image) of one class other than the most common painted
    with its surroundings: a labeller who left that class out of this image."""
    present = sorted((c for c in LABELS if (mask == c).any()),
                     key=lambda c: -(mask == c).sum())[1:]
    for c in rng.permutation(present) if present else []:
        regions, n = ndimage.label(mask == c)
        out = mask.copy()
        for r in range(1, n + 1):
            region = regions == r
            if not 0.002 * mask.size <= region.sum() <= 0.3 * mask.size:
                continue
            around = mask[ndimage.binary_dilation(region, iterations=2) & ~region]
            around = around[(around != IGNORE) & (around != c)]
            if around.size >= 10:
                out[region] = np.bincount(around).argmax()
        if (out != mask).mean() >= 0.01:
            return out
    return None


def resized_badly(mask, rng):
    """A mask drawn at another resolution and resized wrongly: scaled up 1.1-1.3x about the
    top-left corner (nearest neighbour) and cropped, so it drifts off the image towards the
    bottom right (shift moves every pixel alike)."""
    if len(_labelled_classes(mask)) < 2:
        return None
    h, w = mask.shape
    scale = rng.uniform(1.1, 1.3)
    rows = np.minimum((np.arange(h) / scale).astype(int), h - 1)
    cols = np.minimum((np.arange(w) / scale).astype(int), w - 1)
    out = mask[rows][:, cols]
    labelled = (mask != IGNORE) & (out != IGNORE)
    return out if (out != mask)[labelled].mean() >= 0.02 else None


CORRUPT = {"class_swap": class_swap, "erode_dilate": erode_dilate, "shift": shift,
           "object_deleted": object_deleted, "class_confusion": class_confusion,
           "coarse_outline": coarse_outline, "pairing_offset": pairing_offset,
           "region_confusion": region_confusion, "hurried_outline": hurried_outline,
           "objects_unlabelled": objects_unlabelled, "resized_badly": resized_badly}
UNSEEN = ("class_confusion", "coarse_outline")
# Kinds invented from how masks go wrong in practice; no edit of segment/label_quality/mask_edits.py makes
# them, so the learned score never sees them (--kinds new).
NEW = ("pairing_offset", "region_confusion", "hurried_outline", "objects_unlabelled",
       "resized_badly")
POOLED = ("pairing_offset",)  # kinds that take the other masks as a third argument
KIND_SETS = {"own": KINDS, "unseen": UNSEEN, "new": NEW}
# --leave-one-kind-out: the edit of segment/label_quality/mask_edits.py that teaches each own kind; the
# learner of kind K's table learns from the other three only.
# The region edit (segment/label_quality/regions.py) that teaches each own kind; shift has none.
REGION_TAUGHT_BY = {"class_swap": "relabel", "erode_dilate": "border",
                    "object_deleted": "delete"}
TAUGHT_BY = {"class_swap": "relabel", "erode_dilate": "border", "shift": "shift",
             "object_deleted": "delete"}


def run(cmd: list[str]) -> None:
    print("$", " ".join(cmd[3:] if cmd[1] == "-c" else cmd), flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def plant(folder: Path, share: float, seed: int) -> pd.DataFrame:
    """Corrupt `share` of the train masks in place (our own copy), kinds in equal parts."""
    manifest = pd.read_csv(folder / "manifest.csv", dtype={"id": str}, keep_default_na=False)
    train = manifest[manifest["split"] == "train"]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(train))
    per_kind = max(1, round(share * len(train) / len(KINDS)))
    planted, used = [], set()
    for kind in KINDS:
        done = 0
        for i in order:
            if done == per_kind:
                break
            row = train.iloc[i]
            if row["id"] in used:
                continue
            path = folder / row["mask"]
            mask = np.asarray(Image.open(path))
            new = CORRUPT[kind](mask, rng)
            if new is None:
                continue
            Image.fromarray(new).save(path)
            used.add(row["id"])
            planted.append({"id": row["id"], "kind": kind,
                            "changed": float((new != mask).mean())})
            done += 1
    return pd.DataFrame(planted)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--pairs", type=int, default=1200)
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--width", type=int, default=8)
    ap.add_argument("--share", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--keep", type=Path, default=None,
                    help="Work in this new folder and keep it (data, crossval run, planted.csv).")
    ap.add_argument("--rescore", type=Path, default=None,
                    help="Score the kept folder of an earlier --keep run again; no training.")
    ap.add_argument("--replant", type=int, default=0,
                    help="With --rescore: also N held-out plantings (seeds 1..N) on clean masks.")
    ap.add_argument("--held-out", nargs=2, metavar=("CKPT", "DATASET"), default=None,
                    help="Rank plantings in DATASET's val+test masks by CKPT's probabilities.")
    ap.add_argument("--unseen", action="store_true",
                    help="With --held-out: plant kinds the score never learns from instead "
                         f"({', '.join(UNSEEN)}); the same as --kinds unseen.")
    ap.add_argument("--kinds", choices=sorted(KIND_SETS), default="own",
                    help="With --held-out: which kinds to plant: own (the benchmark's four), "
                         f"unseen ({', '.join(UNSEEN)}) or new ({', '.join(NEW)}).")
    ap.add_argument("--leave-one-kind-out", action="store_true",
                    help="With --held-out: per own kind K, plant K alone and learn from every "
                         "edit of segment/label_quality/mask_edits.py but the one that teaches K.")
    ap.add_argument("--write", action="store_true",
                    help="With --held-out: write the table to docs/results/label-quality-"
                         "<kinds>.md (own, new, unseen or leave-one-kind-out).")
    ap.add_argument("--cost", nargs=2, metavar=("CKPT", "DATASET"), default=None,
                    help="Time the table of DATASET's train pairs by CKPT's probabilities, "
                         "without and with label_regions, and write "
                         "docs/results/label-quality-cost.md.")
    ap.add_argument("--dump", type=Path, default=None,
                    help="With --held-out: pickle every planting's label_quality and "
                         "label_regions tables (and the planted kinds) to this file.")
    ap.add_argument("--repeats", type=int, default=1,
                    help="With --cost: how many times to time each, alternately.")
    args = ap.parse_args()
    if args.cost:
        cost(args)
        return
    if args.held_out:
        _planted_rounds.dump = [] if args.dump else None
        held_out(args)
        if args.dump:
            import pickle

            args.dump.write_bytes(pickle.dumps(_planted_rounds.dump))
            print(f"dumped {len(_planted_rounds.dump)} plantings to {args.dump}")
        return
    if args.rescore:
        rescore_kept(args)
        return
    if not args.data.is_file():
        sys.exit(f"Error: {args.data} not found; pass --data PATH to AI4Mars train.npz")
    py = sys.executable
    curate = [py, "-c", "from curate.cli.main import app; app()"]
    segment = [py, "-c", "from segment.cli import app; app()"]
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or Path(scratch)
        if args.keep:
            tmp.mkdir(parents=True)
        raw = np.load(args.data)
        pick = np.sort(np.random.default_rng(args.seed).choice(len(raw["training_set"]),
                                                               args.pairs, replace=False))
        np.savez(tmp / "pairs.npz", training_set=raw["training_set"][pick],
                 names=raw["names"][pick])
        run(curate + ["split", str(tmp / "pairs.npz"), "-o", str(tmp / "data"), "--num-classes",
                      "5", "--ratios", "0.8,0.1,0.1", "--seed", str(args.seed)])
        planted = plant(tmp / "data", args.share, args.seed)
        planted.to_csv(tmp / "planted.csv", index=False)
        t0 = time.monotonic()
        run(segment + ["crossval", str(tmp / "data"), "-o", str(tmp / "cv"), "--folds",
                       str(args.folds), "--epochs", str(args.epochs), "--set",
                       f"base_width={args.width}", "--set", f"threads={args.threads}", "--device", "cpu",
                       "--seed", str(args.seed)])
        wall = time.monotonic() - t0
        quality = pd.read_csv(tmp / "cv" / "label_quality.csv", dtype={"id": str},
                              keep_default_na=False)
    report(quality, planted, wall, args)


def _replant(clean: np.ndarray, share: float, seed: int, planted_kinds=KINDS):
    """(masks, kinds): `share` of the clean masks corrupted as plant() does, in memory
    (pairing_offset takes a mask of another clean pair)."""
    rng = np.random.default_rng(seed)
    masks, kinds = clean.copy(), np.full(len(clean), "", dtype=object)
    per_kind = max(1, round(share * len(clean) / len(planted_kinds)))
    for kind in planted_kinds:
        done = 0
        for i in rng.permutation(len(clean)):
            if done == per_kind:
                break
            extra = (clean,) if kind in POOLED else ()
            new = None if kinds[i] else CORRUPT[kind](clean[i], rng, *extra)
            if new is not None:
                masks[i], kinds[i], done = new, kind, done + 1
    return masks, kinds


def _remember_rows() -> None:
    """Plantings share all but 5 % of their masks, so each table row's describe() (the
    mask as given, for people) is kept by content (probabilities, mask, image) and reused:
    the same figures, computed once. Edited copies are computed afresh every time."""
    import hashlib

    from segment.label_quality import score

    if getattr(score.describe, "remembers", False):
        return
    compute, kept = score.describe, {}

    def describe(probs, mask, ignore_index, image=None, for_people=True):
        if not for_people:
            return compute(probs, mask, ignore_index, image, for_people)
        key = hashlib.blake2b(digest_size=16)
        for part in (probs, mask, image):
            key.update(b"-" if part is None else np.ascontiguousarray(part).tobytes())
        key = (key.digest(), ignore_index)
        if key not in kept:
            kept[key] = compute(probs, mask, ignore_index, image, for_people)
        return dict(kept[key])

    describe.remembers = True
    score.describe = describe

    from segment.label_quality import regions

    compute_regions, kept_regions = regions.given_features, {}

    def given_features(probs, mask, ignore_index, image=None):
        key = hashlib.blake2b(digest_size=16)
        for part in (probs, mask, image):
            key.update(b"-" if part is None else np.ascontiguousarray(part).tobytes())
        key = (key.digest(), ignore_index)
        if key not in kept_regions:
            kept_regions[key] = compute_regions(probs, mask, ignore_index, image)
        rows, numbered = kept_regions[key]
        return [dict(row) for row in rows], numbered

    regions.given_features = given_features


def _planted_rounds(probs, clean: np.ndarray, ids: list[str], rounds: int,
                    share: float, planted_kinds=KINDS, images=None,
                    edit_kinds=None, region_edits=None) -> pd.DataFrame:
    """ranking_table of `rounds` held-out plantings (seeds 1..rounds) against fixed
    probabilities, summed (planted) and averaged (shares) over the rounds; the learned score
    learns from `edit_kinds` of segment/label_quality/mask_edits.py (default all)."""
    from segment.label_quality import mask_edits
    from segment.label_quality.score import label_quality

    _remember_rows()
    argmax = np.asarray(probs).argmax(1)
    rows, found_rows = [], []
    for seed in range(1, rounds + 1):
        masks, kinds = _replant(clean, share, seed, planted_kinds)
        q, found = label_quality(probs, masks, ids, np.zeros(len(ids), int), IGNORE,
                                 [str(c) for c in range(5)], images=images,
                                 edit_kinds=edit_kinds or mask_edits.KINDS,
                                 region_edits=region_edits)
        print(f"planting {seed}: score {q.attrs['score']}", flush=True)
        hit = kinds != ""
        p = pd.DataFrame({"id": q["id"][hit], "kind": kinds[hit]})
        rows.append(ranking_table(q, p).assign(seed=seed))
        found_rows.append(region_table(found, masks, clean, kinds, argmax).assign(seed=seed))
        if _planted_rounds.dump is not None:  # --dump: every planting's tables, for study
            _planted_rounds.dump.append({"seed": seed, "kinds": kinds, "quality": q,
                                         "regions": found})
    _planted_rounds.regions = _mean_regions(found_rows, planted_kinds)
    held = pd.concat(rows)
    mean = held.groupby("kind", sort=False)[["planted", *SHARES]].agg(
        {"planted": "sum", **dict.fromkeys(SHARES, "mean")})
    spread = held[held["kind"] == "all"]["in_top"]
    print(f"all, by score, per planting: {' '.join(f'{v:.2f}' for v in spread)}")
    order = [k for k in planted_kinds if k in mean.index]  # a kind may fit no mask
    missing = [k for k in planted_kinds if k not in mean.index]
    if missing:
        print(f"not planted (no mask it applies to): {', '.join(missing)}")
    return mean.loc[[*order, "all"]].reset_index()


_planted_rounds.dump = None  # --dump fills it


def held_out_probs(checkpoint: Path, dataset: Path, threads: int):
    """(probabilities (N, C, H, W), images, clean masks, ids, checkpoint state) of DATASET's
    val + test pairs under CKPT, on the CPU with `threads` threads."""
    import torch

    from segment.model import checkpoints
    from segment.label_quality.crossval import predict_probs
    from segment.data.folder import load_dataset, load_split

    torch.set_num_threads(threads)
    info = load_dataset(dataset)
    parts = [load_split(info, split) for split in ("val", "test")]
    images = np.concatenate([np.asarray(p[0]) for p in parts])
    clean = np.concatenate([np.asarray(p[1]) for p in parts])
    ids = [i for p in parts for i in p[2]]
    state = checkpoints.load_checkpoint(checkpoint)
    model = checkpoints.model_from_checkpoint(state, torch.device("cpu"))
    with torch.no_grad():
        probs = predict_probs(model, images, state.meta, torch.device("cpu"))
    return probs, images, clean, ids, state


def held_out(args) -> None:
    checkpoint, dataset = (Path(p) for p in args.held_out)
    rounds = args.replant or 6
    t0 = time.monotonic()
    probs, images, clean, ids, state = held_out_probs(checkpoint, dataset, args.threads)
    kinds = UNSEEN if args.unseen else KIND_SETS[args.kinds]
    if args.leave_one_kind_out:
        table = leave_one_kind_out(probs, clean, ids, rounds, args.share, images)
    else:
        table = _planted_rounds(probs, clean, ids, rounds, args.share, kinds, images)
    wall = time.monotonic() - t0
    model = (f"{checkpoint} (epoch {state.epoch}, val mIoU {state.best_metric:.3f}) "
             f"on the {len(ids)} val + test pairs of {dataset}; {rounds} plantings of "
             f"{args.share:.0%} (seeds 1-{rounds}), shares averaged over them; {wall:.0f} s")
    print(model)
    print_table(table, len(ids), int(table["planted"].iloc[-1]), "val + test pairs")
    print_regions(_planted_rounds.regions)
    what = ("leave-one-kind-out" if args.leave_one_kind_out else
            "unseen" if args.unseen else args.kinds)
    mode = f"--{what}" if what in ("leave-one-kind-out", "unseen") else f"--kinds {what}"
    command = (f".venv/bin/python benchmarks/bench_label_quality.py --held-out {checkpoint} "
               f"{dataset} --replant {rounds} --share {args.share} --threads {args.threads} "
               f"{mode}" + (" --write" if args.write else ""))
    print(f"\nreproduce: {command}")
    if args.write:
        print(f"wrote {write_held_out(table, _planted_rounds.regions, what, model, command)}")


def cost(args) -> None:
    """Time quality_table (the pair table alone, as before label_regions) and label_quality
    (label_regions first, then the pair table) on the train pairs of DATASET, alternately
    --repeats times, with the probabilities of CKPT computed once beforehand."""
    import torch

    from segment.model import checkpoints
    from segment.label_quality.crossval import predict_probs
    from segment.label_quality.score import label_quality, quality_table
    from segment.data.folder import load_dataset, load_split

    checkpoint, dataset = (Path(p) for p in args.cost)
    torch.set_num_threads(args.threads)
    info = load_dataset(dataset)
    images, masks, ids = load_split(info, "train")
    images, masks = np.asarray(images), np.asarray(masks)
    state = checkpoints.load_checkpoint(checkpoint)
    model = checkpoints.model_from_checkpoint(state, torch.device("cpu"))
    with torch.no_grad():
        probs = predict_probs(model, images, state.meta, torch.device("cpu"))
    folds = np.zeros(len(ids), int)
    names = info.class_names
    rows, found = [], None
    for attempt in range(1, args.repeats + 1):
        t0 = time.monotonic()
        quality_table(probs, masks, list(ids), folds, info.ignore_index, names, 0, images)
        before = time.monotonic() - t0
        t0 = time.monotonic()
        _, found = label_quality(probs, masks, list(ids), folds, info.ignore_index, names, 0,
                                 images)
        after = time.monotonic() - t0
        load = os.getloadavg()[0]
        print(f"run {attempt}: pair table alone {before:.0f} s, with label_regions "
              f"{after:.0f} s ({after / before:.2f}x), load {load:.1f}", flush=True)
        rows.append([attempt, f"{before:.0f}", f"{after:.0f}", f"{after / before:.2f}x",
                     f"{load:.1f}"])
    command = (f".venv/bin/python benchmarks/bench_label_quality.py --cost {checkpoint} "
               f"{dataset} --threads {args.threads} --repeats {args.repeats}")
    notes = (f"The {len(ids):,} train pairs of {dataset}, with their images, scored by the "
             f"probabilities of {checkpoint} (epoch {state.epoch}), computed once beforehand; "
             f"{args.threads} thread(s). 'pair table alone' is label_quality.csv as it was made "
             "before label_regions.csv (segment.label_quality.score.quality_table); 'with "
             "label_regions' makes label_regions.csv first (proposals, their figures, region "
             "edits and the out-of-fold region classifier) and then the same table "
             f"(segment.label_quality.score.label_quality). {len(found):,} regions in "
             f"{found['id'].nunique():,} pairs. Load: the 1-minute load average after each run.")
    path = write_table("label-quality-cost", "Label quality: what label_regions.csv costs",
                       ["run", "pair table alone, s", "with label_regions, s", "ratio",
                        "load"], rows, command, notes)
    print(f"wrote {path}\nreproduce: {command}")


def leave_one_kind_out(probs, clean: np.ndarray, ids: list[str], rounds: int, share: float,
                       images=None) -> pd.DataFrame:
    """One row per own kind K: K alone planted, ranked by a table whose learner learns from
    every edit but the one that teaches K (TAUGHT_BY); 'all' is the rows' planted-weighted
    mean."""
    from segment.label_quality import mask_edits

    from segment.label_quality import regions

    rows, region_rows = [], []
    for kind in KINDS:
        edits = tuple(k for k in mask_edits.KINDS if k != TAUGHT_BY[kind])
        region_edits = tuple(k for k in regions.REGION_EDITS if k != REGION_TAUGHT_BY.get(kind))
        print(f"leave {kind} out: learning from {', '.join(edits)}; regions from "
              f"{', '.join(region_edits)}", flush=True)
        table = _planted_rounds(probs, clean, ids, rounds, share, (kind,), images, edits,
                                region_edits)
        rows.append(table[table["kind"] == kind])
        region_rows.append(_planted_rounds.regions)
    _planted_rounds.regions = _mean_regions(region_rows, KINDS)
    table = pd.concat(rows, ignore_index=True)
    weight = table["planted"] / table["planted"].sum()
    mean = {c: float((table[c] * weight).sum()) for c in SHARES}
    return pd.concat([table, pd.DataFrame([{"kind": "all",
                                            "planted": int(table["planted"].sum()), **mean}])],
                     ignore_index=True)


def rescore_kept(args) -> None:
    from segment.label_quality.score import rescore

    folder = args.rescore
    t0 = time.monotonic()
    quality, _ = rescore(folder / "cv", folder / "data")
    wall = time.monotonic() - t0
    planted = pd.read_csv(folder / "planted.csv", dtype={"id": str})
    meta = pd.read_json(folder / "cv" / "crossval.json", typ="series")
    mious = " / ".join(f"{m:.2f}" for m in meta["fold_val_miou"])
    print(f"rescored {folder / 'cv'} (fold val mIoU {mious}) in {wall:.0f} s; "
          f"score {quality.attrs['score']}")
    table = ranking_table(quality, planted)
    print("\nplanting of the run (seed 0, masks the folds trained with):")
    print_table(table, len(quality), len(planted))
    if args.replant:
        raw = np.load(folder / "pairs.npz")
        where = {str(n): i for i, n in enumerate(raw["names"])}
        rows = [where[i] for i in quality["id"]]
        clean, images = raw["training_set"][rows, 1], raw["training_set"][rows, :1]
        probs = np.load(folder / "cv" / "oof_probs.npy", mmap_mode="r")
        mean = _planted_rounds(probs, clean, quality["id"].tolist(), args.replant, args.share,
                               images=images)
        print(f"\nheld-out plantings (seeds 1..{args.replant}; planted summed, shares averaged "
              "over seeds):")
        print_table(mean, len(quality), int(mean["planted"].iloc[-1]))
    print(f"\nreproduce: .venv/bin/python benchmarks/bench_label_quality.py --rescore {folder} "
          f"--replant {args.replant} --share {args.share}")


SHARES = ["in_top", "learned_in_top", "rank_in_top", "base_in_top", "softmin_in_top",
          "region_in_top"]
TOP_K = (1, 2, 5)  # region_table's top k x (number of planted regions)


def region_table(found: pd.DataFrame, masks: np.ndarray, clean: np.ndarray,
                 kinds: np.ndarray, argmax: np.ndarray | None = None) -> pd.DataFrame:
    """Per kind (and all): the planted regions (connected components of at least
    regions.MIN_AREA px where a corrupted mask differs from the clean one) and the share of
    them found among the top k x (their number) of all pairs' regions by probability, for
    each k of TOP_K. A region is found by a proposal of its pair that lies at least half in
    it or covers at least a third of it. With `argmax` (the model's (N, H, W) classes),
    `model_sees`: the mean share of a planted region's pixels where the model says the clean
    mask's class (near 0: the model cannot see what the corruption took away)."""
    from curate.io.region_pixels import decode
    from segment.label_quality.regions import MIN_AREA

    planted, sees = [], []  # (row, kind, bool region), share the model gets right
    for i in np.flatnonzero(kinds != ""):
        parts, n = ndimage.label(masks[i] != clean[i])
        sizes = np.bincount(parts.ravel())
        for r in range(1, n + 1):
            if sizes[r] >= MIN_AREA:
                region = parts == r
                planted.append((i, kinds[i], region))
                sees.append(float((argmax[i][region] == clean[i][region]).mean())
                            if argmax is not None else np.nan)
    order = found.sort_values("probability", ascending=False, kind="stable").reset_index(drop=True)
    rank = {}  # (row, region) -> place among all pairs' regions
    for place, (row, region) in enumerate(zip(order["row"], order["region"])):
        rank[(int(row), int(region))] = place
    by_row = {row: part for row, part in found.groupby("row")}
    best = []  # the best place of a proposal that finds each planted region
    for row, kind, region in planted:
        place = np.inf
        for proposal in by_row.get(row, pd.DataFrame()).itertuples(index=False):
            pixels = decode(proposal.box, proposal.pixels, region.shape)
            inside = (pixels & region).sum()
            if inside >= 0.5 * pixels.sum() or inside >= region.sum() / 3:
                place = min(place, rank[(int(row), int(proposal.region))])
        best.append((kind, place))
    table = pd.DataFrame(best, columns=["kind", "place"]).assign(sees=sees)
    n = len(table)
    out = []
    for kind, part in [*table.groupby("kind", sort=False), ("all", table)]:
        row = {"kind": kind, "regions": len(part),
               "proposed": float(np.isfinite(part["place"]).mean()) if len(part) else 0.0,
               "model_sees": float(part["sees"].mean()) if len(part) else 0.0}
        for k in TOP_K:
            row[f"top{k}"] = float((part["place"] < k * n).mean()) if len(part) else 0.0
        out.append(row)
    return pd.DataFrame(out)


def _mean_regions(tables: list[pd.DataFrame], planted_kinds) -> pd.DataFrame:
    """region_table of several plantings: regions summed, shares weighted by them, per kind;
    'all' is the kinds together (each table's own 'all' row is the same union)."""
    held = pd.concat(tables)
    held = held[held["kind"] != "all"].copy()
    shares = ["proposed", "model_sees", *(f"top{k}" for k in TOP_K)]
    held[shares] = held[shares].mul(held["regions"], axis=0)
    total = held.groupby("kind", sort=False)[["regions", *shares]].sum()
    total.loc["all"] = total.sum()
    total[shares] = total[shares].div(total["regions"].clip(lower=1), axis=0)
    order = [k for k in planted_kinds if k in total.index] + ["all"]
    return total.loc[order].reset_index()


def ranking_table(quality: pd.DataFrame, planted: pd.DataFrame) -> pd.DataFrame:
    """Per kind (and all): planted, share in the top 2 x planted by score, by
    edit_probability alone, by the evidence alone (rank_score without the learned column:
    the score of small tables), by the first score, mean_disagreement, and by cleanlab's
    softmin (lowest first;
    our implementation of its documented formula, on the same probabilities)."""
    from segment.label_quality.score import rank_score

    n = len(planted)
    out = []
    quality = quality.assign(generic=rank_score(quality), softmin_worst=-quality["softmin"])
    if "region_probability" not in quality.columns:  # a table from before label_regions
        quality["region_probability"] = 0.0
    for column, name in zip(("score", "edit_probability", "generic", "mean_disagreement",
                             "softmin_worst", "region_probability"), SHARES):
        top = set(quality.sort_values(column, ascending=False, kind="stable")["id"][:2 * n])
        hit = planted["id"].isin(top)
        per = hit.groupby(planted["kind"], sort=False).mean()
        out.append(pd.concat([per, pd.Series({"all": hit.mean()})]).rename(name))
    table = pd.concat(out, axis=1)
    table["planted"] = pd.concat([planted.groupby("kind", sort=False).size(),
                                  pd.Series({"all": n})])
    return table.rename_axis("kind").reset_index()


PAGE_TITLES = {"own": "the benchmark's own kinds",
               "new": "kinds no edit of the learner makes",
               "unseen": "class_confusion and coarse_outline, no edit of the learner makes",
               "leave-one-kind-out": "each own kind with the edit that teaches it held out"}


REGION_HEADER = ["corruption", "planted regions", "model says the clean class there",
                 "proposed at all", "in the top 1 x", "in the top 2 x", "in the top 5 x"]


def _region_rows(regions: pd.DataFrame) -> list[list]:
    return [[row.kind, int(row.regions), f"{row.model_sees:.2f}", f"{row.proposed:.2f}",
             *(f"{getattr(row, f'top{k}'):.2f}" for k in TOP_K)]
            for row in regions.itertuples(index=False)]


def write_held_out(table: pd.DataFrame, regions: pd.DataFrame, what: str, model: str,
                   command: str) -> Path:
    """docs/results/label-quality-<what>.md: the --held-out tables, written by this run."""
    rows = [[row.kind, row.planted, f"{row.in_top:.2f}", f"{row.softmin_in_top:.2f}",
             f"{row.learned_in_top:.2f}", f"{row.region_in_top:.2f}", f"{row.rank_in_top:.2f}",
             f"{row.base_in_top:.2f}"]
            for row in table.itertuples(index=False)]
    header = ["corruption", "planted", "score", "cleanlab softmin", "edit_probability alone",
              "region_probability alone", "the evidence alone (no learning)", "mean_disagreement"]
    notes = (f"Share of the corrupted masks ranked in the top 2 x (number corrupted), by each "
             f"column. Model and pairs: {model}. What the kinds are and how the score is made: "
             f"[label-quality.md](label-quality.md).\n\n"
             "Regions: the planted regions (connected components of at least 8 px where a "
             "corrupted mask differs from the clean one), the mean share of their pixels where "
             "the model's argmax says the clean mask's class, and the share of them found by a "
             "proposal of label_regions.csv (one lying at least half in the region or covering "
             "a third of it) at all, and among the top k x (number of planted regions) of all "
             "pairs' proposals by probability. Kinds that move whole borders (shift, "
             "erode_dilate, resized_badly, hurried_outline) plant many thin regions that no "
             "single proposal covers; their pair-level rows above are the measure for them.\n\n"
             + markdown_table(REGION_HEADER, _region_rows(regions)))
    return write_table(f"label-quality-{what}", f"Label quality, held out: {PAGE_TITLES[what]}",
                       header, rows, command, notes)


def print_regions(regions: pd.DataFrame) -> None:
    print("\nplanted regions found by label_regions.csv:\n")
    print(markdown_table(REGION_HEADER, _region_rows(regions)))


def print_table(table: pd.DataFrame, pairs: int, n: int, what: str = "train pairs") -> None:
    print(f"{pairs} {what}, {n} corrupted; share in the top 2 x planted")
    print("\n| corruption | planted | by score | by edit_probability alone | by region_probability "
          "alone | by the evidence alone (no learning) | by mean_disagreement | by cleanlab "
          "softmin |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in table.itertuples(index=False):
        bold = "**" if row.kind == "all" else ""
        print(f"| {row.kind} | {row.planted} | {bold}{row.in_top:.2f}{bold} | "
              f"{row.learned_in_top:.2f} | {row.region_in_top:.2f} | {row.rank_in_top:.2f} | "
              f"{row.base_in_top:.2f} | {row.softmin_in_top:.2f} |")


def report(quality: pd.DataFrame, planted: pd.DataFrame, wall: float, args) -> None:
    n = len(planted)
    ranked = quality.sort_values("score", ascending=False, kind="stable")["id"].tolist()
    top = set(ranked[:2 * n])
    from curate.checks.label_issue import flag_rule
    from curate.checks.outliers import OutlierConfig

    share = OutlierConfig.label_issue_share
    hits, cut = flag_rule(quality, OutlierConfig.label_issue_probability, share)
    rule = f"low_share >= {share}" if cut is None else f"edit_probability >= {cut}"
    flagged = set(quality.loc[hits, "id"])
    planted["in_top"] = planted["id"].isin(top)
    planted["flagged"] = planted["id"].isin(flagged)
    print(f"\n{len(quality)} train pairs, {n} corrupted ({n / len(quality):.1%}); crossval "
          f"K={args.folds}, {args.epochs} epochs, width {args.width}: {wall:.0f} s wall "
          f"({args.threads} threads)")
    print(f"\n| corruption | planted | in top {2 * n} by score | flagged ({rule}) |")
    print("| --- | --- | --- | --- |")
    for kind, rows in planted.groupby("kind", sort=False):
        print(f"| {kind} | {len(rows)} | {rows['in_top'].mean():.2f} | {rows['flagged'].mean():.2f} |")
    precision = len(flagged & set(planted["id"])) / max(len(flagged), 1)
    print(f"| all | {n} | **{planted['in_top'].mean():.2f}** | {planted['flagged'].mean():.2f} "
          f"(precision {precision:.2f} of {len(flagged)} flagged) |")
    print("\nreproduce: .venv/bin/python benchmarks/bench_label_quality.py "
          f"--pairs {args.pairs} --folds {args.folds} --epochs {args.epochs} --width {args.width} "
          f"--share {args.share} --seed {args.seed} --threads {args.threads}")


if __name__ == "__main__":
    main()
