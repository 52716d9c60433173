"""A synthetic curated folder with any number of flagged pairs, for the review at scale (the
browser tests and benchmarks/bench_review_scale.py): reports/outliers.csv as `curate
outliers` writes it, a manifest, a dataset.json, and `pictures` small image and mask files
that the pairs share (the review still reads and encodes each pair's own thumbnails).

Of the flagged pairs, in this order of ids: 40% are near duplicates in groups of 2 to 5
flagged copies of one unflagged first pair (kept by default), 20% blank (removed by
default), 25% dark (kept), 15% odd images beside 3 typical pairs. Every pair, flagged or
not, is listed in the manifest, so the review finds its pictures in the folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

NUM_CLASSES = 5
CHECKS = ["near_duplicate", "blank", "dark", "odd_image"]


def synthetic_flags(root: Path, flags: int, pictures: int = 64, size: int = 64,
                    seed: int = 0) -> Path:
    """Write the folder at `root` (which must not exist) and return it."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    (root / "reports").mkdir()
    for k in range(pictures):
        ramp = np.linspace(0, 255, size, dtype=np.float32)[None, :] * rng.uniform(0.3, 1)
        image = np.clip(ramp + rng.normal(0, 20, (size, size)), 0, 255).astype(np.uint8)
        mask = (np.add.outer(np.arange(size), np.arange(size)) * NUM_CLASSES
                // (2 * size)).astype(np.uint8)
        Image.fromarray(np.stack([image] * 3, -1)).save(root / "images" / f"{k}.png")
        Image.fromarray(np.roll(mask, k, axis=1)).save(root / "masks" / f"{k}.png")
    counts = np.array([0.40, 0.20, 0.25, 0.15]) * flags
    counts = np.floor(counts).astype(int)
    counts[0] += flags - counts.sum()
    check = np.repeat(np.arange(4), counts)
    ids = np.array([f"f{n:07d}" for n in range(flags)])
    # near duplicates: consecutive runs of 2..5 copies, each run one group
    sizes = rng.integers(2, 6, counts[0] + 1)
    group_of = np.repeat(np.arange(len(sizes)), sizes)[:counts[0]]
    groups = np.array([f"g{g:07d}" for g in range(group_of.max() + 1 if counts[0] else 0)])
    typical = np.array([f"t{n:04d}" for n in range(100)])
    name = np.array(CHECKS)[check]
    score = np.round(rng.uniform(0, 1, flags), 4)
    table = pd.DataFrame({
        "id": ids, "source": [f"synthetic/{i}.png" for i in ids], "flags": name,
        "removed": check == 1,
        "reason": [f"synthetic {c} flag {i}" for c, i in zip(name, ids)],
        **{f"{c}_score": np.where(check == k, score, 0.0) for k, c in enumerate(CHECKS)},
        "dup_group": np.concatenate([groups[group_of], np.full(flags - counts[0], "")]),
        "odd_image_like": np.where(check == 3, [" ".join(rng.choice(typical, 3, replace=False))
                                                for _ in range(flags)], ""),
    })
    table["decision_default"] = np.where(table["removed"], "remove", "keep")
    table.to_csv(root / "reports" / "outliers.csv", index=False)
    listed = np.concatenate([ids, groups, typical])
    picture = np.arange(len(listed)) % pictures
    pd.DataFrame({"id": listed, "image": [f"images/{k}.png" for k in picture],
                  "mask": [f"masks/{k}.png" for k in picture],
                  "dup_group": np.concatenate([table["dup_group"], groups,
                                               np.full(len(typical), "")]),
                  "flags": np.concatenate([name, np.full(len(listed) - flags, "")]),
                  }).to_csv(root / "manifest.csv", index=False)
    meta = {"format": "curate", "format_version": 1, "num_classes": NUM_CLASSES,
            "class_names": ["soil", "bedrock", "sand", "big rock", "rover"], "ignore_index": None,
            "history": [{"command": "outliers", "input": str(root / "input.npz"),
                         "options": {"remove": ["blank"]},
                         "summary": {"pairs_in": len(listed), "removed": int(counts[1])}}]}
    (root / "dataset.json").write_text(json.dumps(meta, indent=2))
    return root
