"""Corrected masks from labelling tools: a CVAT "Segmentation mask 1.1" export (zip or folder)
and a Label Studio JSON export, read as labels of the dataset's classes (by class name), and
the review page's region_fixes.csv (curate.data.region_fixes, labels by number),
with where each mask came from (tool, file, task, annotator, time) and the keep/remove choices
an annotator made.

CVAT: SegmentationClass/<id>.png colours through the export's own labelmap.txt; its row
`background` (black) is the ignore class, else a class named background. Label Studio: each
task's latest submitted annotation; its brush results (run-length code) are merged per class,
pixels no brush covers are the ignore class, and pixels two classes cover are refused.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from curate.errors import InputError
from curate.io import brush_rle
from curate.io.dataset import Dataset
from curate.io.layouts.colours import read_table
from curate.data.region_fixes import REVIEW, is_region_fixes, read_region_fixes

BACKGROUND = "background"
CVAT, LABEL_STUDIO = "CVAT", "Label Studio"
DECISION_TAG = "decision"       # the Choices of the exported label config


@dataclass
class ToolFixes:
    """Corrected masks by pair position, each with its provenance, and the tool's choices."""

    tool: str
    file: Path
    masks: dict[int, np.ndarray] = field(default_factory=dict)       # (H, W) uint8 labels
    provenance: dict[int, dict] = field(default_factory=dict)        # task, annotator, time
    decisions: dict[int, str] = field(default_factory=dict)          # remove / keep


def background_class(names: list[str], ignore_index: int | None) -> int | None:
    """The class a tool's unpainted pixels stand for: the ignore class, else one named
    background, else none."""
    if ignore_index is not None:
        return ignore_index
    lowered = [n.strip().lower() for n in names]
    return lowered.index(BACKGROUND) if BACKGROUND in lowered else None


def tool_of(path: Path) -> str | None:
    """CVAT for a zip or a folder with labelmap.txt and SegmentationClass/, Label Studio for
    a .json file, review for a .csv file (region_fixes.csv); None for anything else (a
    folder of PNG masks)."""
    if is_region_fixes(path):
        return REVIEW
    if path.is_file() and path.suffix.lower() == ".json":
        return LABEL_STUDIO
    if path.is_file() and zipfile.is_zipfile(path):
        return CVAT
    if path.is_dir() and _cvat_root(path) is not None:
        return CVAT
    return None


def read_tool_fixes(dataset: Dataset, path: Path) -> ToolFixes:
    """The corrections of the export at `path` (see tool_of); InputError names every
    task or file that cannot replace a mask, and nothing is applied."""
    path = path.resolve()
    if tool_of(path) == REVIEW:
        return ToolFixes(REVIEW, path, *read_region_fixes(dataset, path))
    if tool_of(path) == LABEL_STUDIO:
        return _label_studio(dataset, path)
    if path.is_dir():
        return _cvat(dataset, path, path)
    with tempfile.TemporaryDirectory(prefix="curate-cvat-") as tmp:
        try:
            with zipfile.ZipFile(path) as archive:
                archive.extractall(tmp)
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(f"--mask-fixes {path} cannot be unpacked ({exc}); expected "
                             "CVAT's Segmentation mask 1.1 export; nothing was written.") from exc
        return _cvat(dataset, Path(tmp), path)


def _positions(dataset: Dataset) -> dict[str, int]:
    return {str(i): n for n, i in enumerate(dataset.ids)}


def _cvat_root(folder: Path) -> Path | None:
    for place in (folder, *sorted(p for p in folder.iterdir() if p.is_dir())):
        if (place / "labelmap.txt").is_file() and (place / "SegmentationClass").is_dir():
            return place
    return None


def _cvat(dataset: Dataset, folder: Path, file: Path) -> ToolFixes:
    root = _cvat_root(folder)
    if root is None:
        raise InputError(f"--mask-fixes {file} is not a CVAT Segmentation mask 1.1 export: no "
                         "labelmap.txt beside a SegmentationClass/ folder; nothing was written.")
    table = read_table(root / "labelmap.txt")
    to_label = _names_to_labels(dataset, table.names, f"{file} (labelmap.txt)")
    fixes, position, problems = ToolFixes(CVAT, file), _positions(dataset), []
    for png in sorted((root / "SegmentationClass").glob("*.png")):
        if png.stem not in position:
            problems.append(f"{png.name}: names no pair of this dataset")
            continue
        try:
            rows = table.decode(png)
        except InputError as exc:
            problems.append(str(exc).split("; nothing")[0])
            continue
        mask = to_label[rows]
        if (mask == 255).any() and to_label.max() == 255:
            problems.append(f"{png.name}: {(mask == 255).sum():,} pixels are background and "
                            "this dataset has no ignore class to read them as")
            continue
        fixes.masks[position[png.stem]] = mask
        fixes.provenance[position[png.stem]] = {"task": "", "annotator": "", "time": ""}
    _refuse(problems, file)
    return fixes


def _names_to_labels(dataset: Dataset, names: list[str], where: str) -> np.ndarray:
    """(256,) uint8: tool row -> our label (255: background without a class to be)."""
    ours = {n: k for k, n in enumerate(dataset.class_names)}
    ours.update({n.strip().lower(): k for k, n in enumerate(dataset.class_names)})
    back = background_class(list(dataset.class_names), dataset.ignore_index)
    lut = np.full(256, 255, np.uint8)
    unknown = []
    for row, name in enumerate(names):
        if name.strip().lower() == BACKGROUND:
            lut[row] = 255 if back is None else back
        elif name in ours or name.strip().lower() in ours:
            lut[row] = ours.get(name, ours.get(name.strip().lower()))
        else:
            unknown.append(name)
    if unknown:
        raise InputError(f"{where} names label(s) this dataset does not have: {unknown}; its "
                         f"classes are {list(dataset.class_names)}. Rename them in the tool, "
                         "or correct the masks of a dataset with those classes; nothing was "
                         "written.")
    return lut


def _label_studio(dataset: Dataset, file: Path) -> ToolFixes:
    try:
        tasks = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"--mask-fixes {file} is not readable JSON ({exc}); expected Label "
                         "Studio's JSON export; nothing was written.") from exc
    if not isinstance(tasks, list):
        raise InputError(f"--mask-fixes {file} holds no list of tasks; expected Label Studio's "
                         "JSON export (not JSON-MIN or CSV); nothing was written.")
    fixes, position, problems = ToolFixes(LABEL_STUDIO, file), _positions(dataset), []
    names = [str(n) for n in dataset.class_names]
    for task in tasks:
        where = f"task {task.get('id', '?')}"
        pair = str((task.get("data") or {}).get("pair_id", ""))
        annotation = _latest(task.get("annotations") or [])
        if annotation is None:
            continue
        if pair not in position:
            problems.append(f"{where}: pair id {pair!r} " + (
                "is not in this dataset" if pair else "is missing (data.pair_id)"))
            continue
        try:
            mask, choice = _annotation(dataset, position[pair], annotation, names, where)
        except InputError as exc:
            problems.append(str(exc))
            continue
        if choice:
            fixes.decisions[position[pair]] = choice
        if mask is not None:
            fixes.masks[position[pair]] = mask
            fixes.provenance[position[pair]] = {
                "task": str(task.get("id", "")), "annotator": _annotator(annotation),
                "time": str(annotation.get("updated_at") or annotation.get("created_at") or "")}
    _refuse(problems, file)
    return fixes


def _latest(annotations: list[dict]) -> dict | None:
    """The last submitted annotation (skipped and cancelled ones do not count)."""
    kept = [a for a in annotations if not a.get("was_cancelled")]
    return max(kept, key=lambda a: str(a.get("updated_at") or a.get("created_at") or ""),
               default=None)


def _annotator(annotation: dict) -> str:
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        return str(who.get("email") or who.get("username") or who.get("id", ""))
    return "" if who is None else f"user {who}"


def _annotation(dataset: Dataset, i: int, annotation: dict, names: list[str],
                where: str) -> tuple[np.ndarray | None, str]:
    """(the merged mask, or None when the annotation paints nothing; its choice)."""
    layers: dict[int, np.ndarray] = {}
    choice = ""
    for result in annotation.get("result") or []:
        value = result.get("value") or {}
        if result.get("type") == "choices" and result.get("from_name") == DECISION_TAG:
            choice = str((value.get("choices") or [""])[0]).strip().lower()
            continue
        if result.get("type") != "brushlabels":
            continue
        label = str((value.get("brushlabels") or [""])[0])
        if label not in names:
            raise InputError(f"{where}: brush label {label!r} is not a class of this dataset "
                             f"({', '.join(names)})")
        size = (int(result.get("original_height", 0)), int(result.get("original_width", 0)))
        painted = brush_rle.decode(value.get("rle") or [], *size, where=f"{where}, {label}")
        k = names.index(label)
        layers[k] = layers[k] | painted if k in layers and layers[k].shape == size else painted
    if choice and choice not in ("keep", "remove"):
        raise InputError(f"{where}: choice {choice!r}; expected keep or remove")
    if not layers:
        return None, choice
    return _merge(dataset, i, layers, names, where), choice


def _merge(dataset: Dataset, i: int, layers: dict[int, np.ndarray], names: list[str],
           where: str) -> np.ndarray:
    shapes = {m.shape for m in layers.values()}
    if len(shapes) > 1:
        raise InputError(f"{where}: its brushes are of different sizes {sorted(shapes)}")
    stack = np.stack(list(layers.values()))                       # (L, H, W)
    overlap = int((stack.sum(0) > 1).sum())
    if overlap:
        raise InputError(f"{where}: {overlap:,} pixels are painted with more than one class "
                         f"({', '.join(names[k] for k in layers)}); erase one of them")
    back = background_class(names, dataset.ignore_index)
    bare = int((stack.sum(0) == 0).sum())
    if bare and back is None:
        raise InputError(f"{where}: {bare:,} pixels carry no class, and this dataset has no "
                         "ignore class to read them as; paint them")
    mask = np.full(stack.shape[1:], 0 if back is None else back, np.uint8)
    for k, painted in layers.items():
        mask[painted] = k
    return mask


def _refuse(problems: list[str], file: Path) -> None:
    if problems:
        shown = "; ".join(p.rstrip(".") for p in problems[:5]) + (
            f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise InputError(f"{len(problems)} correction(s) in {file} cannot replace a mask: "
                         f"{shown}. Nothing was written.")
