"""Pure, seeded planning: which new pairs to make, from which parents, with which seed."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from curate.augment.config import AugmentConfig
from curate.errors import ConfigError, InputError
from curate.io.dataset import SPLITS

# crop_k crops a box of this fraction of the height and width around a K pixel, then resizes
# it back: K's area grows by 1 / scale**2 (about 2.5x on average over this range).
CROP_SCALE = (0.5, 0.8)
# A share target that needs more new pairs than this is refused (ask for --count instead).
MAX_PLANNED = 200_000


def class_columns(manifest: pd.DataFrame) -> list[str]:
    """The px_0 .. px_{K-1} columns, in class order."""
    cols = sorted((c for c in manifest.columns if re.fullmatch(r"px_\d+", c)),
                  key=lambda c: int(c[3:]))
    if not cols or cols != [f"px_{k}" for k in range(len(cols))]:
        raise InputError(
            "The manifest lacks the per-class pixel columns px_0 .. px_{K-1}; rebuild it with "
            "a curate command that scans the masks."
        )
    return cols


def train_rows(manifest: pd.DataFrame, allow_unsplit: bool = False) -> np.ndarray:
    """Boolean mask of the training rows; an unsplit manifest is refused or, if allowed, all-train."""
    split = (manifest["split"] if "split" in manifest.columns
             else pd.Series("", index=manifest.index)).fillna("").astype(str)
    if not split.isin(SPLITS).any():
        if allow_unsplit:
            return np.ones(len(manifest), dtype=bool)
        raise InputError(
            "The dataset has no train/val/test split, and augment only ever grows the training "
            "split. Run `curate split` first, or pass --allow-unsplit to treat every pair as "
            "training data (the output then marks them all split=train)."
        )
    is_train = (split == "train").to_numpy()
    if not is_train.any():
        raise InputError("The split has no 'train' rows; there is nothing augment may grow.")
    return is_train


def plan_augmentation(manifest: pd.DataFrame, config: AugmentConfig) -> pd.DataFrame:
    """One row per new pair: id, parent_id, second_parent_id ('' unless copy_paste), recipe,
    aug_seed. Pure: the same manifest and config give the same plan."""
    cols = class_columns(manifest)
    train = manifest[train_rows(manifest, config.allow_unsplit)]
    k = _check_class(train, cols, config.target_class)
    n = config.count if config.count is not None else planned_count(train, cols, k, config)
    rng = np.random.default_rng(config.seed)
    recipes = _draw_recipes(rng, n, config)
    sources = train[train[f"px_{k}"] > 0]
    parents = sources["id"].to_numpy()[rng.integers(0, len(sources), n)]
    seconds = _draw_paste_targets(rng, train, sources, parents, recipes == "copy_paste")
    seeds = rng.integers(0, 2**31 - 1, n)
    ids = _new_ids(parents, set(manifest["id"].astype(str)))
    return pd.DataFrame({"id": ids, "parent_id": parents, "second_parent_id": seconds,
                         "recipe": recipes, "aug_seed": seeds.astype(np.int64)})


def _check_class(train: pd.DataFrame, cols: list[str], k: int) -> int:
    if not 0 <= k < len(cols):
        raise ConfigError(f"--class {k} is out of range; this dataset has classes 0..{len(cols) - 1}.")
    if not (train[f"px_{k}"] > 0).any():
        present = [c[3:] for c in cols if (train[c] > 0).any()]
        raise ConfigError(
            f"Class {k} does not occur in any training mask, so there is nothing to grow it "
            f"from (augment never invents labels). Classes present in train: {', '.join(present)}."
        )
    return k


def _draw_recipes(rng: np.random.Generator, n: int, config: AugmentConfig) -> np.ndarray:
    n_paste = int(round(n * config.copy_paste_fraction))
    others = (rng.choice(np.array(config.recipes), n - n_paste) if n > n_paste
              else np.array([], dtype=str))
    recipes = np.concatenate([np.full(n_paste, "copy_paste"), others]).astype(object)
    return recipes[rng.permutation(n)]


def _draw_paste_targets(rng, train, sources, parents, is_paste) -> np.ndarray:
    """For copy-paste rows a training pair of the same shape other than the source, else ''."""
    shape_cols = [c for c in ("height", "width", "channels") if c in train.columns]
    shapes = train[shape_cols].astype(str).agg("x".join, axis=1) if shape_cols else \
        pd.Series("", index=train.index)
    by_shape = {s: train["id"].to_numpy()[(shapes == s).to_numpy()] for s in shapes.unique()}
    shape_of = dict(zip(train["id"], shapes))
    seconds = np.full(len(parents), "", dtype=object)
    for i in np.flatnonzero(is_paste):
        pool = by_shape[shape_of[parents[i]]]
        if len(pool) < 2:
            raise ConfigError(
                f"Copy-paste needs a second training pair of the same size as {parents[i]}, "
                "and there is none. Pass --copy-paste-fraction 0."
            )
        j = int(rng.integers(0, len(pool) - 1))  # skip the source itself
        own = int(np.flatnonzero(pool == parents[i])[0])
        seconds[i] = pool[j + (j >= own)]
    return seconds


def _new_ids(parents: np.ndarray, taken: set[str]) -> list[str]:
    ids, counter = [], 0
    for parent in parents:
        while True:
            counter += 1
            candidate = f"{parent}__aug{counter:04d}"
            if candidate not in taken:
                break
        taken.add(candidate)
        ids.append(candidate)
    return ids


# --- share targets -> counts -----------------------------------------------------------------

class TargetMet(ConfigError):
    """The rare class already reaches the share asked for: there is nothing to add."""


def planned_count(train: pd.DataFrame, cols: list[str], k: int, config: AugmentConfig) -> int:
    """New pairs needed to reach a pixel or image share, from an estimate of what each adds."""
    px = train[cols].to_numpy(dtype=np.float64)               # (N, K)
    has_k = px[:, k] > 0
    if config.image_share is not None:
        target, now = config.image_share, has_k.mean()
        added, total = 1.0, 1.0                                # every new pair contains K
        current, base_k, base_all = now, has_k.sum(), float(len(px))
    else:
        target = config.pixel_share
        added, total = expected_k_pixels(px, has_k, k, config)
        base_k, base_all = px[:, k].sum(), px.sum()
        current = base_k / base_all
    name = "image" if config.image_share is not None else "pixel"
    if current >= target:
        raise TargetMet(
            f"Class {k} already has a training {name} share of {current:.4f} >= the target "
            f"{target}; nothing to add. Give a higher target or --count."
        )
    if added / total <= target:
        raise ConfigError(
            f"A {name} share of {target} for class {k} is out of reach: new pairs add about "
            f"{added / total:.4f} of their pixels as class {k}, so the share can only approach "
            "that. Give a lower target, raise --copy-paste-fraction, or use --count."
        )
    n = math.ceil((target * base_all - base_k) / (added - target * total))
    if n > MAX_PLANNED:
        raise ConfigError(
            f"Reaching a {name} share of {target} would need about {n:,} new pairs (more than "
            f"{MAX_PLANNED:,}); give a lower target or an explicit --count."
        )
    return max(n, 1)


def expected_k_pixels(px: np.ndarray, has_k: np.ndarray, k: int,
                      config: AugmentConfig) -> tuple[float, float]:
    """(class-K pixels, all pixels) that one new pair adds on average under the recipe mix."""
    sizes = px.sum(axis=1)
    src_k, src_size = px[has_k, k], sizes[has_k]
    lo, hi = CROP_SCALE
    zoom = 1.0 / (lo * hi)                                     # E[1 / s^2] for s ~ U(lo, hi)
    per_recipe = {
        "geometric": src_k.mean(),
        "photometric": src_k.mean(),
        "crop_k": np.minimum(src_k * zoom, src_size).mean(),
    }
    # copy_paste: the source's K region plus the target's own K pixels outside it.
    paste = src_k.mean() + px[:, k].mean() * (1 - src_k.mean() / max(sizes.mean(), 1))
    plain = np.mean([per_recipe[r] for r in config.recipes]) if config.recipes else 0.0
    f = config.copy_paste_fraction
    return f * paste + (1 - f) * plain, float(sizes.mean())
