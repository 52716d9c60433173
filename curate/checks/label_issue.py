"""label_issue: masks that disagree with a model's out-of-fold predictions.

The predictions come from a file, not an import: `segment crossval DATA -o RUN` writes
RUN/label_quality.csv (one row per train pair) and RUN/oof_probs.npy (N, C, H, W) float16,
row `row` of which belongs to the CSV row of that id. Pairs the CSV does not list (val, test)
are never flagged; an id the dataset does not have is an error (the CSV is from another
dataset).

The flag: where the table holds a learned edit_probability (tables of 100 or more labelled
pairs; see segment/label_quality/score.py), a pair is flagged when that is at least
`label_issue_probability` (0.5: the classifier finds the mask more like one of its edited
copies than like the masks as given). Tables without it keep the older rule: the given
class has p < 0.1 on at least `label_issue_share` of the labelled pixels.
docs/results/label-quality.md has both measured on planted errors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from curate.checks.findings import Findings
from curate.errors import ConfigError, InputError
from curate.io.contract import LABEL_QUALITY_DISPUTE, LABEL_QUALITY_REQUIRED, LABEL_QUALITY_TEXT

COLUMNS = LABEL_QUALITY_REQUIRED
DISPUTE_COLUMNS = LABEL_QUALITY_DISPUTE  # optional: older tables lack them
BOX_COLOUR, BOX_EDGE = (255, 230, 0), (0, 0, 0)  # yellow, outlined in black: seen on any class


def read_label_quality(path: str | Path) -> pd.DataFrame:
    """The label_quality.csv of `segment crossval`, checked for the columns we use."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"label-quality table {path} does not exist; write it with "
                         "`segment crossval DATA -o RUN` and pass RUN/label_quality.csv")
    try:
        table = pd.read_csv(path, dtype=dict.fromkeys(LABEL_QUALITY_TEXT, str),
                            keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not a readable CSV: {exc}") from exc
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"{path} lacks column(s) {', '.join(missing)}; expected the "
                         "label_quality.csv written by `segment crossval`")
    return table


def flag_rule(table: pd.DataFrame, probability: float,
              share: float) -> tuple[np.ndarray, float | None]:
    """(N,) bool: the table's rows label_issue flags, and the edit_probability cut it used
    (None where the table learned no edit_probability and the low_share rule applies)."""
    if "edit_probability" in table.columns and bool((table["edit_probability"] > 0).any()):
        return table["edit_probability"].to_numpy(float) >= probability, probability
    return table["low_share"].to_numpy(float) >= share, None


def _reason(row, share: float, cut: float | None = None) -> str:
    if cut is None:
        text = (f"label issue: the given class has p < 0.1 on {row.low_share:.0%} of labelled "
                f"pixels (threshold {share:.0%})")
    else:
        text = (f"label issue: the mask looks edited with probability "
                f"{row.edit_probability:.2f} (threshold {cut:.2f}; a classifier taught on "
                f"edited copies of this table's masks); the given class has p < 0.1 on "
                f"{row.low_share:.0%} of labelled pixels")
    if row.given_class:
        text += (f"; mask says {row.given_class} on {row.pair_share:.0%} of labelled pixels "
                 f"the model calls {row.predicted_class} (mean p {row.pair_confidence:.2f})")
    return text


def label_issue(features: pd.DataFrame, config) -> Findings:
    """Flag pairs whose edit_probability is at least `label_issue_probability` (tables that
    learned one) or whose given class gets p < 0.1 out of fold on at least
    `label_issue_share` of their labelled pixels (tables that did not); the score is the
    table's score."""
    path = getattr(config, "label_quality", None)
    if not path:
        raise ConfigError("the label_issue check needs the table of `segment crossval`: pass "
                          "--label-quality RUN/label_quality.csv")
    table = read_label_quality(path)
    ids = features["id"].astype(str).to_numpy()
    unknown = sorted(set(table["id"]) - set(ids))
    if unknown:
        raise InputError(
            f"{len(unknown)} id(s) in {path} are not pairs of this dataset (first: "
            f"{', '.join(unknown[:3])}); pass the label_quality.csv that `segment crossval` "
            "wrote for this dataset")
    where = pd.Series(np.arange(len(ids)), index=ids)
    at = where.loc[table["id"]].to_numpy()
    n = len(features)
    flag, score, reason = np.zeros(n, bool), np.zeros(n), [""] * n
    share = config.label_issue_share
    hits, cut = flag_rule(table, config.label_issue_probability, share)
    score[at] = table["score"].to_numpy(float)
    for i, row, hit in zip(at, table.itertuples(index=False), hits):
        if hit:
            flag[i] = True
            reason[i] = _reason(row, share, cut)
    return Findings(flag, score, reason)


def predicted_masks(path: str | Path, ids: list[str]) -> dict[str, np.ndarray]:
    """Argmax masks (H, W) uint8 of the given ids from oof_probs.npy beside the CSV
    ({} when that file is absent: the sheet then shows the given mask only)."""
    probs_path = Path(path).with_name("oof_probs.npy")
    if not probs_path.is_file() or not ids:
        return {}
    table = read_label_quality(path).set_index("id")
    probs = np.load(probs_path, mmap_mode="r")  # (N, C, H, W) float16
    return {i: np.asarray(probs[int(table.at[i, "row"])]).argmax(0).astype(np.uint8)
            for i in ids if i in table.index}


def disputes(path: str | Path, ids: list[str]) -> dict[str, dict]:
    """{id: {"box": (row0, col0, row1, col1), "given", "predicted", "pixels"}} of the given
    ids whose row of the table names a disputed region ({} for tables without
    DISPUTE_COLUMNS, which older `segment crossval` runs wrote)."""
    table = read_label_quality(path)
    if not set(DISPUTE_COLUMNS) <= set(table.columns) or not ids:
        return {}
    table = table.set_index("id")
    out = {}
    for i in ids:
        if i not in table.index or not str(table.at[i, "dispute_box"]).strip():
            continue
        box = tuple(int(v) for v in str(table.at[i, "dispute_box"]).split())
        if len(box) != 4:
            raise InputError(f"{path}: dispute_box of {i} is {table.at[i, 'dispute_box']!r}; "
                             "expected 'row0 col0 row1 col1' as `segment crossval` writes it")
        out[i] = {"box": box, "given": str(table.at[i, "dispute_given"]),
                  "predicted": str(table.at[i, "dispute_predicted"]),
                  "pixels": int(float(table.at[i, "dispute_pixels"]))}
    return out


def dispute_caption(region: dict) -> str:
    """'given X, model says Y, N px' of one disputed region."""
    return f"given {region['given']}, model says {region['predicted']}, {region['pixels']} px"


def label_tile(image: np.ndarray, mask: np.ndarray, predicted: np.ndarray | None,
               num_classes: int, ignore_index: int | None = None,
               region: dict | None = None) -> Image.Image:
    """Image, given mask and (when known) predicted mask side by side; with `region` (one
    value of `disputes`), its box drawn on each of them."""
    from curate.ui.plots import colour_mask, pair_tile

    tile = pair_tile(image, mask, num_classes, ignore_index=ignore_index)
    h, w = mask.shape[:2]
    panel = round(w * tile.height / h)  # width of each of the tile's two pictures
    lefts = [0, tile.width - panel]
    if predicted is not None:
        height = tile.height
        pred = Image.fromarray(colour_mask(predicted, num_classes, ignore_index))
        pred = pred.resize((max(1, round(pred.width * height / pred.height)), height),
                           Image.NEAREST)
        both = Image.new("RGB", (tile.width + 2 + pred.width, height), "white")
        both.paste(tile, (0, 0))
        both.paste(pred, (tile.width + 2, 0))
        same_grid = predicted.shape[:2] == (h, w)  # else the box would land elsewhere
        tile, lefts = both, lefts + ([tile.width + 2] if same_grid else [])
    if region is not None:
        _draw_box(tile, region["box"], (tile.height / h, panel / w), lefts)
    return tile


def _draw_box(tile: Image.Image, box: tuple, scale: tuple[float, float],
              lefts: list[int]) -> None:
    """The half-open box (row0, col0, row1, col1) of the mask, scaled by (y, x), outlined on
    each picture of the tile starting at x = `lefts`."""
    from PIL import ImageDraw

    draw = ImageDraw.Draw(tile)
    r0, c0, r1, c1 = box
    for left in lefts:
        x0, y0 = left + c0 * scale[1], r0 * scale[0]
        x1, y1 = left + c1 * scale[1] - 1, r1 * scale[0] - 1
        draw.rectangle([x0 - 1, y0 - 1, x1 + 1, y1 + 1], outline=BOX_EDGE, width=3)
        draw.rectangle([x0, y0, x1, y1], outline=BOX_COLOUR, width=1)
