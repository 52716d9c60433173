"""segment.label_quality.score and .evidence: each planted kind of mask error outranks clean masks, on synthetic
masks with synthetic out-of-fold probabilities; rescoring an existing run."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage

from conftest import write_dataset
from segment.label_quality.score import QUALITY_COLUMNS, quality_table
from segment.errors import InputError
from segment.label_quality.evidence import EVIDENCE_COLUMNS, evidence
from segment.label_quality.score import rescore

H, W, CLASSES = 64, 128, 5


def true_mask(rng: np.random.Generator) -> np.ndarray:
    """Soil above a wavy horizon, bedrock or sand below, a big rock somewhere, the top rows
    unlabelled (ignore class 0)."""
    y = np.arange(H)[:, None]
    horizon = 30 + 8 * np.sin(np.arange(W) / rng.uniform(8, 20) + rng.uniform(0, 6))
    mask = np.where(y < horizon, 1, rng.choice([2, 3])).astype(np.uint8)
    cy, cx, r = rng.integers(12, 52), rng.integers(20, 108), rng.integers(6, 10)
    yy, xx = np.mgrid[:H, :W]
    mask[(yy - cy) ** 2 + ((xx - cx) / 1.5) ** 2 < r ** 2] = 4
    mask[:4] = 0
    return mask


def model_probs(truth: np.ndarray, rng: np.random.Generator, sure: float) -> np.ndarray:
    """(C, H, W) probabilities of a soft model that sees the truth, blurred at borders and
    noisy; `sure` scales its confidence (a hard image gets a low one)."""
    onehot = np.stack([ndimage.gaussian_filter((truth == c).astype(float), 1.5)
                       for c in range(CLASSES)])
    logits = sure * 4 * onehot + ndimage.gaussian_filter(rng.normal(0, 1.5, onehot.shape),
                                                         (0, 3, 3))
    logits[0] = -np.inf  # the ignore class is never predicted
    p = np.exp(logits - logits.max(0))
    return (p / p.sum(0)).astype(np.float16)


def swap(mask):
    out = mask.copy()
    out[mask == 1] = 3 if (mask == 2).any() else 2
    return out


def grow(mask):
    """Soil grows 5 px into what lies below it."""
    out = mask.copy()
    below = (mask == 2) | (mask == 3)
    grown = ndimage.binary_dilation(mask == 1, iterations=5)
    out[grown & below] = 1
    return out


def shift(mask):
    out = np.zeros_like(mask)
    out[6:, 6:] = mask[:-6, :-6]
    return out


def delete_rock(mask):
    out = mask.copy()
    rock = mask == 4
    ring = ndimage.binary_dilation(rock, iterations=2) & ~rock & (mask != 0)
    out[rock] = np.bincount(mask[ring]).argmax()
    return out


PLANT = {"class_swap": swap, "erode_dilate": grow, "shift": shift, "object_deleted": delete_rock}


def plant_pairs(clean: int, per_kind: int, seed: int):
    """`clean` clean pairs (a third of them hard images the model is unsure of), then
    `per_kind` of each planted error in turn; probabilities always follow the true mask."""
    rng = np.random.default_rng(seed)
    masks, probs, kinds = [], [], []
    for i in range(clean + per_kind * len(PLANT)):
        truth = true_mask(rng)
        kind = list(PLANT)[(i - clean) % len(PLANT)] if i >= clean else ""
        probs.append(model_probs(truth, rng, sure=0.35 if i % 3 == 0 else 1.0))
        masks.append(PLANT[kind](truth) if kind else truth)
        kinds.append(kind)
    return np.stack(masks), np.stack(probs), kinds


@pytest.fixture(scope="module")
def planted():
    """40 pairs: 36 clean, then one of each planted error."""
    return plant_pairs(36, 1, seed=0)


def test_each_planted_error_outranks_every_clean_mask(planted):
    masks, probs, kinds = planted
    ids = [f"pair{i:03d}" for i in range(len(masks))]
    table = quality_table(probs, masks, ids, np.zeros(len(ids), int), 0,
                          ["none", "soil", "bedrock", "sand", "big rock"])
    assert list(table.columns) == QUALITY_COLUMNS
    clean_best = table["score"][:36].max()
    for i, kind in enumerate(kinds[36:], start=36):
        assert table["score"][i] > clean_best, (kind, table.iloc[i].to_dict(), clean_best)
    # The old score (mean 1 - p(given)) is led by the hard images, not the errors.
    old_top = set(table.sort_values("mean_disagreement", ascending=False)["id"][:4])
    assert len(old_top & set(ids[36:])) < 4
    assert table["score"].between(0, 1).all()


def test_each_error_shows_in_the_evidence_meant_for_it(planted):
    masks, probs, kinds = planted
    clean = pd.DataFrame([evidence(probs[i], masks[i], 0) for i in range(36)])
    expected = {"class_swap": "region_gain", "object_deleted": "island_gain",
                "erode_dilate": "boundary_gain", "shift": "shift_gain"}
    for i, kind in enumerate(kinds[36:], start=36):
        column = expected[kind]
        assert evidence(probs[i], masks[i], 0)[column] > clean[column].max(), kind


def test_evidence_is_zero_for_nothing_labelled_and_for_a_perfect_model():
    mask = np.zeros((H, W), np.uint8)
    probs = np.full((CLASSES, H, W), 0.25, np.float16)
    probs[0] = 0
    assert evidence(probs, mask, 0) == dict.fromkeys(EVIDENCE_COLUMNS, 0)
    truth = true_mask(np.random.default_rng(1))
    exact = np.stack([(truth == c) for c in range(CLASSES)]).astype(np.float16)
    assert all(v == 0 for v in evidence(exact, truth, 0).values())


def test_rescore_recomputes_a_run_and_refuses_another_dataset(planted, tmp_path):
    masks, probs, _ = planted
    images = np.random.default_rng(0).integers(0, 255, (8, H, W), dtype=np.uint8)
    data = write_dataset(tmp_path / "data", images, masks[32:40], ["train"] * 8)
    run = tmp_path / "run"
    run.mkdir()
    np.save(run / "oof_probs.npy", probs[32:40])
    ids = [f"pair{i:03d}" for i in range(8)]
    (run / "crossval.json").write_text(json.dumps({"data": str(data)}))
    pd.DataFrame({"id": ids, "fold": [0, 1] * 4}).to_csv(run / "label_quality.csv", index=False)
    table, _ = rescore(run)
    assert table["id"].tolist() == ids and table["fold"].tolist() == [0, 1] * 4
    assert table.sort_values("score")["id"].tolist()[-1] in ids[4:]  # a planted pair leads
    other = write_dataset(tmp_path / "other", images[:3], masks[:3], ["train"] * 3)
    with pytest.raises(InputError, match="not the ones"):
        rescore(run, other)
    (run / "oof_probs.npy").unlink()
    with pytest.raises(InputError, match="oof_probs.npy missing"):
        rescore(run)


def test_island_gain_is_per_pixel_of_the_region_and_region_gain_per_labelled_pixel():
    """A 4x4 island the model is sure is bedrock inside a soil mask, and half the frame where
    it mildly prefers sand: island_gain is the island's per-pixel gain, region_gain the half
    frame's total over the mask; an island under 1 % of the image does not count."""
    from segment.label_quality.evidence import _log_probs, islands, region_gain

    def island_gain(*args):
        return islands(*args)["island_gain"]

    mask = np.ones((32, 32), np.uint8)
    probs = np.zeros((5, 32, 32), np.float32)
    probs[1:5] = np.array([0.9, 0.05, 0.03, 0.02])[:, None, None]
    probs[1:5, 16:, :] = np.array([0.4, 0.05, 0.5, 0.05])[:, None, None]
    probs[1:5, 2:6, 2:6] = np.array([0.03, 0.95, 0.01, 0.01])[:, None, None]
    logp, labelled = _log_probs(probs), mask != 0
    assert island_gain(logp, mask, labelled) == pytest.approx(np.log(0.95 / 0.03), rel=1e-4)
    found = islands(logp, mask, labelled)  # the island is enclosed: no bedrock in the mask
    assert found["island_share"] == pytest.approx(16 / 1024) and found["island_touch"] == 0
    assert found["enclosed_gain"] == found["island_gain"]
    assert region_gain(logp, mask, labelled) == pytest.approx(512 * np.log(0.5 / 0.4) / 1024, rel=1e-4)
    small = probs.copy()
    small[1:5, 2:6, 2:6] = probs[1:5, :1, :1]  # back to agreeing soil
    small[1:5, 2:5, 2:5] = np.array([0.03, 0.95, 0.01, 0.01])[:, None, None]  # 9 px < 1 %
    assert island_gain(_log_probs(small), mask, labelled) == pytest.approx(np.log(0.5 / 0.4), rel=1e-4)


def test_island_touch_tells_a_spill_over_a_border_from_an_enclosed_island():
    """Soil above, bedrock below: the model calls 3 rows of soil above the border bedrock (a
    spill: its rim is half bedrock in the mask) and a 5x5 patch in the soil sand (enclosed)."""
    from segment.label_quality.evidence import _log_probs, islands

    mask = np.ones((32, 32), np.uint8)
    mask[16:] = 2
    probs = np.full((5, 32, 32), 0.02, np.float32)
    probs[0] = 0
    probs[1, :16], probs[2, 16:] = 0.94, 0.94
    probs[1, 13:16], probs[2, 13:16] = 0.3, 0.64  # spill: bedrock 3 rows into the soil
    probs[1, 3:8, 3:8], probs[3, 3:8, 3:8] = 0.04, 0.92  # enclosed sand patch
    found = islands(_log_probs(probs), mask, mask != 0)
    assert found["island_gain"] == pytest.approx(np.log(0.92 / 0.04), rel=1e-4)
    assert found["island_touch"] == 0 and found["enclosed_gain"] == found["island_gain"]
    probs[3, 3:8, 3:8], probs[1, 3:8, 3:8] = 0.02, 0.94  # the patch agrees again
    found = islands(_log_probs(probs), mask, mask != 0)
    assert found["island_gain"] == pytest.approx(np.log(0.64 / 0.3), rel=1e-4)
    assert found["island_touch"] > 0.3 and found["enclosed_gain"] == 0


def test_island_figures_tell_a_patch_that_looks_like_another_class_from_one_that_does_not():
    """Soil above, bedrock (rough texture) below, a smooth bright sand strip on the right.
    The model calls an 8x8 patch of the bedrock sand. Where the image shows a smooth bright
    patch there (a deleted sand patch), the figures say it differs from the rest of bedrock
    and resembles the sand; where the image shows bedrock there (the model's mistake), they
    say it looks like the rest of its class. Without an image they are 0."""
    from segment.label_quality.evidence import EDGE_COLUMNS, IMAGE_COLUMNS

    rng = np.random.default_rng(0)
    mask = np.ones((32, 48), np.uint8)
    mask[16:], mask[16:, 40:] = 2, 3
    image = np.full((1, 32, 48), 90.0)
    image[0, 16:] = 110 + rng.normal(0, 25, (16, 48))  # rough bedrock
    image[0, 16:, 40:] = 170  # smooth bright sand
    probs = np.full((5, 32, 48), 0.02, np.float32)
    probs[0] = 0
    probs[1, :16], probs[2, 16:, :40], probs[3, 16:, 40:] = 0.94, 0.94, 0.94
    probs[2, 20:28, 10:18], probs[3, 20:28, 10:18] = 0.04, 0.92  # the model: sand
    deleted = image.copy()
    deleted[0, 20:28, 10:18] = 170
    looks_deleted = evidence(probs, mask, 0, deleted.clip(0, 255).astype(np.uint8))
    looks_mistaken = evidence(probs, mask, 0, image.clip(0, 255).astype(np.uint8))
    assert looks_deleted["island_contrast"] > 1.5 > looks_mistaken["island_contrast"]
    assert looks_deleted["island_texture"] < -0.5 < looks_mistaken["island_texture"]
    assert looks_deleted["island_likeness"] > 0.3 and looks_mistaken["island_likeness"] < 0
    assert looks_deleted["island_edge"] > looks_mistaken["island_edge"]
    rgb = np.repeat(deleted.clip(0, 255).astype(np.uint8), 3, axis=0)  # channels averaged
    assert evidence(probs, mask, 0, rgb) == looks_deleted
    blind = evidence(probs, mask, 0)
    seen = IMAGE_COLUMNS + EDGE_COLUMNS
    assert all(blind[c] == 0 for c in seen)
    assert {c: blind[c] for c in EVIDENCE_COLUMNS if c not in seen} == \
        {c: looks_deleted[c] for c in EVIDENCE_COLUMNS if c not in seen}


def test_edge_figures_tell_a_border_on_the_images_edge_from_one_drawn_beside_it():
    """The image is dark above row 30 and bright below; a mask whose class border lies on
    row 30 sits on that edge (edge_shift 0), one whose border lies on row 25 would fit better
    moved 5 px (edge_shift > 0, edge_align lower); a mask of one class has no border to judge
    (neutral 1 and 0). The model plays no part."""
    from segment.label_quality.evidence import edge_figures

    image = np.full((1, 64, 128), 40.0)
    image[0, 30:] = 200
    on = np.where(np.arange(64)[:, None] < 30, 1, 2).repeat(128, 1).astype(np.uint8)
    beside = np.where(np.arange(64)[:, None] < 25, 1, 2).repeat(128, 1).astype(np.uint8)
    labelled = np.ones((64, 128), bool)
    good, off = edge_figures(image, on, labelled), edge_figures(image, beside, labelled)
    assert good["edge_shift"] == pytest.approx(0.0, abs=1e-6) and good["edge_align"] > 5
    assert off["edge_shift"] > 5 and off["edge_align"] < 0.5
    assert edge_figures(image, np.ones((64, 128), np.uint8), labelled) == \
        {"edge_align": 1.0, "edge_shift": 0.0}
    assert edge_figures(image, beside, labelled, max_shift=2)["edge_shift"] < 1e-6  # too far


@pytest.fixture(scope="module")
def planted_many():
    """160 pairs (MIN_LEARN_PAIRS or more): 144 clean, then 4 of each planted error."""
    return plant_pairs(144, 4, seed=10)


@pytest.mark.slow
def test_a_table_large_enough_learns_an_edit_probability_that_joins_the_rank(planted_many):
    from segment.label_quality.score import MIN_LEARN_PAIRS

    masks, probs, kinds = planted_many
    assert len(masks) >= MIN_LEARN_PAIRS
    ids = [f"pair{i:03d}" for i in range(len(masks))]
    names = ["none", "soil", "bedrock", "sand", "big rock"]
    table = quality_table(probs, masks, ids, np.zeros(len(ids), int), 0, names, seed=3)
    how = table.attrs["score"]
    assert how.startswith("rank of the evidence (2 x disagreement + 1 x geometry + 1 x "
                          "appearance + softmin, as Fisher ranks) + 0.25 x -log(1 - "
                          "edit_probability); edit_probability learned from 480 edited copies")
    assert all(k in how for k in ("relabel 120", "border 120", "shift 120", "delete 120"))
    assert table["edit_probability"].between(0, 1).all() and table["score"].between(0, 1).all()
    planted = np.array(kinds) != ""
    # The learned probability alone already puts the planted errors on top ...
    top = table.sort_values("edit_probability", ascending=False, kind="stable").index
    assert planted[top[:2 * planted.sum()]].sum() >= 0.8 * planted.sum(), table[planted]
    # ... and the score is the evidence's families plus a share of it, written out again here.
    assert np.allclose(table["score"], expected_score(table), atol=1e-5)
    top = table.sort_values("score", ascending=False, kind="stable").index
    assert planted[top[:2 * planted.sum()]].sum() >= 0.8 * planted.sum()
    again = quality_table(probs, masks, ids, np.zeros(len(ids), int), 0, names, seed=3)
    pd.testing.assert_frame_equal(again, table)


def expected_score(table: pd.DataFrame) -> np.ndarray:
    """The score as docs/results/label-quality.md states it, written independently of
    rank_score: disagreement (twice), geometry and appearance as the mean Fisher rank of their
    columns, softmin's once more, ranked again, plus a quarter of -log(1 - edit_probability)."""
    n = len(table)

    def fisher(values):
        return -np.log(1 - pd.Series(values).rank(pct=True) + 0.5 / n)

    worse_when_low = {"softmin", "island_touch", "edge_align"}
    families = ([2, "low_share pair_share pair_confidence mean_disagreement softmin region_gain "
                    "island_gain island_share enclosed_gain"],
                [1, "boundary_gain shift_gain edge_shift edge_align island_touch"],
                [1, "island_contrast island_likeness"])
    evidence = fisher(-table["softmin"])
    for weight, columns in families:
        evidence += weight * pd.concat(
            [fisher(-table[c] if c in worse_when_low else table[c]) for c in columns.split()],
            axis=1).mean(axis=1)
    learned = -0.25 * np.log(1 - table["edit_probability"].clip(0, 0.999))
    return (fisher(evidence) + learned).rank(pct=True).to_numpy()


def test_every_directed_column_belongs_to_exactly_one_family():
    from segment.label_quality.score import DIRECTIONS, FAMILIES

    members = [c for columns in FAMILIES.values() for c in columns]
    assert sorted(members) == sorted(c for c, sense in DIRECTIONS.items() if sense)


def evidence_table(n: int) -> pd.DataFrame:
    """n pairs whose every evidence column is indifferent (one value), all labelled."""
    from segment.label_quality.score import DIRECTIONS

    return pd.DataFrame({"labelled_pixels": 1, "edit_probability": 0.0,
                         **dict.fromkeys(DIRECTIONS, 0.5)}, index=range(n))


def test_strong_evidence_of_an_unlearned_kind_is_not_buried_by_the_learned_column():
    """100 pairs. Pair 0: the model disputes its mask most of all (lowest softmin, the top
    disagreement figures), yet the classifier finds it least edited-looking (a kind of error
    it never saw). Pairs 1..99: the learned column ranks them, the evidence is indifferent.
    Pair 0 still ranks first; the learned column orders the rest; nothing labelled scores 0."""
    from segment.label_quality.score import rank_score

    table = evidence_table(100)
    table["edit_probability"] = np.linspace(0, 0.99, 100)
    table.loc[0, "edit_probability"] = 0.0
    table.loc[0, ["softmin", "low_share", "mean_disagreement", "island_gain"]] = [0.01, 1, 1, 5]
    score = rank_score(table, learned="edit_probability")
    assert score[0] == score.max()
    assert (np.diff(score[1:]) > 0).all()
    assert np.allclose(score, expected_score(table))
    generic = rank_score(table)  # small tables: the evidence alone
    assert generic[0] == generic.max() and np.unique(generic[1:]).size == 1
    table.loc[0, "labelled_pixels"] = 0
    assert rank_score(table, learned="edit_probability")[0] == 0.0


def test_a_family_counts_by_the_mean_of_its_columns():
    """Pair 1 tops seven disagreement columns, pair 2 both appearance columns, pair 3 one
    geometry column; the other 47 pairs are indifferent. Each moves above the indifferent
    pairs, by its family's mean Fisher rank times the family's weight, not by how many
    columns it tops (checked against the formula written out again)."""
    from segment.label_quality.score import FAMILIES, rank_score

    table = evidence_table(50)
    table.loc[1, [c for c in FAMILIES["disagreement"] if c not in ("softmin", "island_gain")]] = 1.0
    table.loc[2, list(FAMILIES["appearance"])] = 1.0
    table.loc[3, "boundary_gain"] = 1.0
    score = rank_score(table)
    assert list(np.argsort(-score)[:3]) == [1, 2, 3]
    assert np.allclose(score, expected_score(table))


def test_the_classifier_cannot_learn_that_more_disagreement_looks_clean():
    """Edited copies show a boundary gain and little disagreement; the masks as given show
    every level of disagreement and no boundary gain. Unconstrained, a classifier learns
    that much disagreement means "as given"; the monotone one of edit_classifier may not: of
    rows alike but for their disagreement, more of it (and a lower softmin) is never less
    likely edited."""
    from segment.label_quality.score import LEARNED_FEATURES, edit_classifier

    rng = np.random.default_rng(0)

    def rows(n):
        return pd.DataFrame({c: rng.uniform(0, 0.2, n) for c in LEARNED_FEATURES})

    table, edited = rows(300), rows(300)
    table["mean_disagreement"] = rng.uniform(0, 1, 300)
    edited["boundary_gain"] = rng.uniform(0.5, 1.0, 300)
    edited["mean_disagreement"] = rng.uniform(0, 0.3, 300)
    alike = pd.DataFrame([edited.iloc[0]] * 40).assign(mean_disagreement=np.linspace(0, 1, 40))
    for frame in (table, edited, alike):
        frame["low_share"] = frame["mean_disagreement"]
        frame["softmin"] = 1 - frame["mean_disagreement"]
    table["labelled_pixels"], edited["kind"] = 100, "border"
    model = edit_classifier(table, edited)
    p = model.predict_proba(alike[LEARNED_FEATURES].to_numpy(float))[:, 1]
    assert (np.diff(p) >= 0).all() and p[0] > 0.5


def test_a_small_table_ranks_by_the_generic_columns_alone(planted):
    masks, probs, _ = planted
    ids = [f"pair{i:03d}" for i in range(len(masks))]
    table = quality_table(probs, masks, ids, np.zeros(len(ids), int), 0,
                          ["none", "soil", "bedrock", "sand", "big rock"])
    assert table.attrs["score"].startswith("rank of the evidence (2 x disagreement + 1 x "
                                           "geometry + 1 x appearance + softmin, as Fisher "
                                           "ranks); edit_probability not learned")
    assert "not learned: 40 labelled pairs; learning needs 100" in table.attrs["score"]
    assert (table["edit_probability"] == 0).all()


def test_a_table_of_no_pairs_is_empty_not_an_error():
    table = quality_table(np.zeros((0, 5, 8, 8)), np.zeros((0, 8, 8), np.uint8), [],
                          np.zeros(0, int), 0, ["none", "soil", "bedrock", "sand", "big rock"])
    assert table.empty and list(table.columns) == QUALITY_COLUMNS
    assert "not learned: no pairs" in table.attrs["score"]


def test_dispute_names_the_island_the_model_is_sure_of():
    """A rock (class 4) deleted from the mask as bedrock (2): the region the model disputes is
    that rock's box, given bedrock, model says big rock, its pixel count; a weaker, smaller
    disagreement elsewhere is not the one named."""
    from segment.label_quality.evidence import DISPUTE_COLUMNS, describe

    truth = np.full((H, W), 1, np.uint8)
    truth[32:] = 2
    truth[40:52, 60:80] = 4           # the rock: 12 x 20 = 240 px
    mask = truth.copy()
    mask[40:52, 60:80] = 2            # deleted from the mask
    probs = np.full((CLASSES, H, W), 0.02, np.float32)
    for c in range(1, CLASSES):
        probs[c][truth == c] = 0.92
    probs[3, 10:20, 10:30] = 0.5      # a hesitant sand patch in the soil: smaller gain
    probs[1, 10:20, 10:30] = 0.4
    probs /= probs.sum(0)
    found = describe(probs, mask, 0)
    assert {k: found[k] for k in DISPUTE_COLUMNS} == {
        "dispute_box": "40 60 52 80", "dispute_given": 2, "dispute_predicted": 4,
        "dispute_pixels": 240}
    # row0 col0 row1 col1 are half-open: the island is exactly mask[40:52, 60:80]
    table = quality_table(probs[None], mask[None], ["p"], np.zeros(1, int), 0,
                          ["none", "soil", "bedrock", "sand", "big rock"])
    assert table.loc[0, ["dispute_given", "dispute_predicted"]].tolist() == ["bedrock",
                                                                            "big rock"]
    # edited copies skip what only people read; the rest is the same
    lean = describe(probs, mask, 0, for_people=False)
    assert lean == {k: v for k, v in found.items() if k not in DISPUTE_COLUMNS}
    exact = np.stack([(truth == c) for c in range(CLASSES)]).astype(np.float32)
    assert {k: describe(exact, truth, 0)[k] for k in DISPUTE_COLUMNS} == {
        "dispute_box": "", "dispute_given": "", "dispute_predicted": "", "dispute_pixels": 0}


def test_softmin_follows_cleanlabs_formula_and_ranks_a_confident_contradiction_low():
    from segment.label_quality.evidence import softmin

    p = np.array([0.9, 0.8, 0.05])
    w = np.exp(-p / 0.1)
    assert softmin(p) == pytest.approx(float((p * w).sum() / w.sum()))  # hand-computed
    assert softmin(np.array([0.7])) == pytest.approx(0.7)
    assert softmin(np.array([])) == 1.0
    # far below any p: weights underflow without the shift, and the score stays defined
    assert softmin(np.full(5, 0.9), temperature=1e-4) == pytest.approx(0.9)
    truth = true_mask(np.random.default_rng(3))
    probs = model_probs(truth, np.random.default_rng(3), 1.0)
    table = quality_table(np.stack([probs, probs]), np.stack([truth, swap(truth)]),
                          ["clean", "swapped"], np.zeros(2, int), 0,
                          ["none", "soil", "bedrock", "sand", "big rock"])
    assert table["softmin"].between(0, 1).all()
    assert table.loc[1, "softmin"] < table.loc[0, "softmin"]   # lower = worse
