"""The split report: per split and counted class, image and pixel shares and their deviation
from the whole dataset; and its bar chart."""

from __future__ import annotations

import numpy as np
import pandas as pd

from curate.io.dataset import SPLITS
from curate.stats.shares import class_shares, pixel_counts


def counted_classes(num_classes: int, ignore_index: int | None) -> list[int]:
    """The classes that stratification and the report count (all but ignore_index)."""
    return [k for k in range(num_classes) if k != ignore_index]


def split_report(manifest: pd.DataFrame, splits: np.ndarray, num_classes: int,
                 ignore_index: int | None = None,
                 class_names: list[str] | None = None) -> pd.DataFrame:
    """Per split ('all' first) and counted class: shares and their deviation from the whole.

    Columns: split, images, class, class_name, images_with_class, image_share_pct (pairs
    containing the class / pairs in the split), image_share_dev_pp, pixel_share_pct (the
    class's pixels / counted pixels, i.e. pixels not of ignore_index), pixel_share_dev_pp.
    Deviations are in percentage points from the 'all' row; NaN for an empty split.
    """
    classes = counted_classes(num_classes, ignore_index)
    names = class_names or [f"class {k}" for k in range(num_classes)]
    px = pixel_counts(manifest, classes).astype(np.float64)                    # (N, K')
    splits = np.asarray(splits, dtype=object)
    rows = []
    whole = _shares(px)
    for name in ("all",) + SPLITS:
        chosen = px if name == "all" else px[splits == name]
        images, with_class, image_share, pixel_share = _shares(chosen)
        for c, k in enumerate(classes):
            rows.append({
                "split": name, "images": images, "class": k, "class_name": names[k],
                "images_with_class": int(with_class[c]),
                "image_share_pct": image_share[c],
                "image_share_dev_pp": image_share[c] - whole[2][c],
                "pixel_share_pct": pixel_share[c],
                "pixel_share_dev_pp": pixel_share[c] - whole[3][c],
            })
    report = pd.DataFrame(rows)
    numeric = [c for c in report.columns if c.endswith(("_pct", "_pp"))]
    report[numeric] = report[numeric].astype(float).round(4)
    return report


def _shares(px: np.ndarray):
    pixel_share, image_share = class_shares(px)       # NaN for an empty split
    return len(px), (px > 0).sum(axis=0), image_share, pixel_share


def worst_deviation(report: pd.DataFrame) -> dict[str, float]:
    """Largest absolute deviation (pp) over splits and classes, for image and pixel share."""
    parts = report[report["split"] != "all"]
    return {
        "image_share_pp": float(parts["image_share_dev_pp"].abs().max()),
        "pixel_share_pp": float(parts["pixel_share_dev_pp"].abs().max()),
    }


def split_figure(report: pd.DataFrame) -> bytes:
    """PNG bytes: image share of each class per split, beside the whole."""
    from curate.ui.plots import bar_chart

    names = list(dict.fromkeys(report["class_name"]))
    series = {split: part["image_share_pct"].fillna(0).tolist()
              for split, part in report.groupby("split", sort=False)}
    return bar_chart(series, names, "Images containing each class, per split",
                     "images containing the class (%)")
