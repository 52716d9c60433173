"""Gather what the review shows: the flagged pairs of a curated folder as cards, where each
picture they need is read from, the disputed regions and predicted masks of label issues,
and the page's header data (checks, classes, the key its saved decisions live under).

Per flagged pair it holds columns (arrow strings, numbers), not objects: the page's dict of a
pair is built when the part that shows it is written (Review.item_dicts), so that the review
folder's memory grows by a few hundred bytes per flagged pair (docs/results/review-scale.md).
"""

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
from curate.review.cards import GROUP_KEYS, Cards, build_cards, check_masks, scores
from curate.review.thumbs import colours

THUMB_WIDTH = 256         # px: sharp on a 3-column page of a wide screen

MAX_REGIONS = 9  # disputed regions a label issue's card offers at most, best first
MIN_REGION_PROBABILITY = 0.1  # and only those at least this likely wrong (the best always)
CSV_ROWS = 20_000  # rows of outliers.csv parsed at a time
# outliers.csv columns the review reads (and every <check>_score)
READ = ("id", "flags", "removed", "reason", "decision_default", "odd_image_like",
        *GROUP_KEYS.values())


class Pictures:
    """Where the pictures of the pairs the review shows are read from: (image, mask) paths in
    the folder, or arrays of pairs read back from the input (`removed`). A pair is found by
    its id, or by its position (positions()), which numbers its thumbnails."""

    def __init__(self, folder: Path, listed: pd.DataFrame, removed: dict[str, tuple]):
        self.folder, self.removed = folder, removed
        self.image, self.mask = listed["image"].astype(str), listed["mask"].astype(str)
        self.index = pd.Index(pd.concat([listed["id"].astype(str),
                                         pd.Series(list(removed), dtype="str")],
                                        ignore_index=True))

    def __len__(self) -> int:
        return len(self.index)

    def __iter__(self):
        return iter(self.index.tolist())

    def __contains__(self, id_: str) -> bool:
        return id_ in self.index

    def __getitem__(self, id_: str) -> tuple:
        at = int(self.positions([id_])[0])
        if at < 0:   # as the dict it replaced: not the last pair's pictures (position -1)
            raise KeyError(id_)
        return self.pair(at)

    def positions(self, ids: list[str]) -> np.ndarray:
        return self.index.get_indexer(ids)

    def pair(self, n: int) -> tuple:
        if n < len(self.image):
            return self.folder / self.image.iat[n], self.folder / self.mask.iat[n]
        return self.removed[self.index[n]]


@dataclass
class Review:
    """The flagged pairs as `table` (row n: outliers.csv's row n: id, flags, reason, default,
    like, <check>_score) and `cards`; `header` is what the page shows above them; `where`
    gives (image, mask) of a pair: two paths, or two arrays for pairs read from the input;
    `predicted` the label issues' predicted masks, `labels` their disputed box and regions."""

    header: dict
    table: pd.DataFrame
    cards: Cards
    where: Pictures
    predicted: dict[str, np.ndarray]
    colours: np.ndarray
    labels: dict[str, dict]

    @property
    def items(self) -> list[dict]:
        """Every flagged pair's dict (for small sets; the folder builds a part's at a time)."""
        return self.item_dicts(np.arange(len(self.table)))

    def item_dicts(self, rows: np.ndarray) -> list[dict]:
        """The page's dict of each of `rows`: id, checks, reason, scores, default, like,
        predicted, dispute, regions."""
        part = self.table.iloc[rows]
        score = {c[:-len("_score")]: part[c].to_numpy() for c in part.columns
                 if c.endswith("_score")}
        out = []
        for j, (id_, flags, reason, default, like) in enumerate(zip(
                part["id"].tolist(), part["flags"].tolist(), part["reason"].tolist(),
                part["default"].tolist(), part["like"].tolist())):
            checks = [c for c in flags.split(";") if c]
            label = self.labels.get(id_, {})
            out.append({"id": id_, "checks": checks, "reason": reason,
                        "scores": {c: float(score[c][j]) if c in score else 0.0
                                   for c in checks},
                        "default": default, "like": like.split(),
                        "predicted": id_ in self.predicted, "dispute": label.get("dispute"),
                        "regions": label.get("regions", [])})
        return out


def collect(folder: str | Path, data: str | Path | None = None) -> Review:
    """Everything the review needs from a folder `curate outliers` or `curate run` wrote (its
    reports/outliers.csv, manifest.csv, dataset.json); pictures are read later, as needed.

    Pairs the folder no longer holds (the removed ones) are read from `data`, default the
    outliers step's recorded input. Raises InputError when outliers.csv is missing or a
    pair's pixels cannot be found.
    """
    folder = Path(folder)
    table = read_outliers(folder, READ)
    meta = read_meta(folder)
    manifest = read_manifest(folder, ["id", "image", "mask", *GROUP_KEYS.values()])
    step = _outliers_step(meta)
    keys = ["id"] + [c for c in GROUP_KEYS.values()
                     if c in manifest.columns or c in table.columns]
    known = pd.concat([t.reindex(columns=keys) for t in (manifest, table)],
                      ignore_index=True).fillna("").drop_duplicates("id", keep="last")
    pairs = len(known)
    cards = build_cards(table, known)
    del known
    has = check_masks(table)
    table = _flagged(table)
    ids = table["id"]
    like = table["like"][table["like"] != ""].str.split().explode()
    needed = pd.Index(pd.concat([ids, like[like.notna()].astype("str"), cards.context],
                                ignore_index=True)).unique()
    listed = manifest[manifest["id"].astype(str).isin(needed)].drop_duplicates(
        "id", keep="last")[["id", "image", "mask"]].reset_index(drop=True)
    del manifest
    missing = needed[~needed.isin(listed["id"].astype(str))].tolist()
    where = Pictures(folder, listed, removed_pairs(folder, meta, missing, data)
                     if missing else {})
    issues = ids[has["label_issue"]].tolist() if "label_issue" in has else []
    predicted = _predicted(step, issues)
    boxes, regions = _disputes(step, issues, where), _regions(step, issues, where)
    labels = {i: {"dispute": boxes.get(i), "regions": regions.get(i, [])} for i in issues}
    header = _header(folder, meta, step, has, cards, pairs, labels)
    return Review(header, table, cards, where, predicted, colours(meta), labels)


def _flagged(table: pd.DataFrame) -> pd.DataFrame:
    """The columns the page's dicts are built from: id, flags, reason, default ('remove' or
    'keep', categorical), like (the ids of an odd image's most similar typical images) and
    every <check>_score as float64."""
    removed = np.where(table["removed"].to_numpy(bool), "remove", "keep")
    given = (table["decision_default"].astype(str).to_numpy(object)
             if "decision_default" in table.columns else np.full(len(table), ""))
    default = pd.Categorical(np.where(given != "", given, removed))
    like = (table["odd_image_like"].astype(str) if "odd_image_like" in table.columns
            else pd.Series("", index=table.index, dtype="str"))
    out = pd.DataFrame({"id": table["id"].astype("str"), "flags": table["flags"].astype("str"),
                        "reason": table["reason"].astype("str"), "default": default,
                        "like": like.astype("str")})
    for column in [c for c in table.columns if c.endswith("_score")]:
        out[column] = scores(table, column[:-len("_score")])
    return out


def read_outliers(folder: Path, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    """reports/outliers.csv, or only `columns` of it (and every <check>_score) where given."""
    path = folder / "reports" / "outliers.csv"
    if not path.is_file():
        raise InputError(f"{path} not found: `curate review` shows the pairs `curate outliers` "
                         "or `curate run` flagged. Run `curate outliers DATA -o OUT` first and "
                         "review OUT.")
    usecols = None if columns is None else (
        lambda c: c in columns or c.endswith("_score"))
    # read a block at a time: the parser's Python strings of one block, not of the file
    blocks = pd.read_csv(path, dtype={"id": str, "flags": str, "reason": str, "dup_group": str,
                                      "odd_image_like": str, **dict.fromkeys(
                                          GROUP_KEYS.values(), str)}, keep_default_na=False,
                         usecols=usecols, chunksize=CSV_ROWS)
    table = pd.concat(blocks, ignore_index=True)
    table["removed"] = table["removed"].astype(str).str.lower() == "true"
    return table


def count_flagged(folder: str | Path) -> int:
    """How many pairs reports/outliers.csv lists (what decides the review's layout)."""
    path = Path(folder) / "reports" / "outliers.csv"
    if not path.is_file():
        read_outliers(Path(folder))              # raises the message that names the fix
    return len(pd.read_csv(path, usecols=["id"], dtype=str))


def thumb_pixels(folder: str | Path, width: int) -> int:
    """Pixels of one pair's thumbnail at `width`, from the size of the manifest's first image
    (its header alone); width x width where that cannot be read."""
    try:
        first = pd.read_csv(Path(folder) / "manifest.csv", usecols=["image"], nrows=1,
                            dtype=str, keep_default_na=False)["image"]
        with Image.open(Path(folder) / first.iat[0]) as picture:
            w, h = picture.size
    except (OSError, ValueError, IndexError, KeyError, pd.errors.ParserError,
            pd.errors.EmptyDataError):
        return width * width
    return min(w, width) * max(1, round(h * min(w, width) / w))


def _header(folder: Path, meta: dict, step: dict, has: dict[str, np.ndarray], cards: Cards,
            known: int, labels: dict[str, dict]) -> dict:
    remove = step.get("options", {}).get("remove", DEFAULT_REMOVE)
    group = (cards.key != "").to_numpy(bool)
    sizes = np.diff(cards.start)
    checks = []
    for code, c in enumerate(cards.names):
        mine = cards.check == code
        checks.append({"name": c, "removes": c in remove, "grouped": c in GROUP_KEYS,
                       "count": int(has[c].sum()), "cards": int(mine.sum()),
                       "groups": int((mine & group).sum()),
                       "grouped_pairs": int(sizes[mine & group].sum())})
    return {
        "title": f"curate review: {folder.name}",
        "digest": digest(folder),
        "pairs": int(step.get("summary", {}).get("pairs_in", known)),
        "classes": _classes(meta),
        "checks": checks,
        "label_quality": step.get("options", {}).get("label_quality") or "",
        "regions": sum(len(label["regions"]) for label in labels.values()),
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
