"""benchmarks/bench_label_quality.py: the corruption kinds it plants, on hand-made masks
whose change is known; the cleanlab softmin column of its tables; holding an edit out."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage

from segment.label_quality import mask_edits
from segment.errors import ConfigError

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_label_quality.py"
sys.path.insert(0, str(PATH.parent))  # the benchmarks import benchmarks/results.py, as scripts do
spec = importlib.util.spec_from_file_location("bench_label_quality", PATH)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

H, W = 64, 128


def scene(seed: int = 0) -> np.ndarray:
    """Soil (1) above row 30, bedrock (2) below, a sand patch (3) of 12 x 20 px, two rocks
    (4) of 8 x 8 px, the top 4 rows unlabelled (0)."""
    mask = np.full((H, W), 1, np.uint8)
    mask[30:] = 2
    mask[40:52, 10 + seed:30 + seed] = 3
    mask[36:44, 70:78] = 4
    mask[50:58, 100:108] = 4
    mask[:4] = 0
    return mask


def test_pairing_offset_gives_another_pairs_mask():
    rng = np.random.default_rng(0)
    mask = scene()
    other = np.full((H, W), 3, np.uint8)
    out = bench.pairing_offset(mask, rng, np.stack([mask, other]))
    assert np.array_equal(out, other)       # the only mask of the pool that differs enough
    assert bench.pairing_offset(mask, rng, np.stack([mask, mask])) is None


def test_region_confusion_relabels_one_mid_sized_region_with_a_class_of_the_mask():
    mask = scene()
    out = bench.region_confusion(mask, np.random.default_rng(1))
    changed = out != mask
    regions, n = ndimage.label(changed)
    assert n == 1 and 0.02 * mask.size <= changed.sum() <= 0.15 * mask.size
    assert len(np.unique(mask[changed])) == 1          # one region of one class ...
    assert set(np.unique(out[changed])) <= set(np.unique(mask[mask > 0]))  # ... a known class
    assert np.array_equal(changed, mask == 3)           # here: the sand patch, the only fit


def test_hurried_outline_loses_small_objects_and_keeps_the_unlabelled():
    mask = scene()
    jagged = 30 + 4 * np.sign(np.sin(np.arange(W) / 1.5))     # a horizon drawn with care
    mask[(np.arange(H)[:, None] < jagged) & (mask == 2)] = 1
    mask[(np.arange(H)[:, None] >= jagged) & (mask == 1)] = 2
    for x in range(40, 120, 12):
        mask[56:60, x:x + 4] = 4                               # pebbles of 4 x 4 px
    out = bench.hurried_outline(mask, np.random.default_rng(0))
    assert np.array_equal(out == 0, mask == 0)
    assert not (out[56:60, 40:120] == 4).any()                 # the pebbles are gone
    assert (out != mask).mean() >= 0.01
    plain = np.full((H, W), 1, np.uint8)
    plain[30:] = 2                                             # a straight border: no change
    assert bench.hurried_outline(plain, np.random.default_rng(0)) is None


def test_objects_unlabelled_paints_one_class_with_its_surroundings():
    mask = scene()
    out = bench.objects_unlabelled(mask, np.random.default_rng(2))
    gone = [c for c in (3, 4) if not (out == c).any()]
    assert len(gone) == 1                                # one class left out entirely ...
    changed = out != mask
    assert np.array_equal(changed, mask == gone[0])      # ... and nothing else touched
    assert set(np.unique(out[changed])) <= {1, 2}


def test_resized_badly_drifts_away_from_the_top_left_corner():
    mask = scene()
    out = bench.resized_badly(mask, np.random.default_rng(0))
    assert np.array_equal(out[:4], mask[:4])             # the corner stays put
    rows, cols = np.nonzero(out == 4)
    assert rows.max() > 57 or cols.max() > 107           # the far rock moved down / right
    assert bench.resized_badly(np.full((H, W), 1, np.uint8), np.random.default_rng(0)) is None


def test_replant_plants_every_new_kind_once_and_is_seeded():
    clean = np.stack([scene(s) for s in range(10)])
    clean[5:, 30:] = 3                               # a second family of masks to pair with
    masks, kinds = bench._replant(clean, 0.5, seed=1, planted_kinds=bench.NEW)
    assert sorted(k for k in kinds if k) == sorted(bench.NEW)
    for i, kind in enumerate(kinds):
        assert (kind != "") == (not np.array_equal(masks[i], clean[i]))
    i = list(kinds).index("pairing_offset")
    assert any(np.array_equal(masks[i], c) for j, c in enumerate(clean) if j != i)
    again, kinds_again = bench._replant(clean, 0.5, seed=1, planted_kinds=bench.NEW)
    assert np.array_equal(again, masks) and list(kinds_again) == list(kinds)


def test_the_tables_rank_by_cleanlab_softmin_too():
    quality = quality_of_eight()
    planted = pd.DataFrame({"id": ["g"], "kind": ["shift"]})
    table = bench.ranking_table(quality, planted).set_index("kind")
    assert table.at["shift", "softmin_in_top"] == 1.0   # lowest softmin first
    assert table.at["shift", "in_top"] == 0.0            # the score has g 7th of 8


def quality_of_eight() -> pd.DataFrame:
    """Eight table rows: every evidence column indifferent but softmin, lowest at g."""
    from segment.label_quality.score import DIRECTIONS

    return pd.DataFrame({"id": list("abcdefgh"), "score": np.linspace(1, 0.3, 8),
                         **dict.fromkeys(DIRECTIONS, 0.0), "edit_probability": 0.0,
                         "labelled_pixels": 100, "mean_disagreement": 0.1,
                         "softmin": [0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.1, 0.2]})


def test_a_held_out_run_writes_its_own_page(tmp_path, monkeypatch):
    """--write: the table as measured, with the command and the model, in
    docs/results/label-quality-<kinds>.md (here a scratch folder)."""
    import results

    monkeypatch.setattr(results, "RESULTS", tmp_path)
    planted = pd.DataFrame({"id": ["g", "h"], "kind": ["shift", "class_swap"]})
    table = bench.ranking_table(quality_of_eight(), planted)
    regions = pd.DataFrame([{"kind": "shift", "regions": 3, "proposed": 1.0, "model_sees": 0.5,
                             "top1": 0.0, "top2": 1 / 3, "top5": 1.0}])
    page = bench.write_held_out(table, regions, "own", "MODEL LINE", "python bench --held-out X Y")
    assert page == tmp_path / "label-quality-own.md"
    text = page.read_text()
    assert "# Label quality, held out: the benchmark's own kinds" in text
    assert "- command: `python bench --held-out X Y`" in text and "MODEL LINE" in text
    assert "| shift | 1 | 0.00 | 1.00 |" in text and "| all | 2 |" in text
    assert "| shift | 3 | 0.50 | 1.00 | 0.00 | 0.33 | 1.00 |" in text  # the region table


def test_the_region_table_finds_a_planted_region_by_a_proposal_of_its_pair():
    """One planted 6x6 region in pair 1; the best proposal of all covers it: found in the top
    1 x; a second planted region no proposal touches is never found."""
    from curate.io.region_pixels import encode

    clean = np.ones((3, 20, 20), np.uint8)
    masks = clean.copy()
    masks[1, 2:8, 2:8] = 2
    masks[2, 10:14, 10:14] = 3
    hit = np.zeros((20, 20), bool)
    hit[2:8, 2:8] = True
    other = np.zeros((20, 20), bool)
    other[15:19, 0:4] = True
    rows = []
    for row, region, p in ((1, hit, 0.9), (0, other, 0.5)):
        box, runs = encode(region)
        rows.append({"row": row, "region": 1, "probability": p, "box": box, "pixels": runs})
    argmax = clean.copy()                  # the model says the clean class everywhere
    kinds = np.array(["", "object_deleted", "object_deleted"], dtype=object)
    table = bench.region_table(pd.DataFrame(rows), masks, clean, kinds, argmax).set_index("kind")
    assert table.at["object_deleted", "regions"] == 2
    assert table.at["object_deleted", "proposed"] == 0.5 and table.at["object_deleted", "top1"] == 0.5
    assert table.at["object_deleted", "model_sees"] == 1.0


def test_a_held_out_edit_is_never_learned_from():
    masks = np.stack([scene(s) for s in range(12)])
    rows, kinds, _ = mask_edits.plant_edits(masks, 0, 5, np.arange(12), 3, 0,
                                            ("relabel", "border", "delete"))
    assert "shift" not in kinds and set(kinds) <= {"relabel", "border", "delete"}
    assert {kind for kind in bench.TAUGHT_BY.values()} == set(mask_edits.KINDS)
    with pytest.raises(ConfigError, match="choose from"):
        mask_edits.plant_edits(masks, 0, 5, np.arange(12), 3, 0, ("swap",))


def test_region_tables_of_several_plantings_and_of_one_kind_each_add_up():
    """_mean_regions sums the planted regions and weighs the shares by them, per kind, with
    'all' the kinds together: both for the plantings of one run (each with its own 'all' row)
    and for --leave-one-kind-out's one table per kind."""
    def table(kind, regions, top1):
        row = {"regions": regions, "proposed": 1.0, "model_sees": 0.5, "top1": top1,
               "top2": 1.0, "top5": 1.0}
        return pd.DataFrame([{"kind": kind, **row}, {"kind": "all", **row}])

    mean = bench._mean_regions([table("shift", 2, 0.5), table("class_swap", 6, 0.0)],
                               ("class_swap", "shift")).set_index("kind")
    assert list(mean.index) == ["class_swap", "shift", "all"]
    assert mean.at["all", "regions"] == 8 and mean.at["all", "top1"] == 0.125
    again = bench._mean_regions([table("shift", 2, 0.5), table("shift", 2, 1.0)], ("shift",))
    assert again.set_index("kind").at["shift", "top1"] == 0.75
