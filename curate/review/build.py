"""Gather what the review shows: the flagged pairs of a curated folder as cards, where each
picture they need is read from, the disputed regions and predicted masks of label issues,
and the page's header data (checks, classes, the key its saved decisions live under)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from curate.checks import DEFAULT_REMOVE
from curate.errors import InputError
from curate.io.contract import read_manifest, read_meta
from curate.data.removed_pairs import removed_pairs
from curate.review.cards import GROUP_KEYS, Card, build_cards, flagged_items
from curate.review.thumbs import colours

THUMB_WIDTH = 256         # px: sharp on a 3-column page of a wide screen

MAX_REGIONS = 9  # disputed regions a label issue's card offers at most, best first
MIN_REGION_PROBABILITY = 0.1  # and only those at least this likely wrong (the best always)


@dataclass
class Review:
    """The flagged pairs as `items` (one per row of outliers.csv) and `cards`; `header` is
    what the page shows above them; `where` gives (image, mask) of a pair: two paths, or two
    arrays for pairs read from the input; `predicted` the label issues' predicted masks."""

    header: dict
    items: list[dict]
    cards: list[Card]
    where: dict[str, tuple]
    predicted: dict[str, np.ndarray]
    colours: np.ndarray


def collect(folder: str | Path, data: str | Path | None = None) -> Review:
    """Everything the review needs from a folder `curate outliers` or `curate run` wrote (its
    reports/outliers.csv, manifest.csv, dataset.json); pictures are read later, as needed.

    Pairs the folder no longer holds (the removed ones) are read from `data`, default the
    outliers step's recorded input. Raises InputError when outliers.csv is missing or a
    pair's pixels cannot be found.
    """
    folder = Path(folder)
    table = read_outliers(folder)
    meta = read_meta(folder)
    manifest = read_manifest(folder, ["id", "image", "mask", *GROUP_KEYS.values()])
    step = _outliers_step(meta)
    keys = ["id"] + [c for c in GROUP_KEYS.values()
                     if c in manifest.columns or c in table.columns]
    known = pd.concat([t.reindex(columns=keys) for t in (manifest, table)],
                      ignore_index=True).fillna("").drop_duplicates("id", keep="last")
    items = flagged_items(table)
    cards = build_cards(items, table, known)
    needed = dict.fromkeys(i for item in items for i in [item["id"], *item["like"]])
    needed.update(dict.fromkeys(i for card in cards for i in card.context))
    where = {str(i): (folder / img, folder / mask) for i, img, mask in
             zip(manifest["id"], manifest["image"], manifest["mask"]) if str(i) in needed}
    missing = [i for i in needed if i not in where]
    if missing:
        where.update(removed_pairs(folder, meta, missing, data))
    issues = [i["id"] for i in items if "label_issue" in i["checks"]]
    predicted = _predicted(step, issues)
    boxes, regions = _disputes(step, issues, where), _regions(step, issues, where)
    for item in items:
        item["predicted"] = item["id"] in predicted
        item["dispute"] = boxes.get(item["id"])
        item["regions"] = regions.get(item["id"], [])
    return Review(_header(folder, meta, step, items, cards, len(known)), items, cards, where,
                  predicted, colours(meta))


def read_outliers(folder: Path) -> pd.DataFrame:
    path = folder / "reports" / "outliers.csv"
    if not path.is_file():
        raise InputError(f"{path} not found: `curate review` shows the pairs `curate outliers` "
                         "or `curate run` flagged. Run `curate outliers DATA -o OUT` first and "
                         "review OUT.")
    table = pd.read_csv(path, dtype={"id": str, "flags": str, "reason": str, "dup_group": str,
                                     "odd_image_like": str, **dict.fromkeys(
                                         GROUP_KEYS.values(), str)}, keep_default_na=False)
    table["removed"] = table["removed"].astype(str).str.lower() == "true"
    return table


def count_flagged(folder: str | Path) -> int:
    """How many pairs reports/outliers.csv lists (what decides the review's layout)."""
    path = Path(folder) / "reports" / "outliers.csv"
    if not path.is_file():
        read_outliers(Path(folder))              # raises the message that names the fix
    return len(pd.read_csv(path, usecols=["id"], dtype=str))


def _header(folder: Path, meta: dict, step: dict, items: list[dict], cards: list[Card],
            known: int) -> dict:
    remove = step.get("options", {}).get("remove", DEFAULT_REMOVE)
    checks = list(dict.fromkeys(card.check for card in cards))
    return {
        "title": f"curate review: {folder.name}",
        "digest": digest(folder),
        "pairs": int(step.get("summary", {}).get("pairs_in", known)),
        "classes": _classes(meta),
        "checks": [{"name": c, "removes": c in remove, "grouped": c in GROUP_KEYS,
                    "count": sum(c in i["checks"] for i in items),
                    "cards": sum(card.check == c for card in cards),
                    "groups": sum(card.check == c and bool(card.key) for card in cards),
                    "grouped_pairs": sum(len(card.members) for card in cards
                                         if card.check == c and card.key)} for c in checks],
        "label_quality": step.get("options", {}).get("label_quality") or "",
        "regions": sum(len(i.get("regions", [])) for i in items),
    }


def _outliers_step(meta: dict) -> dict:
    steps = [s for s in meta.get("history", []) if s.get("command") == "outliers"]
    return steps[-1] if steps else {}


def _predicted(step: dict, ids: list[str]) -> dict[str, np.ndarray]:
    """{id: predicted mask} of label issues, where oof_probs.npy is found."""
    path = step.get("options", {}).get("label_quality")
    if not path or not ids or not Path(path).is_file():
        return {}
    from curate.checks.label_issue import predicted_masks

    return predicted_masks(path, ids)


def _disputes(step: dict, ids: list[str], where: dict) -> dict[str, dict]:
    """{id: the box the model disputes in percent of the picture (top, left, height, width)
    and its caption} of label issues whose table names one (see labels.disputes)."""
    path = step.get("options", {}).get("label_quality")
    if not path or not ids or not Path(path).is_file():
        return {}
    from curate.checks.label_issue import dispute_caption, disputes

    out = {}
    for id_, region in disputes(path, ids).items():
        if id_ not in where:
            continue
        out[id_] = {**_percent(region["box"], *_shape(where[id_][1])),
                    "caption": dispute_caption(region)}
    return out


def _regions(step: dict, ids: list[str], where: dict) -> dict[str, list[dict]]:
    """{id: its regions of label_regions.csv (see label_regions.regions_by_pair), each with
    its box in percent of the picture, its caption, and what region_fixes.csv needs of it:
    region, predicted_label, box and pixels} of label issues: the pair's best region and
    those of the next that are at least MIN_REGION_PROBABILITY likely wrong, MAX_REGIONS in
    all at most (label_regions.csv numbers them best first; the keys 1-9 reach them)."""
    path = step.get("options", {}).get("label_quality")
    if not path or not ids or not Path(path).is_file():
        return {}
    from curate.checks.label_regions import region_caption, regions_by_pair

    out = {}
    for id_, regions in regions_by_pair(path, ids).items():
        if id_ not in where:
            continue
        h, w = _shape(where[id_][1])
        out[id_] = [{**_percent(region["box"], h, w), "region": region["region"],
                     "caption": region_caption(region), "kind": region["kind"],
                     "predicted_label": region["predicted_label"],
                     "box": region["box_text"], "pixels": region["pixels"]}
                    for n, region in enumerate(regions[:MAX_REGIONS])
                    if n == 0 or region["probability"] >= MIN_REGION_PROBABILITY]
    return out


def _percent(box: tuple, h: int, w: int) -> dict:
    """The half-open box (row0, col0, row1, col1) of an (h, w) mask in percent of it."""
    r0, c0, r1, c1 = box
    return {"top": 100 * r0 / h, "left": 100 * c0 / w, "height": 100 * (r1 - r0) / h,
            "width": 100 * (c1 - c0) / w}


def _shape(mask) -> tuple[int, int]:
    """(height, width) of a mask array, or of a mask file from its header alone."""
    if isinstance(mask, np.ndarray):
        return mask.shape[:2]
    with Image.open(mask) as picture:
        return picture.height, picture.width


def _classes(meta: dict) -> list[dict]:
    table = colours(meta)
    ignore = meta.get("ignore_index")
    return [{"index": k, "name": name, "colour": "#%02x%02x%02x" % tuple(table[k, :3]),
             "ignored": k == ignore} for k, name in enumerate(meta["class_names"])]


def digest(folder: Path) -> str:
    """The dataset's identity, which the page's saved decisions are keyed by: a hash of its
    flagged pairs and its dataset.json."""
    sha = hashlib.sha1()
    for name in ("reports/outliers.csv", "dataset.json"):
        with open(folder / name, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                sha.update(block)
    return sha.hexdigest()[:16]
