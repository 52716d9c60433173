"""Rank masks by how well one simple edit would reconcile them with out-of-fold predictions.

Each pair is described by segment/label_quality/evidence.py: pair figures, the gains one edit
of its mask would buy, how the disputed island looks in the image, how the mask's borders sit
on the image's edges and where the dispute lies.

How much of each kind of evidence a wrong mask shows depends on the dataset and the model, so
a combination is learned per table (edit_probability): one of segment/label_quality/mask_edits.py's four
edits is applied to copies of the table's own masks, the copies are described by the same
figures against the same probabilities, and a small gradient-boosted classifier learns to tell
an edited copy from a mask as given; edit_probability is its probability that a mask looks
edited, the mean of LEARN_ROUNDS plantings. The masks as given count as unedited, a few wrong
ones among them included; no planted copy is ever scored. The classifier is monotone in every
column with a direction (DIRECTIONS: more disagreement, a larger gain, a lower softmin can
only raise the probability), so it cannot learn that a mask the model contradicts everywhere
looks clean because no edit it was shown did that.

A classifier still knows only what it was taught: masks wrong in a way no edit makes rank
low by edit_probability (held out of the edits, a swapped class falls below chance, because
the edits it still sees mostly move borders). So `score` is led by the evidence itself, which
no learning shapes (rank_score). Each evidence column becomes Fisher's -log(1 - rank), rank
its percentile rank in the table in its DIRECTIONS sense, so one column near the top counts
much more than several merely high ones. The columns fall into three FAMILIES that each tell
one thing: how much and how surely the model disputes the mask (disagreement), whether the
borders sit where the model and the image put them (geometry), and whether a disputed island
looks like the class it was given (appearance). A family counts by the mean of its columns, so
a family of many columns does not outvote one of few; disagreement counts twice, and softmin
(cleanlab's image score) once more on its own, because every kind of wrong mask shows
disagreement while only some move a border or show in the image. The sum is ranked and
turned to -log(1 - rank) again, and edit_probability adds LEARNED_WEIGHT x -log(1 -
probability): an edited-looking mask moves up, but a mask with strong evidence of a kind
the classifier never saw is not buried by it. `score` is the percentile rank of that.
Tables of fewer than MIN_LEARN_PAIRS labelled pairs (too few to learn from) rank by the
evidence alone. docs/results/label-quality.md has it measured on held-out plantings, with
kinds of error the edits do not make and with each edit held out in turn.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from curate.io.contract import LABEL_QUALITY_COLUMNS
from segment.errors import InputError
from segment.label_quality import mask_edits
from segment.label_quality.evidence import describe

# label_quality.csv's columns are part of the folder contract (curate reads the table back).
QUALITY_COLUMNS = list(LABEL_QUALITY_COLUMNS)
# What the classifier of learned_score reads: every number of a row but its size, and the
# direction it may move the probability in (+1 up, -1 down, 0 either way).
DIRECTIONS = {"low_share": 1, "pair_share": 1, "pair_confidence": 1, "mean_disagreement": 1,
              "softmin": -1, "region_gain": 1, "island_gain": 1, "island_share": 1,
              "island_touch": -1, "enclosed_gain": 1, "boundary_gain": 1, "shift_gain": 1,
              "island_contrast": 1, "island_texture": 0, "island_edge": 0, "island_likeness": 1,
              "edge_align": -1, "edge_shift": 1}
LEARNED_FEATURES = list(DIRECTIONS)
# rank_score's evidence families (columns taken in their DIRECTIONS sense) and their weights;
# softmin counts once more on its own and edit_probability by LEARNED_WEIGHT (see above).
FAMILIES = {"disagreement": ("low_share", "pair_share", "pair_confidence", "mean_disagreement",
                             "softmin", "region_gain", "island_gain", "island_share",
                             "enclosed_gain"),
            "geometry": ("boundary_gain", "shift_gain", "edge_shift", "edge_align",
                         "island_touch"),
            "appearance": ("island_contrast", "island_likeness")}
FAMILY_WEIGHTS = {"disagreement": 2.0, "geometry": 1.0, "appearance": 1.0}
SOFTMIN_WEIGHT = 1.0
LEARNED_WEIGHT = 0.25
REGION_WEIGHT = 0.25  # of -log(1 - region_probability): any of the pair's regions (regions.py)
MIN_LEARN_PAIRS = 100  # labelled pairs a table needs for learned_score
MAX_EDITS_PER_KIND = 1000  # edited copies of each kind a planting makes at most
LEARN_ROUNDS = 3  # plantings, each with its own classifier; score is their mean


def _fisher(values) -> np.ndarray:
    """Fisher's -log(1 - r + 1 / 2N) of the values' percentile ranks r (ties share their mean
    rank): about 0.7 at the median, log 2N at the top."""
    values = pd.Series(np.asarray(values, float))
    return -np.log(1.0 - values.rank(pct=True).to_numpy() + 0.5 / max(len(values), 1))


def rank_score(table: pd.DataFrame, learned: str | None = None,
               region: str | None = None) -> np.ndarray:
    """(N,) percentile rank (ties share their mean rank) of the evidence's combination (see
    the module's text): the FAMILIES' mean Fisher ranks weighted by FAMILY_WEIGHTS, plus
    softmin's (lowest first) by SOFTMIN_WEIGHT, ranked again; with `learned` (a probability
    column) plus LEARNED_WEIGHT x -log(1 - p). 0 for a pair with nothing labelled."""
    evidence = SOFTMIN_WEIGHT * _fisher(-table["softmin"])
    for family, columns in FAMILIES.items():
        evidence = evidence + FAMILY_WEIGHTS[family] * np.mean(
            [_fisher(DIRECTIONS[c] * table[c]) for c in columns], axis=0)
    combined = _fisher(evidence)
    if learned:
        combined = combined - LEARNED_WEIGHT * np.log1p(-table[learned].clip(0, 0.999)
                                                         .to_numpy(float))
    if region:
        combined = combined - REGION_WEIGHT * np.log1p(-table[region].clip(0, 0.999)
                                                        .to_numpy(float))
    score = pd.Series(combined).rank(pct=True).to_numpy(copy=True)
    score[table["labelled_pixels"].to_numpy() == 0] = 0.0
    return np.round(score, 5)


def edited_copies(table: pd.DataFrame, probs, masks, ignore_index: int | None,
                  num_classes: int, seed, images=None,
                  kinds: tuple[str, ...] = mask_edits.KINDS) -> pd.DataFrame:
    """describe() of edited copies of the table's labelled masks (segment/label_quality/mask_edits.py's
    `kinds`, up to a quarter of the pairs and MAX_EDITS_PER_KIND per kind), each against its
    pair's probabilities (and image, with `images`), with columns row and kind."""
    rows = np.flatnonzero(table["labelled_pixels"].to_numpy() > 0)
    per_kind = min(max(len(rows) // 4, 1), MAX_EDITS_PER_KIND)
    at, made, edited = mask_edits.plant_edits(masks, ignore_index, num_classes, rows,
                                              per_kind, seed, kinds)
    described = [describe(np.asarray(probs[r]), m, ignore_index, _image(images, r),
                          for_people=False) for r, m in zip(at, edited)]
    return pd.DataFrame(described).assign(row=at, kind=made)


def edit_classifier(table: pd.DataFrame, edited: pd.DataFrame):
    """A gradient-boosted classifier of LEARNED_FEATURES fitted on the table's labelled rows
    (unedited) against `edited`, monotone in each feature as DIRECTIONS says; each kind of
    edit weighs as much as the others, all together as much as the rows."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    labelled = table["labelled_pixels"].to_numpy() > 0
    given = table.loc[labelled, LEARNED_FEATURES].to_numpy(float)
    x = np.concatenate([given, edited[LEARNED_FEATURES].to_numpy(float)])
    y = np.r_[np.zeros(len(given)), np.ones(len(edited))]
    kind_size = edited["kind"].map(edited["kind"].value_counts()).to_numpy(float)
    weight = np.r_[np.ones(len(given)),
                   len(given) / (edited["kind"].nunique() * kind_size)]
    model = HistGradientBoostingClassifier(max_depth=3, max_iter=200, early_stopping=False,
                                           random_state=0,
                                           monotonic_cst=[DIRECTIONS[c] for c in LEARNED_FEATURES])
    return model.fit(x, y, sample_weight=weight)


def learned_score(table: pd.DataFrame, edited: pd.DataFrame) -> np.ndarray:
    """(N,) probability that each row looks like an edited copy, by edit_classifier. 0 with
    nothing labelled."""
    labelled = table["labelled_pixels"].to_numpy() > 0
    score = np.zeros(len(table))
    score[labelled] = edit_classifier(table, edited).predict_proba(
        table.loc[labelled, LEARNED_FEATURES].to_numpy(float))[:, 1]
    return np.round(score, 5)


def edit_probability(table: pd.DataFrame, probs, masks, ignore_index: int | None,
                     num_classes: int, seed: int = 0, images=None,
                     kinds: tuple[str, ...] = mask_edits.KINDS
                     ) -> tuple[np.ndarray | None, str]:
    """(probability, note): the mean learned_score of LEARN_ROUNDS plantings of edited
    copies of `kinds` (seeds (seed, round); one planting's score varies with which masks it
    edits) and what it learned from; (None, why) with fewer than MIN_LEARN_PAIRS labelled
    pairs or when no edit applies to these masks. `kinds` is for benchmarks that hold a kind
    out (leave-one-kind-out); the table always learns from all."""
    labelled = int((table["labelled_pixels"] > 0).sum())
    if labelled < MIN_LEARN_PAIRS:
        return None, f"{labelled} labelled pairs; learning needs {MIN_LEARN_PAIRS}"
    scores, counts = [], pd.Series(dtype=int)
    for round_ in range(LEARN_ROUNDS):
        edited = edited_copies(table, probs, masks, ignore_index, num_classes, (seed, round_),
                               images, kinds)
        if len(edited):
            scores.append(learned_score(table, edited))
            counts = counts.add(edited["kind"].value_counts(), fill_value=0)
    if not scores:
        return None, "no edit applies to these masks"
    kinds = ", ".join(f"{k} {int(n)}" for k, n in counts.items())
    return np.round(np.mean(scores, 0), 5), (f"learned from {int(counts.sum())} edited copies "
                                             f"of the masks in {len(scores)} plantings "
                                             f"({kinds}), seed {seed}")


def _image(images, i: int) -> np.ndarray | None:
    return None if images is None else np.asarray(images[i])


def quality_table(probs, masks, ids: list[str], fold_of: np.ndarray, ignore_index: int | None,
                  class_names: list[str], seed: int = 0, images=None,
                  edit_kinds: tuple[str, ...] = mask_edits.KINDS,
                  region_any: np.ndarray | None = None, region_note: str = "") -> pd.DataFrame:
    """One row per pair (in the order of probs): its fold, pair_figures (class pair by name),
    evidence, dispute (classes by name), edit_probability, region_probability and score (how
    they were made: the table's attrs["score"]). `images` (N, C, H, W), in the same order,
    feed IMAGE_COLUMNS; without them those are 0. `edit_kinds`: the edits edit_probability
    learns from (all but in benchmarks that hold one out). `region_any`: the probability
    that any of each pair's regions is wrong (regions.any_region; 0 without), made as
    `region_note` says."""
    records = []
    for i, pid in enumerate(ids):
        row = describe(np.asarray(probs[i]), np.asarray(masks[i]), ignore_index,
                       _image(images, i))
        for key in ("given_class", "predicted_class", "dispute_given", "dispute_predicted"):
            row[key] = "" if row[key] == "" else class_names[row[key]]
        records.append({"id": pid, "row": i, "fold": int(fold_of[i]), **row})
    table = pd.DataFrame(records, columns=QUALITY_COLUMNS[:-3])
    learned, why = (None, "no pairs") if table.empty else edit_probability(
        table, probs, masks, ignore_index, len(class_names), seed, images, tuple(edit_kinds))
    table["edit_probability"] = np.zeros(len(table)) if learned is None else learned
    region = region_any is not None and bool(np.any(region_any > 0))
    table["region_probability"] = (np.round(np.asarray(region_any, float), 5) if region
                                   else np.zeros(len(table)))
    families = " + ".join(f"{FAMILY_WEIGHTS[f]:g} x {f}" for f in FAMILIES)
    how = f"rank of the evidence ({families} + softmin, as Fisher ranks)"
    plus = f" + {REGION_WEIGHT:g} x -log(1 - region_probability)" if region else ""
    after = f"; region_probability: {region_note}" if region else ""
    if learned is None:
        table["score"] = rank_score(table, region="region_probability" if region else None)
        table.attrs["score"] = f"{how}{plus}; edit_probability not learned: {why}{after}"
    else:
        table["score"] = rank_score(table, learned="edit_probability",
                                    region="region_probability" if region else None)
        table.attrs["score"] = (f"{how} + {LEARNED_WEIGHT:g} x -log(1 - edit_probability)"
                                f"{plus}; edit_probability {why}{after}")
    return table


def label_quality(probs, masks, ids: list[str], fold_of: np.ndarray, ignore_index: int | None,
                  class_names: list[str], seed: int = 0, images=None,
                  edit_kinds: tuple[str, ...] = mask_edits.KINDS,
                  region_edits: tuple[str, ...] | None = None
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(label_quality table, label_regions table): the regions the model disputes
    (segment/label_quality/regions.py) first, then quality_table with the probability that
    any of each pair's regions is wrong. `region_edits`: the region edits its classifier
    learns from (default all)."""
    from segment.label_quality import regions

    found, note = regions.regions_table(probs, masks, ids, ignore_index, class_names, seed,
                                        images, tuple(region_edits or regions.REGION_EDITS))
    table = quality_table(probs, masks, ids, fold_of, ignore_index, class_names, seed, images,
                          edit_kinds, regions.any_region(found, len(ids)), note)
    return table, found


def rescore(run: str | Path, data: str | Path | None = None
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(label_quality table, label_regions table) of an existing `segment crossval` run,
    recomputed from its oof_probs.npy and the dataset's masks (no training). `data` defaults
    to the run's."""
    from segment.data.folder import load_dataset, load_split

    run = Path(run)
    needed = [run / "crossval.json", run / "label_quality.csv", run / "oof_probs.npy"]
    missing = [p.name for p in needed if not p.is_file()]
    if missing:
        raise InputError(f"{run} is not a `segment crossval` run: {', '.join(missing)} missing; "
                         "pass the -o folder of `segment crossval`")
    meta = json.loads((run / "crossval.json").read_text())
    old = pd.read_csv(run / "label_quality.csv", dtype={"id": str}, keep_default_na=False)
    info = load_dataset(Path(data or meta["data"]))
    images, masks, ids = load_split(info, "train")
    if list(ids) != old["id"].tolist():
        raise InputError(f"the train pairs of {info.root} are not the ones {run} was run on; "
                         "pass the dataset `segment crossval` read (its DATA)")
    probs = np.load(run / "oof_probs.npy", mmap_mode="r")  # (N, C, H, W) float16
    seed = int(meta.get("config", {}).get("seed", 0))
    return label_quality(probs, masks, list(ids), old["fold"].to_numpy(), info.ignore_index,
                         info.class_names, seed, images)
