"""The feature scan and the near-duplicate search, checked against plain reference versions."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.scan.neighbours import connected_groups, hashes_to_array, near_pairs, popcount
from curate.io.dataset import Dataset, default_class_names
from curate.scan.features import mask_stats, phash, pixel_stats, scan
from planted import load_sample


def brute_near_pairs(hashes: list[int], max_distance: int) -> list[tuple[int, int, int]]:
    return [(i, j, bin(a ^ b).count("1")) for i, a in enumerate(hashes)
            for j, b in enumerate(hashes) if i < j and bin(a ^ b).count("1") <= max_distance]


def brute_groups(n: int, pairs) -> list[int]:
    label = list(range(n))
    changed = True
    while changed:
        changed = False
        for i, j, *_ in pairs:
            low = min(label[i], label[j])
            if label[i] != low or label[j] != low:
                label[i] = label[j] = low
                changed = True
    return label


# Hashes drawn near a few centres, so that near pairs and large buckets both occur.
hash_lists = st.lists(st.integers(0, 3), min_size=0, max_size=40).flatmap(
    lambda centres: st.lists(
        st.tuples(st.sampled_from([0x0123456789ABCDEF, 0xFEDCBA9876543210, 0, 2**64 - 1]),
                  st.lists(st.integers(0, 63), max_size=5)),
        min_size=len(centres), max_size=len(centres)))


@settings(max_examples=150, deadline=None)
@given(hash_lists, st.integers(0, 12))
def test_near_pairs_match_brute_force(items, max_distance):
    hashes = [centre ^ sum(1 << b for b in set(bits)) for centre, bits in items]
    i, j, d = near_pairs(np.array(hashes, dtype=np.uint64), max_distance)
    expected = brute_near_pairs(hashes, max_distance)
    assert list(zip(i.tolist(), j.tolist(), d.tolist())) == expected
    assert connected_groups(len(hashes), i, j).tolist() == brute_groups(len(hashes), expected)


def test_popcount_and_hex_round_trip():
    values = [0, 1, 2**63, 2**64 - 1, 0x0F0F]
    hashes = hashes_to_array([f"{v:016x}" for v in values])
    assert hashes.tolist() == values
    assert popcount(hashes).tolist() == [0, 1, 1, 64, 8]


def test_pixel_stats_match_reference():
    pairs, _ = load_sample()
    gray = pairs[:40, 0]
    stats = pixel_stats(gray)
    for k, image in enumerate(gray):
        g = image.astype(np.float64)
        p = np.bincount(image.ravel(), minlength=256) / image.size
        lap = (g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4 * g[1:-1, 1:-1])
        assert np.isclose(stats["mean"][k], g.mean())
        assert np.isclose(stats["std"][k], g.std())
        assert (stats["min"][k], stats["max"][k]) == (image.min(), image.max())
        assert np.isclose(stats["entropy"][k], -(p[p > 0] * np.log2(p[p > 0])).sum())
        assert np.isclose(stats["sharpness"][k], lap.var(), rtol=1e-5)
        if k >= 4:  # the slow reference of blur_keep on a few images
            continue
        binomial = np.array([1, 4, 6, 4, 1]) / 16.0
        blurred = np.array([[binomial @ g[r:r + 5, c:c + 5] @ binomial
                             for c in range(g.shape[1] - 4)] for r in range(g.shape[0] - 4)])
        b = np.floor(blurred + 0.5)              # re-blur in whole gray levels
        lap_blur = b[1:-1, :-2] + b[1:-1, 2:] + b[:-2, 1:-1] + b[2:, 1:-1] - 4 * b[1:-1, 1:-1]
        assert np.isclose(stats["blur_keep"][k],
                          (lap_blur.var() + 1) / (lap[1:-1, 1:-1][1:-1, 1:-1].var() + 1),
                          rtol=1e-5)


def test_mask_stats_count_labels_and_out_of_range():
    masks = np.zeros((3, 4, 6), dtype=np.uint8)
    masks[0, :, 3:] = 2                        # two classes, one vertical boundary
    masks[1, 0, 0] = 9                         # one pixel outside 0..4
    masks[2] = 4
    stats = mask_stats(masks, num_classes=5, ignore_index=0)
    assert stats["px_0"].tolist() == [12, 23, 0]
    assert stats["px_2"].tolist() == [12, 0, 0]
    assert stats["px_4"].tolist() == [0, 0, 24]
    assert stats["out_of_range"].tolist() == [0, 1, 0]
    assert stats["mask_classes"].tolist() == [2, 2, 1]
    assert np.allclose(stats["labelled_frac"], [0.5, 1 / 24, 1.0])
    assert np.allclose(stats["mask_boundary"], [4 / 24, 1 / 24, 0.0])  # right or lower differs


def test_phash_ignores_small_brightness_changes_and_sees_other_images():
    pairs, _ = load_sample()
    gray = pairs[:50, 0]
    brighter = np.clip(gray.astype(np.int16) + 8, 0, 255).astype(np.uint8)
    a, b = np.array(phash(gray), dtype=np.uint64), np.array(phash(brighter), dtype=np.uint64)
    assert np.median(popcount(a ^ b)) == 0
    assert np.median(popcount(a[1:] ^ a[:-1])) > 20      # unrelated real scenes


def test_scan_keeps_dataset_order_across_shapes_and_hashes_bytes():
    pairs, ids = load_sample()
    images, masks = list(pairs[:6, 0]), list(pairs[:6, 1])
    images[2], masks[2] = images[2][:32], masks[2][:32]           # another shape, own batch
    dataset = Dataset(ids=ids[:6], images=images, masks=masks, sources=ids[:6],
                      num_classes=5, class_names=default_class_names(5))
    table = scan(dataset)
    assert table["id"].tolist() == ids[:6]
    assert table["height"].tolist() == [64, 64, 32, 64, 64, 64]
    sha = hashlib.sha1(str(images[3].shape).encode())
    sha.update(images[3].tobytes())
    assert table["image_sha1"][3] == sha.hexdigest()
    assert table["px_1"].tolist() == [int((m == 1).sum()) for m in masks]


def test_large_images_come_in_smaller_batches_with_the_same_features(monkeypatch):
    from curate.scan import cluster, features

    assert features._chunk_pairs(((64, 128), (64, 128))) == features.CHUNK
    assert features._chunk_pairs(((256, 256, 3), (256, 256))) == 128
    assert features._chunk_pairs(((1024, 1024, 3), (1024, 1024))) == 8
    assert features._chunk_pairs(((9000, 9000, 3), (9000, 9000))) == 1
    pairs, ids = load_sample()
    dataset = Dataset(ids=ids[:40], images=list(pairs[:40, 0]), masks=list(pairs[:40, 1]),
                      sources=ids[:40], num_classes=5, class_names=default_class_names(5))
    whole = scan(dataset)
    pair_bytes = 2 * 64 * 128
    monkeypatch.setattr(features, "CHUNK_BYTES", 3 * pair_bytes)     # batches of 3 pairs
    seen, batch = [], features.image_half

    def counted(images, *rest):
        seen.append(len(images))
        return batch(images, *rest)

    monkeypatch.setattr(features, "image_half", counted)
    assert scan(dataset).equals(whole)
    assert max(seen) == 3 and sum(seen) == 40
    monkeypatch.setattr(cluster, "TASK_BYTES", 7 * pair_bytes)        # two batches a task
    tasks = features._tasks([list(range(s, min(s + 3, 40))) for s in range(0, 40, 3)], dataset)
    assert [sum(map(len, t)) for t in tasks] == [6] * 6 + [4]


def test_feature_columns_put_out_of_order_give_the_table_in_dataset_order():
    """Batches arrive in any order (threads) and may cover rows out of order (pairs grouped
    by shape): numbers land in place, text is gathered into dataset order, a batch that needs
    a wider type widens its column, and strings keep the type pandas gives them."""
    from curate.scan.columns import FeatureColumns

    columns = FeatureColumns(5)
    batches = [([0, 2, 4], {"a": np.array([0, 2, 4]), "t": np.array(["x0", "x2", "x4"], object)}),
               ([1, 3], {"a": np.array([1.5, 3.5]), "t": np.array(["x1", None], object)})]
    for number in (1, 0):
        columns.put(number, *batches[number])
    table = columns.table()
    assert list(table.columns) == ["a", "t"]
    assert table["a"].tolist() == [0, 1.5, 2, 3.5, 4]
    assert table["t"].iloc[[0, 1, 2, 4]].tolist() == ["x0", "x1", "x2", "x4"]
    assert pd.isna(table["t"].iat[3]) and table["t"].dtype == pd.Series(["x"]).dtype
