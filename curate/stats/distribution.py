"""Class distribution of a dataset: pixel share, images per class, co-occurrence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from curate.ui.plots import bar_chart
from curate.stats.shares import class_shares, pixel_counts


@dataclass
class ClassStats:
    """per_class: one row per class; cooccurrence: images holding both classes (K x K);
    per_image: one row per pair with its classes and dominant class."""

    per_class: pd.DataFrame
    cooccurrence: pd.DataFrame
    per_image: pd.DataFrame

    def to_dict(self) -> dict:
        return {
            "per_class": self.per_class.to_dict(orient="records"),
            "cooccurrence": {r: {c: int(v) for c, v in row.items()}
                             for r, row in self.cooccurrence.iterrows()},
            "images": int(len(self.per_image)),
        }


def class_stats(manifest: pd.DataFrame, class_names: list[str]) -> ClassStats:
    """Statistics over all rows of `manifest` (filter it first for one split)."""
    k = len(class_names)
    counts = pixel_counts(manifest, k)
    present = counts > 0
    pixel_share, image_share = class_shares(counts, empty=0.0)
    per_class = pd.DataFrame({
        "class": np.arange(k),
        "name": class_names,
        "pixels": counts.sum(axis=0),
        "pixel_share_pct": np.round(pixel_share, 2),
        "images": present.sum(axis=0),
        "image_share_pct": np.round(image_share, 2),
    })
    co = present.T.astype(np.int64) @ present.astype(np.int64)           # (K, K)
    cooccurrence = pd.DataFrame(co, index=class_names, columns=class_names)
    pixels = np.maximum(counts.sum(axis=1), 1)
    # Every column in one constructor: adding K share columns one by one fragments the frame
    # (pandas warns past ~100 columns).
    per_image = pd.DataFrame({
        "id": manifest["id"].to_numpy(),
        "classes": [";".join(str(c) for c in np.flatnonzero(row)) for row in present],
        "dominant_class": counts.argmax(axis=1),
        "dominant_share_pct": np.round(100 * counts.max(axis=1) / pixels, 2),
        **{f"share_{c}_pct": np.round(100 * counts[:, c] / pixels, 2) for c in range(k)},
    })
    return ClassStats(per_class, cooccurrence, per_image)


def shown_classes(stats: ClassStats, limit: int = 32) -> tuple[pd.DataFrame, str | None]:
    """The per-class rows worth printing: all of them up to `limit` classes; past that only
    the classes present, with a note saying what was left out."""
    rows = stats.per_class
    if len(rows) <= limit:
        return rows, None
    present = rows[rows["pixels"] > 0]
    shown = present.nlargest(limit, "pixels", keep="first").sort_values("class")
    left_out = [f"{len(rows) - len(present)} without a pixel"] if len(present) < len(rows) else []
    if len(shown) < len(present):
        left_out.append(f"{len(present) - len(shown)} of the smallest by pixel share")
    return shown, (f"{len(shown)} of {len(rows)} classes shown ({' and '.join(left_out)} "
                   "left out; --csv and --json hold every class).")


NAME_WIDTH = 18  # row labels longer than this end in "…" (the class table shows full names)


def shown_cooccurrence(stats: ClassStats, limit: int = 12,
                       width: int = 80) -> tuple[pd.DataFrame, str | None]:
    """The co-occurrence matrix to print in a `width`-column terminal: class ids as column
    headers and "id name" as row labels, the classes present only, and no more of them (those
    in the most images) than `limit` and the width allow, so no header is ever cut."""
    per_class = stats.per_class
    present = per_class[per_class["images"] > 0]
    keep = per_class if len(per_class) <= limit else present
    labels = {int(k): _row_label(int(k), n) for k, n in zip(per_class["class"], per_class["name"])}
    fits = _columns_that_fit(keep, labels, stats.cooccurrence, width)
    notes = []
    if len(keep) > min(limit, fits):
        keep = keep.nlargest(min(limit, fits), "images", keep="first").sort_values("class")
        wider = "a wider terminal shows more; " if fits < limit else ""
        notes.append(f"Co-occurrence shown for the {len(keep)} classes in the most images, of "
                     f"{len(present)} present ({wider}--json holds them all).")
    elif len(keep) < len(per_class):
        notes.append(f"Co-occurrence shown for the {len(keep)} classes present.")
    idx = keep["class"].to_numpy()
    # Class ids as column headers keep a wide matrix inside the terminal.
    shown = pd.DataFrame(stats.cooccurrence.iloc[idx, idx].to_numpy(),
                         columns=[str(k) for k in idx], index=[labels[int(k)] for k in idx])
    return shown, (" ".join(notes) or None)


def _row_label(k: int, name: str) -> str:
    label = name if name == f"class {k}" else f"{k} {name}"
    return label if len(label) <= NAME_WIDTH else label[:NAME_WIDTH - 1] + "…"


def _columns_that_fit(keep: pd.DataFrame, labels: dict[int, str], co: pd.DataFrame,
                      width: int) -> int:
    """How many class columns a rich table (1 space of padding each side, one border
    character per column) holds in `width` characters beside its row labels."""
    idx = keep["class"].to_numpy()
    label = max((len(labels[int(k)]) for k in idx), default=1)
    cell = max([len(str(int(k))) for k in idx] + [len(str(int(co.to_numpy().max(initial=0))))])
    return max(1, (width - 1 - (label + 3)) // (cell + 3))


def stats_chart(stats: ClassStats, title: str) -> bytes:
    """PNG: pixel share and image share per class, side by side."""
    return bar_chart(
        {"pixel share %": stats.per_class["pixel_share_pct"].tolist(),
         "images containing %": stats.per_class["image_share_pct"].tolist()},
        stats.per_class["name"].tolist(), title, "percent")
