"""segment.label_quality.mask_edits: each edit changes a mask the way its docstring says, never its input,
and plant_edits is deterministic in its seed."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from segment.label_quality import mask_edits

CLASSES = [1, 2, 3, 4]


def scene(rng) -> np.ndarray:
    """Unlabelled sky, soil, bedrock below a slanted border, a rock in the soil."""
    mask = np.ones((48, 64), np.uint8)
    yy, xx = np.mgrid[:48, :64]
    mask[yy > 26 + xx // 8] = 2
    mask[(yy - 16) ** 2 + (xx - rng.integers(12, 52)) ** 2 < 25] = 4
    mask[:5] = 0
    return mask


@pytest.mark.parametrize("kind", mask_edits.KINDS)
def test_each_edit_changes_a_copy_and_keeps_the_classes(kind):
    rng = np.random.default_rng(0)
    for _ in range(10):
        mask = scene(rng)
        before = mask.copy()
        out = mask_edits.EDITS[kind](mask, rng, CLASSES, 0)
        assert out is not None and (out != mask).any()
        np.testing.assert_array_equal(mask, before)
        assert set(np.unique(out)) <= {0, *CLASSES}


def test_relabel_gives_one_region_one_other_class():
    rng = np.random.default_rng(1)
    mask = scene(rng)
    out = mask_edits.relabel(mask, rng, CLASSES, 0)
    changed = out != mask
    _, regions = ndimage.label(changed)
    assert regions == 1
    assert len(np.unique(mask[changed])) == 1 and len(np.unique(out[changed])) == 1
    region, = np.unique(mask[changed])
    labels = ndimage.label(mask == region)[0]
    label, = np.unique(labels[changed])
    np.testing.assert_array_equal(changed, labels == label)  # the whole connected region


def test_border_moves_one_class_into_its_neighbour_by_at_most_max_move():
    rng = np.random.default_rng(2)
    for _ in range(10):
        mask = scene(rng)
        out = mask_edits.border(mask, rng, CLASSES, 0)
        changed = out != mask
        grower, = np.unique(out[changed])
        shrunk, = np.unique(mask[changed])
        distance = ndimage.distance_transform_edt(mask != grower)
        assert distance[changed].max() <= mask_edits.MAX_MOVE and grower != shrunk


def test_shift_moves_the_whole_mask_and_leaves_the_uncovered_edge_unlabelled():
    rng = np.random.default_rng(3)
    mask = scene(rng)
    out = mask_edits.shift(mask, rng, CLASSES, 0)
    h, w = mask.shape
    m = mask_edits.MAX_MOVE
    found = [(dy, dx) for dy in range(-m, m + 1) for dx in range(-m, m + 1)
             if np.array_equal(out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)],
                               mask[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)])]
    assert len(found) == 1
    dy, dx = found[0]
    assert max(abs(dy), abs(dx)) >= mask_edits.MIN_MOVE
    uncovered = np.ones_like(mask, bool)
    uncovered[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = False
    assert (out[uncovered] == 0).all()
    # Without an ignore class the uncovered pixels repeat the edge: every value is a class.
    plain = mask.copy()
    plain[plain == 0] = 1
    assert set(np.unique(mask_edits.shift(plain, rng, [0, *CLASSES], None))) <= {1, 2, 4}


def test_delete_paints_an_object_with_the_class_around_it():
    rng = np.random.default_rng(4)
    mask = scene(rng)
    out = None
    while out is None or not ((mask == 4) & (out != mask)).any():
        out = mask_edits.delete(mask, rng, CLASSES, 0)
    assert ((out != mask) == (mask == 4)).all() and (out[mask == 4] == 1).all()


def test_masks_of_one_class_get_no_border_or_shift_edit():
    rng = np.random.default_rng(5)
    mask = np.ones((32, 32), np.uint8)
    mask[:2] = 0
    assert mask_edits.border(mask, rng, CLASSES, 0) is None
    assert mask_edits.shift(mask, rng, CLASSES, 0) is None
    assert mask_edits.relabel(mask, rng, CLASSES, 0) is not None


def test_plant_edits_is_deterministic_and_keeps_to_its_quota_and_rows():
    rng = np.random.default_rng(6)
    masks = np.stack([scene(rng) for _ in range(30)])
    rows = np.arange(5, 30)
    first = mask_edits.plant_edits(masks, 0, 5, rows, 4, seed=7)
    again = mask_edits.plant_edits(masks, 0, 5, rows, 4, seed=7)
    other = mask_edits.plant_edits(masks, 0, 5, rows, 4, seed=8)
    assert first[0] == again[0] and first[1] == again[1]
    assert all(np.array_equal(a, b) for a, b in zip(first[2], again[2]))
    assert first[0] != other[0]
    assert sorted(set(first[1])) == sorted(mask_edits.KINDS)
    assert all(first[1].count(k) == 4 for k in mask_edits.KINDS)
    assert set(first[0]) <= set(rows.tolist())
