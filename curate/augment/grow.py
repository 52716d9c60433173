"""`augment`: plan, replay, and assemble the output dataset, manifest, summary and reports."""

from __future__ import annotations

import io
from dataclasses import asdict

import numpy as np
import pandas as pd
from PIL import Image

from curate.augment.config import AugmentConfig
from curate.augment.plan import class_columns, plan_augmentation, train_rows
from curate.augment.recipes import apply_plan
from curate.io.dataset import SPLITS, Dataset
from curate.errors import ConfigError
from curate.scan.features import scan
from curate.io.pixels import concat
from curate.data.manifest import build_manifest
from curate.step import StepResult, recorded
from curate.stats.shares import class_shares, pixel_counts
from curate.ui.plots import bar_chart, class_legend, contact_sheet, pair_tile
from curate.io.contract import order_columns
from curate.data.writers import to_json

PREVIEW_PER_RECIPE = 2


def augment(dataset: Dataset, config: AugmentConfig) -> StepResult:
    """Grow class `config.target_class` in the training split; val/test are left untouched.

    The result's dataset holds the originals then the new pairs (its manifest records their
    provenance); its `table` is the plan.
    """
    _refuse_ignore_class(dataset, config.target_class)
    manifest = _with_provenance(build_manifest(dataset))
    if config.allow_unsplit and not manifest["split"].isin(SPLITS).any():
        manifest["split"] = "train"                     # recorded in the history below
    plan = plan_augmentation(manifest, config)
    new = apply_plan(dataset, plan, config.target_class)
    new_rows = _new_manifest_rows(new, plan)
    out_manifest = order_columns(pd.concat([manifest, new_rows], ignore_index=True))
    out_manifest["aug_seed"] = out_manifest["aug_seed"].astype("Int64")
    out = _combined(dataset, new, out_manifest)
    summary = summarise(manifest, out_manifest, plan, config, len(dataset.class_names))
    out = recorded(out, "augment", asdict(config), summary)
    reports = {
        "augment_preview.png": preview(dataset, new, plan),
        "augment_shares.png": shares_chart(summary, out.class_names),
        "augment_summary.json": to_json(summary),
    }
    return StepResult(out, summary, reports, table=plan)


def _refuse_ignore_class(dataset: Dataset, k: int) -> None:
    """Growing the ignore class adds only pixels that training and metrics leave out."""
    if dataset.ignore_index is None or k != dataset.ignore_index:
        return
    others = [f"{c} ({name})" for c, name in enumerate(dataset.class_names) if c != k]
    raise ConfigError(
        f"--class {k} ({dataset.class_names[k]}) is the ignore class: its pixels are left out "
        f"of training and metrics, so growing it adds nothing. Choose another class "
        f"({', '.join(others)}), or, if {k} is a real class, give --ignore-index with the "
        "label to ignore (-1 for none)."
    )


def _with_provenance(manifest: pd.DataFrame) -> pd.DataFrame:
    manifest = manifest.copy()
    for col in ("split", "origin", "parent_ids", "recipe"):
        if col not in manifest.columns:
            manifest[col] = "original" if col == "origin" else ""
        manifest[col] = manifest[col].fillna("").astype(str)
    if "aug_seed" not in manifest.columns:
        manifest["aug_seed"] = pd.NA
    return manifest


def _new_manifest_rows(new: Dataset, plan: pd.DataFrame) -> pd.DataFrame:
    rows = scan(new)
    rows["split"] = "train"
    rows["origin"] = "augmented"
    parents = plan["parent_id"] + np.where(plan["second_parent_id"] != "",
                                           ";" + plan["second_parent_id"], "")
    rows["parent_ids"] = parents.to_numpy()
    rows["recipe"] = plan["recipe"].to_numpy()
    rows["aug_seed"] = plan["aug_seed"].to_numpy()
    return rows


def _combined(dataset: Dataset, new: Dataset, manifest: pd.DataFrame) -> Dataset:
    return Dataset(
        ids=list(dataset.ids) + new.ids, images=concat(dataset.images, new.images),
        masks=concat(dataset.masks, new.masks), sources=list(dataset.sources) + new.sources,
        num_classes=dataset.num_classes, class_names=list(dataset.class_names),
        ignore_index=dataset.ignore_index, problems=list(dataset.problems),
        notes=list(dataset.notes), manifest=manifest, history=list(dataset.history),
        origin_path=dataset.origin_path,
        files=[dataset.file_pair(i) for i in range(len(dataset))] + [None] * len(new),
        ignore_reason=dataset.ignore_reason,
    )


# --- summary ---------------------------------------------------------------------------------

def train_shares(manifest: pd.DataFrame, num_classes: int) -> dict[str, list[float]]:
    """Per-class pixel share and image share over the training rows."""
    px = pixel_counts(manifest[manifest["split"] == "train"], num_classes)
    pixel_share, image_share = class_shares(px, scale=1.0, empty=0.0)
    return {"pixel_share": [round(float(v), 6) for v in pixel_share],
            "image_share": [round(float(v), 6) for v in image_share]}


def summarise(before: pd.DataFrame, after: pd.DataFrame, plan: pd.DataFrame,
              config: AugmentConfig, num_classes: int) -> dict:
    """Counts, the target and what was reached, and before/after shares in train."""
    class_columns(before)
    k = config.target_class
    old, new = train_shares(before, num_classes), train_shares(after, num_classes)
    split = before["split"]
    target = ({"count": config.count} if config.count is not None else
              {"pixel_share": config.pixel_share} if config.pixel_share is not None else
              {"image_share": config.image_share})
    return {
        "target_class": k,
        "target": target,
        "reached": {"pixel_share": new["pixel_share"][k], "image_share": new["image_share"][k]},
        "target_met": _met(target, new, k, len(plan)),
        "new_pairs": len(plan),
        "recipes": {r: int(n) for r, n in plan["recipe"].value_counts().sort_index().items()},
        "train_pairs": {"before": int((split == "train").sum()),
                        "after": int((after["split"] == "train").sum())},
        "untouched_pairs": int((split != "train").sum()),
        "allowed_unsplit": bool(config.allow_unsplit and train_rows(before, True).all()
                                and not before["split"].isin(["val", "test"]).any()),
        "before": old,
        "after": new,
    }


def _met(target: dict, shares: dict, k: int, n: int) -> bool:
    # Share targets are turned into counts from an estimate, so they can land a little short.
    (name, value), = target.items()
    return n == value if name == "count" else shares[name][k] >= value


# --- reports ---------------------------------------------------------------------------------

def preview(dataset: Dataset, new: Dataset, plan: pd.DataFrame) -> bytes:
    """Rows of parent, paste target (copy-paste only) and the new pair, two per recipe."""
    position = {id_: i for i, id_ in enumerate(dataset.ids)}
    k = dataset.num_classes
    def tile(images, masks, i):  # the ignore class is hatched in every tile
        return pair_tile(images[i], masks[i], k, ignore_index=dataset.ignore_index)
    chosen = plan.groupby("recipe", sort=True).head(PREVIEW_PER_RECIPE).index
    tiles = []
    for i in chosen:
        row = plan.loc[i]
        p = position[row.parent_id]
        tiles.append((tile(dataset.images, dataset.masks, p), f"parent {row.parent_id}"))
        if row.second_parent_id:
            q = position[row.second_parent_id]
            tiles.append((tile(dataset.images, dataset.masks, q),
                          f"paste target {row.second_parent_id}"))
        else:
            blank = tile(dataset.images, dataset.masks, p)
            tiles.append((Image.new("RGB", blank.size, "white"), ""))
        tiles.append((tile(new.images, new.masks, i), f"{row.id} ({row.recipe})"))
    return contact_sheet(tiles, "augment: parent(s) -> new pair, two per recipe", columns=3,
                         legend=class_legend(dataset.class_names, dataset.ignore_index))


def shares_chart(summary: dict, class_names: list[str]) -> bytes:
    """Two bar charts stacked: pixel share and image share per class, before and after."""
    charts = []
    for key, title in (("pixel_share", "Train pixel share per class (%)"),
                       ("image_share", "Train pairs containing each class (%)")):
        series = {when: [100 * v for v in summary[when][key]] for when in ("before", "after")}
        charts.append(Image.open(io.BytesIO(bar_chart(series, class_names, title, "%"))))
    sheet = Image.new("RGB", (max(c.width for c in charts), sum(c.height for c in charts)),
                      "white")
    y = 0
    for chart in charts:
        sheet.paste(chart.convert("RGB"), (0, y))
        y += chart.height
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    return buffer.getvalue()
