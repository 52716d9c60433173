"""Corrected masks come back: replace pairs' masks with PNGs from a folder, or with the masks
of a labelling tool's export (curate.data.tool_fixes: CVAT, Label Studio), checked like any
input mask, and record where each came from (manifest columns `mask_fix`, the file, and
FIX_COLUMNS: tool, task, annotator, time, and the keep/remove chosen in the tool)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from curate.io.dataset import Dataset
from curate.errors import InputError
from curate.scan.features import scan
from curate.io.image_files import read_mask
from curate.io.label_maps import raw_values
from curate.data.manifest import with_manifest
from curate.data.region_fixes import NOTE, REVIEW
from curate.data.tool_fixes import read_tool_fixes, tool_of
from curate.io.pixels import LazyPixels

# Scan columns that depend on the mask: recomputed for a replaced mask
MASK_FEATURES = ("mask_sha1", "pair_sha1", "out_of_range", "mask_classes", "labelled_frac",
                 "mask_boundary", "labelled_fill", "labelled_margin")
PNG_FOLDER = "PNG folder"
# Provenance of a replaced mask, beside `mask_fix`; mask_fix_decision feeds the decisions
FIX_COLUMNS = ("mask_fix_tool", "mask_fix_task", "mask_fix_annotator", "mask_fix_time",
               "mask_fix_decision")


def apply_mask_fixes(dataset: Dataset, folder: str | Path) -> Dataset:
    """A new dataset whose masks named in `folder` (<pair id>.png or <source stem>.png) are
    the corrected ones; its manifest's mask columns are rescanned for them and `mask_fix`
    names the file (empty for the others). `folder` may also be a CVAT Segmentation mask 1.1
    export (zip or folder) or a Label Studio JSON export: their masks hold labels (by class
    name), and FIX_COLUMNS record the tool, task, annotator, time and choice. Or the review
    page's region_fixes.csv: the accepted regions set to their predicted_label, a label of
    the dataset as read (tool "review", task "regions 1 3").

    Each file is read exactly like an input mask: it holds the input's raw values (labels,
    for a curated folder), goes through the label map the dataset was read with and its merge
    check, and must match its image's size and hold only labels 0..num_classes-1 (or the
    ignore index). `mask_fix` records the file's absolute path. Raises InputError listing
    every file that does not, or names no pair, and for a folder without PNG masks.
    """
    fixes, provenance, decisions = _fixes(dataset, Path(folder))
    dataset = with_manifest(dataset)
    masks = _items(dataset.masks)
    files = list(dataset.files) if dataset.files is not None else None
    for i, (path, mask) in fixes.items():
        masks[i] = mask
        if files is not None and files[i] is not None:
            files[i] = (files[i][0], None)  # the written mask is the new one, not a copy
    if isinstance(dataset.masks, LazyPixels):
        masks = LazyPixels(masks)
    fixed = replace(dataset, masks=masks, files=files)
    manifest = dataset.manifest.reset_index(drop=True)
    manifest["mask_fix"] = ""
    rows = sorted(fixes)
    if rows:
        fresh = scan(fixed.subset(rows))
        for column in fresh.columns:
            if column in manifest.columns and (column in MASK_FEATURES or
                                               column.startswith(("px_", "mask_"))):
                manifest.loc[rows, column] = fresh[column].to_numpy()
        manifest.loc[rows, "mask_fix"] = [str(fixes[i][0]) for i in rows]
    for column in FIX_COLUMNS:
        manifest[column] = ""
    for i, where in provenance.items():
        for key, value in where.items():
            manifest.loc[i, f"mask_fix_{key}"] = value
    for i, choice in decisions.items():
        manifest.loc[i, "mask_fix_decision"] = choice
    return replace(fixed, manifest=manifest)


def fixes_by_tool(manifest) -> dict[str, int]:
    """{tool: masks it replaced} of a manifest `apply_mask_fixes` wrote."""
    if "mask_fix" not in manifest.columns:
        return {}
    replaced = manifest[manifest["mask_fix"].fillna("") != ""]
    tools = (replaced["mask_fix_tool"].fillna("").replace("", PNG_FOLDER)
             if "mask_fix_tool" in replaced.columns else [PNG_FOLDER] * len(replaced))
    return {str(k): int(v) for k, v in pd.Series(list(tools), dtype=object).value_counts(
        sort=False).items()}


def fixes_phrase(tools: dict[str, int]) -> str:
    """'2 corrected in CVAT, 1 corrected in review (model region accepted on review)' of
    what fixes_by_tool counted."""
    return ", ".join(f"{n} corrected in {t}" + (f" ({NOTE})" if t == REVIEW else "")
                     for t, n in tools.items())


def _fixes(dataset: Dataset, path: Path) -> tuple[dict, dict, dict]:
    """({position: (file, labels)}, {position: provenance}, {position: choice})."""
    if not path.exists() or tool_of(path) is None:
        fixes = _read_fixes(dataset, path)
        return fixes, {i: {"tool": PNG_FOLDER} for i in fixes}, {}
    found = read_tool_fixes(dataset, path)
    problems = [f"{dataset.ids[i]}: {problem}" for i, mask in found.masks.items()
                if (problem := _mask_problem(dataset, i, mask))]
    if problems:
        raise InputError(f"{len(problems)} mask(s) of {path} cannot replace the pair's mask: "
                         f"{'; '.join(problems[:5])}. The tool's image must be the pair's "
                         "image, at its size; nothing was written.")
    provenance = {i: {"tool": found.tool, **found.provenance[i]} for i in found.masks}
    return ({i: (found.file, m) for i, m in found.masks.items()}, provenance, found.decisions)


def _read_fixes(dataset: Dataset, folder: Path) -> dict[int, tuple[Path, np.ndarray]]:
    """{pair position: (absolute file path, mask as labels)} for every PNG in `folder`.

    The files hold the input's raw values, as the input's masks do: they go through the
    reading's label map and its merge check (the same refusal an input mask gets).
    """
    if not folder.is_dir():
        raise InputError(f"--mask-fixes {folder} is not a folder; expected a folder of PNG "
                         "masks named <pair id>.png or <source file stem>.png.")
    folder = folder.resolve()
    by_name = {id_: i for i, id_ in enumerate(dataset.ids)}
    for i, source in enumerate(dataset.sources):
        by_name.setdefault(Path(str(source)).stem, i)
    raw, problems = {}, []
    for path in sorted(p for p in folder.iterdir() if not p.name.startswith(".")):
        if path.suffix.lower() != ".png" or path.stem not in by_name:
            problems.append(f"{path.name}: " + ("not a PNG" if path.suffix.lower() != ".png"
                                                else "names no pair (no such id or source)"))
            continue
        try:
            raw[path] = read_mask(path)
        except InputError as exc:
            problems.append(f"{path.name}: {exc}")
    if not raw and not problems:
        raise InputError(f"--mask-fixes {folder} holds no PNG masks; expected corrected masks "
                         "named <pair id>.png or <source file stem>.png. Nothing was written.")
    try:
        lut = dataset.reading.lut(raw_values(list(raw.values())))
    except InputError as exc:
        raise InputError(f"The corrected masks in {folder} are read like the input's masks, "
                         f"in its raw values, and {exc}") from None
    fixes = {}
    for path, values in raw.items():
        i, mask = by_name[path.stem], lut[values]
        problem = _mask_problem(dataset, i, mask)
        if problem:
            problems.append(f"{path.name}: {problem}")
        elif i in fixes:
            problems.append(f"{path.name}: pair {dataset.ids[i]} already fixed by "
                            f"{fixes[i][0].name}")
        else:
            fixes[i] = (path, mask)
    if problems:
        # Each problem may end its own sentence ('... first.'): no '..' before the next one.
        shown = "; ".join(p.rstrip(".") for p in problems[:5]) + (
            f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise InputError(f"{len(problems)} file(s) in {folder} cannot replace a mask: {shown}. "
                         "Each must be a single-channel PNG named by a pair id (or its source "
                         "file's stem), the size of that pair's image, holding the input's "
                         f"raw values, which become labels 0..{dataset.num_classes - 1}; "
                         "nothing was written.")
    return fixes


def _mask_problem(dataset: Dataset, i: int, mask: np.ndarray) -> str:
    shape = tuple(dataset.images[i].shape[:2])
    if mask.shape != shape:
        return f"size {mask.shape[1]}x{mask.shape[0]}, its image is {shape[1]}x{shape[0]}"
    allowed = set(range(dataset.num_classes)) | {dataset.ignore_index}
    bad = sorted(set(np.unique(mask).tolist()) - allowed)
    return f"labels {bad[:5]} outside 0..{dataset.num_classes - 1}" if bad else ""


def _items(pixels) -> list:
    return list(pixels._items) if isinstance(pixels, LazyPixels) else list(pixels)
