"""Stratified train/val/test splits for segmentation that keep near-duplicate groups together.

Decide first, then apply: `stratified_split` is a pure, seeded function of the manifest that
returns one split name per pair; `split_dataset` writes that choice into the manifest.

The assignment is iterative stratification (after Sechidis, Tsoumakas and Vlahavas, 2011)
over groups rather than single pairs: a group is a set of pairs that must share a split
(near duplicates, identical images, a user column such as a rover site; curate.split.groups
finds them). Each group carries a label vector: how many of its pairs contain each class, and
how many fall in each pixel-count bin of that class, so that both the image share and the pixel
share of every class, the rare one above all, follow the split ratios.

Groups can be too large for that (a video clip whose frames chain into one group): giant
groups are placed by size first, an empty split takes a group from a split holding two, and
`split_dataset` refuses a split that still leaves a split with a ratio > 0 empty, naming the
group sizes. `SplitConfig.max_group_size` cuts large groups into contiguous blocks and seals
the cuts so that nothing leaks (see `split_dataset` and `curate.split.blocks`).
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd

from curate.split.blocks import cut_groups, fill_empty_splits, gather_blocks, group_limit, seal_cuts
from curate.split.config import SplitConfig, SplitPlan, parse_ratios  # noqa: F401  (public here too)
from curate.split.groups import grouping_distance, split_groups, with_sequences
from curate.io.dataset import SPLITS, Dataset
from curate.errors import ConfigError, InputError
from curate.scan.features import scan
from curate.data.manifest import build_manifest
from curate.stats.shares import pixel_counts
from curate.split.advice import cut_summary, far_off_warnings, refuse_empty
from curate.split.report import counted_classes, split_figure, split_report, worst_deviation
from curate.step import StepResult, recorded



# --- labels and the assignment ---------------------------------------------------------------

def pair_labels(manifest: pd.DataFrame, num_classes: int, ignore_index: int | None,
                pixel_bins: int, smallest_ratio: float = 0.15) -> np.ndarray:
    """(N, M) 0/1 labels per pair: class presence, then per class its pixel-count bin.

    Bins are quantiles of the class's pixel count over the pairs that contain it, so each
    bin holds about as many pairs; balancing the bins balances the class's pixel total. A
    class gets fewer bins when it is rare: each bin should hold enough pairs (2 /
    smallest_ratio) to be shared out in proportion, else binning costs image-share balance.
    """
    px = pixel_counts(manifest, counted_classes(num_classes, ignore_index)).astype(np.float64)
    columns = [px > 0]
    for c in range(px.shape[1]):
        present = px[:, c] > 0
        bins = min(pixel_bins, int(present.sum() * smallest_ratio / 2))
        if bins < 2:
            continue
        edges = np.quantile(px[present, c], np.linspace(0, 1, bins + 1)[1:-1])
        which = np.digitize(px[:, c], edges)
        columns += [present & (which == b) for b in range(bins)]
    return np.column_stack(columns).astype(np.int64)


def stratified_split(manifest: pd.DataFrame, num_classes: int, ignore_index: int | None,
                     config: SplitConfig, groups: np.ndarray | None = None) -> np.ndarray:
    """(N,) 'train' / 'val' / 'test' per pair; pure and seeded by `config.seed`.

    `groups` (from `split_groups`) is computed when not given.
    """
    n = len(manifest)
    if n == 0:
        return np.zeros(0, dtype=object)
    if groups is None:
        groups = split_groups(manifest, config)
    smallest = min(r for r in config.ratios if r > 0)
    labels = pair_labels(manifest, num_classes, ignore_index, config.pixel_bins, smallest)
    codes, inverse = np.unique(groups, return_inverse=True)
    group_labels = np.zeros((len(codes), labels.shape[1]), dtype=np.int64)   # (G, M)
    np.add.at(group_labels, inverse, labels)
    sizes = np.bincount(inverse, minlength=len(codes))
    rng = np.random.default_rng(config.seed)
    ratios = np.asarray(config.ratios, float)
    which = iterative_stratification(group_labels, sizes, ratios, rng)
    which = fill_empty_splits(which, sizes, ratios)
    return np.array(SPLITS, dtype=object)[which[inverse]]


def iterative_stratification(labels: np.ndarray, sizes: np.ndarray, ratios: np.ndarray,
                             rng: np.random.Generator) -> np.ndarray:
    """(G,) split index per group, given (G, M) label counts, (G,) sizes and (S,) ratios.

    A group larger than the smallest split's share cannot follow label needs without
    overfilling a small split, so such giant groups go first, largest first, each to the
    split that still needs the most pairs (where it overshoots least), and a split they fill
    takes no other group while another still needs pairs. Then repeatedly take
    the label with the fewest unassigned groups and place each of its groups in the split
    that still needs that label most; ties go to the split that needs the most pairs, then to
    a seeded coin. Groups without labels then fill the splits by size.
    """
    desired = ratios[:, None] * labels.sum(axis=0)[None, :].astype(np.float64)   # (S, M)
    desired_size = ratios * float(sizes.sum())                                   # (S,)
    usable = ratios > 0
    assignment = np.full(len(labels), -1)
    # Random order, then larger groups first: big groups are the hard ones to fit.
    order = rng.permutation(len(labels))
    order = order[np.argsort(-sizes[order], kind="stable")]
    giants = order[sizes[order] > desired_size[usable].min()]
    for g in giants:
        s = _neediest(desired_size, desired_size, usable, rng)
        assignment[g] = s
        desired[s] -= labels[g]
        desired_size[s] -= sizes[g]
    if len(giants) and (usable & (desired_size > 0)).any():
        usable = usable & (desired_size > 0)      # splits the giants filled take no more
    has = labels > 0
    while True:
        remaining = has[assignment < 0].sum(axis=0)                            # (M,)
        if not remaining.any():
            break
        label = int(np.where(remaining > 0, remaining, np.iinfo(np.int64).max).argmin())
        for g in order[(assignment[order] < 0) & has[order, label]]:
            s = _neediest(desired[:, label], desired_size, usable, rng)
            assignment[g] = s
            desired[s] -= labels[g]
            desired_size[s] -= sizes[g]
    for g in order[assignment[order] < 0]:
        s = _neediest(desired_size, desired_size, usable, rng)
        assignment[g] = s
        desired_size[s] -= sizes[g]
    return assignment


def _neediest(need: np.ndarray, size_need: np.ndarray, usable: np.ndarray,
              rng: np.random.Generator) -> int:
    candidates = np.flatnonzero(usable & (need == need[usable].max()))
    if len(candidates) > 1:
        sizes = size_need[candidates]
        candidates = candidates[sizes == sizes.max()]
    if len(candidates) > 1:
        return int(rng.choice(candidates))
    return int(candidates[0])


# --- the whole step --------------------------------------------------------------------------

def with_features(dataset: Dataset, manifest: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The manifest, with any of `columns` it lacks filled in from a pixel scan."""
    missing = [c for c in columns if c not in manifest.columns]
    if not missing:
        return manifest
    features = scan(dataset)
    manifest = manifest.copy()
    for column in missing:
        manifest[column] = features[column].to_numpy()
    return manifest


def source_splits(manifest: pd.DataFrame, config: SplitConfig) -> np.ndarray | None:
    """(N,) the split each pair came with ('' for none) when `config.keep_source_split`,
    else None. Refuses the option on data that names no source split."""
    if not config.keep_source_split:
        return None
    column = manifest.get("source_split")
    if column is None or not column.isin(SPLITS).any():
        raise ConfigError("--keep-source-split: this dataset names no source split (its "
                          "manifest has no source_split column with train, val or test; the "
                          "layouts VOC, Cityscapes, CamVid and Hugging Face files give one).")
    return np.where(column.isin(SPLITS), column.astype(str), "").astype(object)


def plan_split(manifest: pd.DataFrame, num_classes: int, ignore_index: int | None,
               config: SplitConfig, link_distance: int | None = None,
               fixed: np.ndarray | None = None) -> SplitPlan:
    """Groups, cut (when `config.max_group_size`), assign and seal; pure and seeded.

    `link_distance` (default `config.near_duplicate_distance`) is the pHash distance within
    which two pairs of a cut group count as near duplicates when the cuts are sealed.
    `fixed` (from `source_splits`) holds splits decided already: those pairs keep theirs,
    and only the others are assigned, by the ratios, among themselves.
    """
    if fixed is not None and (fixed != "").any():
        plan = SplitPlan(fixed.copy(), np.arange(len(manifest)), np.arange(len(manifest)),
                         np.zeros(len(manifest), np.int64), np.zeros(len(manifest), np.int64),
                         [""] * len(manifest), None)
        rest = np.flatnonzero(fixed == "")
        if len(rest):
            sub = plan_split(manifest.iloc[rest].reset_index(drop=True), num_classes,
                             ignore_index, config, link_distance)
            plan.splits[rest] = sub.splits
            plan.groups[rest] = rest[sub.groups]
            plan.whole_groups[rest] = rest[sub.whole_groups]
        return plan
    n = len(manifest)
    whole = split_groups(manifest, config) if n else np.zeros(0, dtype=np.int64)
    limit = group_limit(config.max_group_size, n)
    groups, block, blocks = whole, np.zeros(n, np.int64), np.zeros(n, np.int64)
    if limit is not None and n:
        order = manifest[config.group_column] if config.group_column else None
        groups, block, blocks = cut_groups(whole, limit, order)
    splits = stratified_split(manifest, num_classes, ignore_index, config, groups=groups)
    gap = [""] * n
    if (block > 0).any():
        ratio = dict(zip(SPLITS, config.ratios))
        priority = sorted(SPLITS, key=lambda name: -ratio[name])
        distance = config.near_duplicate_distance if link_distance is None else link_distance
        splits = gather_blocks(splits, whole, block, priority)
        splits, gap = seal_cuts(manifest, splits, block > 0, distance, priority)
    return SplitPlan(splits, groups, whole, block, blocks, gap, limit)


def split_dataset(dataset: Dataset, config: SplitConfig) -> StepResult:
    """A new dataset whose manifest has `split` and `split_group` filled in, and a 'split'
    step in its history; the result's `table` is the split report (also in its reports).

    Refuses datasets holding augmented pairs: augment after splitting, so that copies of a training pair stay in train. Refuses a
    split that leaves a split with a ratio > 0 empty (the groups are too large); the
    summary's `warnings` name splits far from their ratio.

    With `config.max_group_size`, groups larger than that many pairs are cut into contiguous
    blocks (in --group-column order, else dataset order; for video, frame order) that are
    assigned like groups; the blocks a split gets from one group are then laid side by side
    (`gather_blocks`), so at most two cuts per group change split. A cut must not leak: where two pairs of one cut group within the
    near-duplicate distance land in different splits, the one in the split with the larger
    ratio is left out of every split (split '' and the reason in `split_gap`). The manifest
    then also records `split_block` (group id, block k/n) for every pair of a cut group.
    """
    if len(dataset) == 0:
        raise InputError("The dataset has no pairs to split.")
    manifest = build_manifest(dataset)
    if "origin" in manifest.columns and (manifest["origin"] == "augmented").any():
        count = int((manifest["origin"] == "augmented").sum())
        raise InputError(
            f"The dataset holds {count} augmented pairs; split the dataset before augmenting "
            "it (run `curate split` on the un-augmented data, then `curate augment` on the "
            "result) so that augmented copies stay in train with their originals."
        )
    needed = [f"px_{k}" for k in range(dataset.num_classes)] + ["image_sha1", "phash"]
    manifest = with_features(dataset, manifest, needed)
    manifest, sequence_note = with_sequences(manifest, config)
    fixed = source_splits(manifest, config)
    plan = plan_split(manifest, dataset.num_classes, dataset.ignore_index, config,
                      grouping_distance(dataset, manifest, config), fixed)
    splits, groups = plan.splits, plan.groups
    pairs = {name: int((splits == name).sum()) for name in SPLITS}
    if fixed is None:
        refuse_empty(pairs, plan, config)
    # Columns of an earlier split's cut would describe a split that is no longer there.
    manifest = manifest.drop(columns=["split_block", "split_gap"], errors="ignore")
    manifest["split"] = splits
    sizes = np.bincount(groups, minlength=len(groups))
    ids = manifest["id"].astype(str).to_numpy()
    manifest["split_group"] = np.where(sizes[groups] > 1, ids[groups], "")
    if plan.limit is not None:
        manifest["split_block"] = [f"{ids[g]} {b}/{c}" if b else "" for g, b, c in
                                   zip(plan.whole_groups, plan.block, plan.blocks)]
        manifest["split_gap"] = plan.gap
    report = split_report(manifest, splits, dataset.num_classes, dataset.ignore_index,
                          dataset.class_names)
    summary = {
        "pairs": pairs,
        "groups_kept_together": int((sizes > 1).sum()),
        "pairs_in_groups": int(sizes[sizes > 1].sum()),
        "worst_deviation_pp": worst_deviation(report),
    }
    if plan.limit is not None:
        summary["cut"] = cut_summary(plan)
    if sequence_note:
        summary["sequences"] = sequence_note
    if fixed is not None:
        summary["kept_source_split"] = int((fixed != "").sum())
    warnings = far_off_warnings(pairs, plan, config) if fixed is None else []
    if warnings:
        summary["warnings"] = warnings
    options = asdict(config)
    options["ratios"] = list(config.ratios)
    if config.max_group_size is None:       # the default: records stay as they were before it
        del options["max_group_size"]
    if not config.keep_source_split:
        del options["keep_source_split"]
    if not sequence_note:                   # no video names: nothing to record
        del options["sequences"]
    reports = {"split_report.csv": report.to_csv(index=False), "split.png": split_figure(report)}
    return StepResult(recorded(dataset, "split", options, summary, manifest=manifest), summary,
                      reports, table=report)
