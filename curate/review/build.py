"""Gather what the review page shows: the flagged pairs of a curated folder, their groups,
neighbours and predicted masks, and small PNG thumbnails of every picture it needs."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from curate.checks import CHECKS, DEFAULT_REMOVE
from curate.errors import InputError
from curate.io.image_files import read_image, read_mask
from curate.ui.palette import palette
from curate.data.readers import ReadOptions, load_dataset, read_manifest, read_meta

THUMB_WIDTH = 256         # px: sharp on a 3-column page of a wide screen, small as a data URI
# Checks whose flagged pair is shown beside the pairs it duplicates, and the column that
# says which pairs those are.
GROUP_KEYS = {"exact_duplicate": "pair_sha1", "duplicate_image": "image_sha1",
              "near_duplicate": "dup_group", "shared_mask": "mask_sha1"}
OUT_OF_RANGE = (255, 0, 255)   # colour of labels outside 0..num_classes-1


def gather(folder: str | Path, data: str | Path | None = None,
           thumb_width: int = THUMB_WIDTH) -> dict:
    """Everything the page needs, as JSON-ready data, from a folder `curate outliers` or
    `curate run` wrote (its reports/outliers.csv, manifest.csv, dataset.json).

    Pairs the folder no longer holds (the removed ones) are read from `data`, default the
    outliers step's recorded input. Raises InputError when outliers.csv is missing or a
    pair's pixels cannot be found.
    """
    folder = Path(folder)
    flagged_table = _read_outliers(folder)
    meta, manifest = read_meta(folder), read_manifest(folder)
    step = _outliers_step(meta)
    keys = ["id"] + [c for c in GROUP_KEYS.values()
                     if c in manifest.columns or c in flagged_table.columns]
    known = pd.concat([t.reindex(columns=keys) for t in (manifest, flagged_table)],
                      ignore_index=True).fillna("").drop_duplicates("id", keep="last")
    items = [_item(row, known, step) for row in flagged_table.itertuples(index=False)]
    needed = list(dict.fromkeys(i for item in items for i in
                                [item["id"], *item["group"], *item["like"]]))
    shapes: dict[str, tuple[int, int]] = {}
    pixels = _pixels(folder, manifest, meta, step, data, needed, thumb_width, shapes)
    issues = [i["id"] for i in items if "label_issue" in i["checks"]]
    predicted = _predicted(step, issues, meta, thumb_width)
    regions = _disputes(step, issues, shapes)
    for item in items:
        item["predicted"] = item["id"] in predicted
        item["dispute"] = regions.get(item["id"])
    checks = [c for c in CHECKS if any(c in i["checks"] for i in items)]
    remove = step.get("options", {}).get("remove", DEFAULT_REMOVE)
    return {
        "title": f"curate review: {folder.name}",
        "digest": _digest(folder),
        "pairs": int(step.get("summary", {}).get("pairs_in", len(known))),
        "classes": _classes(meta),
        "checks": [{"name": c, "removes": c in remove,
                    "count": sum(c in i["checks"] for i in items)} for c in checks],
        "items": items, "pixels": pixels, "predicted": predicted,
        "label_quality": step.get("options", {}).get("label_quality") or "",
    }


def _read_outliers(folder: Path) -> pd.DataFrame:
    path = folder / "reports" / "outliers.csv"
    if not path.is_file():
        raise InputError(f"{path} not found: `curate review` shows the pairs `curate outliers` "
                         "or `curate run` flagged. Run `curate outliers DATA -o OUT` first and "
                         "review OUT.")
    table = pd.read_csv(path, dtype={"id": str, "flags": str, "reason": str, "dup_group": str,
                                     "odd_image_like": str}, keep_default_na=False)
    table["removed"] = table["removed"].astype(str).str.lower() == "true"
    return table


def _outliers_step(meta: dict) -> dict:
    steps = [s for s in meta.get("history", []) if s.get("command") == "outliers"]
    return steps[-1] if steps else {}


def _item(row, known: pd.DataFrame, step: dict) -> dict:
    """One flagged pair: its checks, scores, reason, the default decision, and the ids of
    its duplicate group and of its most similar typical images."""
    checks = [c for c in str(row.flags).split(";") if c]
    values = row._asdict()
    scores = {c: float(values.get(f"{c}_score", 0) or 0) for c in checks}
    default = values.get("decision_default") or ("remove" if row.removed else "keep")
    return {"id": row.id, "checks": checks, "scores": scores, "reason": str(row.reason),
            "default": default, "group": _group(row.id, checks, values, known),
            "like": [i for i in str(values.get("odd_image_like", "")).split() if i]}


def _group(id_: str, checks: list[str], values: dict, known: pd.DataFrame) -> list[str]:
    """Ids of the other pairs of this pair's duplicate group (exact, same image, near)."""
    members: list[str] = []
    for check, column in GROUP_KEYS.items():
        key = str(values.get(column, "") or "")
        if check not in checks or not key or column not in known.columns:
            continue
        same = known["id"][known[column].astype(str) == key].astype(str).tolist()
        if column == "dup_group":
            same = [key] + same   # the group is named by its first pair, itself unflagged
        members += [m for m in same if m != id_]
    return list(dict.fromkeys(members))


def _pixels(folder: Path, manifest: pd.DataFrame, meta: dict, step: dict,
            data: str | Path | None, ids: list[str], width: int,
            shapes: dict | None = None) -> dict[str, list[str]]:
    """{id: [image PNG data URI, coloured mask PNG data URI]} for every id; the masks'
    (height, width) go into `shapes`, where given."""
    shapes = {} if shapes is None else shapes
    colours = _colours(meta)
    where = {str(i): (img, mask) for i, img, mask in
             zip(manifest["id"], manifest["image"], manifest["mask"])}
    out = {}
    for id_ in ids:
        if id_ in where:
            image, mask = read_image(folder / where[id_][0]), read_mask(folder / where[id_][1])
            out[id_] = [image_uri(image, width), mask_uri(mask, colours, meta, width)]
            shapes[id_] = np.shape(mask)[:2]
    missing = [i for i in ids if i not in out]
    if missing:
        dataset = _input(folder, meta, step, data, missing)
        position = {k: n for n, k in enumerate(dataset.ids)}
        absent = [i for i in missing if i not in position]
        if absent:
            raise InputError(f"{len(absent)} flagged pair(s) are neither in {folder} nor in "
                             f"its input {dataset.origin_path}: {', '.join(absent[:5])}. Pass "
                             "the input that `curate outliers` read with --input.")
        for id_ in missing:
            n = position[id_]
            out[id_] = [image_uri(dataset.images[n], width),
                        mask_uri(dataset.masks[n], colours, meta, width)]
            shapes[id_] = np.shape(dataset.masks[n])[:2]
    return out


def _input(folder: Path, meta: dict, step: dict, data, missing: list[str]):
    """The dataset `curate outliers` read, where the pairs it removed still are."""
    recorded = step.get("input", "")
    candidates = [Path(data)] if data else [Path(recorded), folder.parent / recorded]
    path = next((p for p in candidates if str(p) and p.exists()), None)
    if path is None:
        raise InputError(f"{len(missing)} flagged pair(s) (e.g. {missing[0]}) were removed, "
                         f"so {folder} no longer holds their pictures, and the input "
                         f"{recorded or '(not recorded)'} is not found. Pass the input that "
                         "`curate outliers` read with --input.")
    label_map = next((s.get("options", {}).get("label_map") for s in meta.get("history", [])
                      if s.get("command") == "read"), None)
    options = ReadOptions(num_classes=int(meta["num_classes"]),
                          class_names=list(meta["class_names"]),
                          label_map={int(k): int(v) for k, v in label_map.items()}
                          if label_map else None,
                          ignore_index=meta.get("ignore_index"))
    return load_dataset(path, options)


def _predicted(step: dict, ids: list[str], meta: dict, width: int) -> dict[str, str]:
    """{id: coloured predicted-mask data URI} of label issues, where oof_probs.npy is found."""
    path = step.get("options", {}).get("label_quality")
    if not path or not ids or not Path(path).is_file():
        return {}
    from curate.checks.label_issue import predicted_masks

    colours = _colours(meta)
    return {i: mask_uri(m, colours, meta, width) for i, m in predicted_masks(path, ids).items()}


def _disputes(step: dict, ids: list[str], shapes: dict) -> dict[str, dict]:
    """{id: the box the model disputes in percent of the picture (top, left, height, width)
    and its caption} of label issues whose table names one (see labels.disputes)."""
    path = step.get("options", {}).get("label_quality")
    if not path or not ids or not Path(path).is_file():
        return {}
    from curate.checks.label_issue import dispute_caption, disputes

    out = {}
    for id_, region in disputes(path, ids).items():
        if id_ not in shapes:
            continue
        (h, w), (r0, c0, r1, c1) = shapes[id_], region["box"]
        out[id_] = {"top": 100 * r0 / h, "left": 100 * c0 / w, "height": 100 * (r1 - r0) / h,
                    "width": 100 * (c1 - c0) / w, "caption": dispute_caption(region)}
    return out


def _colours(meta: dict) -> np.ndarray:
    """(256, 4) RGBA per label: the class palette, the ignore class transparent, labels
    outside the classes magenta."""
    k = int(meta["num_classes"])
    table = np.tile(np.array([*OUT_OF_RANGE, 255], np.uint8), (256, 1))
    table[:k, :3], table[:k, 3] = palette(k), 255
    if meta.get("ignore_index") is not None:
        table[int(meta["ignore_index"]), 3] = 0
    return table


def _classes(meta: dict) -> list[dict]:
    colours = palette(int(meta["num_classes"]))
    ignore = meta.get("ignore_index")
    return [{"index": k, "name": name, "colour": "#%02x%02x%02x" % tuple(colours[k]),
             "ignored": k == ignore} for k, name in enumerate(meta["class_names"])]


def image_uri(image: np.ndarray, width: int) -> str:
    """A PNG data URI of the image, at most `width` pixels wide."""
    picture = Image.fromarray(np.asarray(image))
    if picture.width > width:
        picture = picture.resize((width, max(1, round(picture.height * width / picture.width))),
                                 Image.Resampling.LANCZOS)
    return _uri(picture)


def mask_uri(mask: np.ndarray, colours: np.ndarray, meta: dict, width: int) -> str:
    """A palette PNG data URI of the mask in class colours (ignore class transparent)."""
    picture = Image.fromarray(np.asarray(mask, dtype=np.uint8), mode="P")
    picture.putpalette(colours[:, :3].ravel().tolist())
    picture.info["transparency"] = bytes(colours[:, 3].tolist())
    if picture.width > width:
        picture = picture.resize((width, max(1, round(picture.height * width / picture.width))),
                                 Image.Resampling.NEAREST)
        picture.putpalette(colours[:, :3].ravel().tolist())
        picture.info["transparency"] = bytes(colours[:, 3].tolist())
    return _uri(picture)


def _uri(picture: Image.Image) -> str:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=True, **(
        {"transparency": picture.info["transparency"]} if "transparency" in picture.info else {}))
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _digest(folder: Path) -> str:
    """What the page's saved decisions are keyed by: the flagged pairs and the dataset."""
    sha = hashlib.sha1()
    for name in ("reports/outliers.csv", "dataset.json"):
        sha.update((folder / name).read_bytes())
    return sha.hexdigest()[:16]
