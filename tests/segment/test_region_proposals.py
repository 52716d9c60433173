"""segment.label_quality.regions: the regions the model disputes, their figures, the region
classifier and label_regions.csv, on synthetic masks with synthetic out-of-fold
probabilities (test_label_quality.py's generator)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage

from curate.io import contract, region_pixels
from segment.label_quality import region_edits, regions
from segment.label_quality.score import label_quality
from test_label_quality import model_probs, true_mask

NAMES = ["none", "soil", "bedrock", "sand", "big rock"]


def small_rock_painted_over(rng):
    """(truth, given mask): a 5x6 rock low in the frame (bedrock or sand around it) that
    the mask paints with the class around it."""
    truth = true_mask(rng)
    truth[truth == 4] = 1
    truth[40:, :] = truth[63, 0]
    truth[40:45, 60:66] = 4
    given = truth.copy()
    given[40:45, 60:66] = truth[63, 0]
    return truth, given


def test_a_painted_over_rock_is_one_disputed_region_with_its_classes():
    rng = np.random.default_rng(3)
    truth, given = small_rock_painted_over(rng)
    probs = model_probs(truth, rng, sure=1.0)
    table, numbered = regions.features(probs, given, 0)
    under = np.unique(numbered[40:45, 60:66])
    rock = table[table["region"].isin(under[under > 0])]
    assert len(rock) == 1 and rock["predicted"].tolist() == [4]
    row = rock.iloc[0]
    assert row["kind"] == "disputed" and row["given"] == given[63, 0]
    pixels = numbered == row["region"]
    assert pixels[40:45, 60:66].mean() >= 0.7 and pixels.sum() <= 45  # blurred corners
    assert row["ring_given"] == 1.0  # its own given class all around: painted over
    assert row["margin"] > 0.3 and 0 <= row["entropy_inside"] <= 1
    assert set(regions.FEATURES) <= set(table.columns)


def test_an_object_the_mask_leaves_unlabelled_is_an_unlabelled_region():
    rng = np.random.default_rng(4)
    truth, _ = small_rock_painted_over(rng)
    given = truth.copy()
    given[40:45, 60:66] = 0  # left unlabelled (the ignore class)
    table, numbered = regions.features(model_probs(truth, rng, sure=1.0), given, 0)
    under = np.unique(numbered[40:45, 60:66])
    rock = table[table["region"].isin(under[under > 0])]
    assert rock["kind"].tolist() == ["unlabelled"] and rock["predicted"].tolist() == [4]
    assert rock["given_mean"].tolist() == [0.0]
    # Without an ignore class there is no unlabelled kind.
    table, _ = regions.features(model_probs(truth, rng, sure=1.0), truth, None)
    assert "unlabelled" not in set(table["kind"])


def test_the_region_edits_change_what_they_say():
    rng = np.random.default_rng(5)
    mask = true_mask(rng)
    classes = [1, 2, 3, 4]
    deleted = region_edits.delete_object(mask, np.random.default_rng(0), classes, 0)
    changed = deleted != mask
    assert changed.any() and len(np.unique(mask[changed])) == 1  # one object, painted over
    relabelled = region_edits.relabel_component(mask, np.random.default_rng(0), classes, 0)
    assert len(np.unique(relabelled[relabelled != mask])) == 1
    moved = region_edits.move_border(mask, np.random.default_rng(1), classes, 0)
    if moved is not None:
        assert (moved != mask).sum() >= region_edits.MIN_CHANGE
    unlabelled = region_edits.unlabel_object(mask, np.random.default_rng(0), classes, 0)
    assert set(np.unique(unlabelled[unlabelled != mask])) == {0}
    assert region_edits.unlabel_object(mask, np.random.default_rng(0), classes, None) is None


@pytest.fixture(scope="module")
def table_of_120():
    """120 pairs, every tenth with a small rock painted over; the label_quality and
    label_regions tables."""
    rng = np.random.default_rng(11)
    masks, probs, wrong = [], [], []
    for i in range(120):
        truth, given = small_rock_painted_over(rng)
        if i % 10:
            given = truth
        masks.append(given)
        probs.append(model_probs(truth, rng, sure=0.35 if i % 3 == 0 else 1.0))
        wrong.append(i % 10 == 0)
    masks, probs = np.stack(masks), np.stack(probs)
    ids = [f"pair{i:03d}" for i in range(120)]
    quality, found = label_quality(probs, masks, ids, np.zeros(120, int), 0, NAMES)
    return masks, probs, np.array(wrong), quality, found


def test_label_regions_follows_the_contract_and_decodes(table_of_120):
    masks, _, _, _, found = table_of_120
    assert list(found.columns[:len(contract.LABEL_REGIONS_COLUMNS)]) == list(
        contract.LABEL_REGIONS_COLUMNS)
    assert set(found["kind"]) <= set(contract.REGION_KINDS)
    assert found["probability"].between(0, 1).all()
    for pid, part in found.groupby("id"):
        assert part["region"].tolist() == list(range(1, len(part) + 1))
        assert part["probability"].is_monotonic_decreasing  # best first
    for row in found.head(40).itertuples(index=False):
        pixels = region_pixels.decode(row.box, row.pixels, masks[row.row].shape)
        assert pixels.sum() == row.area
        assert ndimage.label(pixels)[1] == 1  # one connected region
        assert NAMES[row.predicted_label] == row.predicted_class


def test_the_painted_over_rocks_are_the_surest_regions_and_lift_their_pairs(table_of_120):
    """12 of 120 masks paint a rock over: at least three quarters of the 12 surest regions
    are those rocks, and the pairs' best regions rank them as well."""
    _, _, wrong, quality, found = table_of_120
    n = int(wrong.sum())
    top = found.sort_values("probability", ascending=False).head(n)
    rocks = wrong[top["row"].to_numpy()] & (top["predicted_class"] == "big rock").to_numpy()
    assert rocks.sum() >= 0.75 * n, top[["row", "predicted_class", "probability"]]
    assert quality["region_probability"].between(0, 1).all()
    by_region = quality.sort_values("region_probability", ascending=False)["row"][:n]
    assert wrong[by_region.to_numpy()].sum() >= 0.75 * n
    assert "region_probability" in quality.attrs["score"]


def test_a_small_table_orders_regions_by_margin_and_leaves_the_score_alone():
    rng = np.random.default_rng(2)
    truth, given = small_rock_painted_over(rng)
    probs = model_probs(truth, rng, sure=1.0)[None]
    quality, found = label_quality(probs, given[None], ["a"], np.zeros(1, int), 0, NAMES)
    assert len(found) and (found["probability"] == found["margin"].clip(0, 1)).all()
    assert quality["region_probability"].tolist() == [0.0]
    assert "region_probability" not in quality.attrs["score"]


def test_region_pixels_round_trip_and_refuse_what_does_not_fit():
    from curate.errors import InputError

    region = np.zeros((6, 7), bool)
    region[1, 2:5] = region[2, 4] = region[3, 3:5] = True
    box, runs = region_pixels.encode(region)
    assert box == "1 2 4 5"
    assert (region_pixels.decode(box, runs, region.shape) == region).all()
    with pytest.raises(InputError, match="outside"):
        region_pixels.decode("1 2 9 5", runs, region.shape)
    with pytest.raises(InputError, match="leaves its"):
        region_pixels.decode(box, "0 99", region.shape)
    with pytest.raises(InputError, match="row0 col0 row1 col1"):
        region_pixels.decode("1 2 4", runs, region.shape)
    assert isinstance(pd.Series([runs]).iloc[0], str)
