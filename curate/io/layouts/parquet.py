"""Hugging Face datasets as files: parquet (data/train-00000-of-00001.parquet, ...) or a
`save_to_disk` folder (Arrow files beside dataset_info.json and state.json). An id2label.json
beside them ({"0": name, ...}, as Hugging Face's segmentation datasets ship it) names the classes.

Image columns hold Hugging Face's Image feature, a struct of the encoded file's `bytes` and its
`path`. The image and mask columns are found by name (image / pixel_values / img and label /
annotation / mask / semantic_segmentation / ...) or given with --columns image,mask. A file
named train-*, validation-* or test-* (or a save_to_disk split folder) gives the source split.
Pixels are read a row group at a time with pyarrow (the `formats` extra) and, past the lazy
budget, decoded again from their row when a step needs them.
"""

from __future__ import annotations

import functools
import io
import json
import re
from pathlib import Path

import numpy as np

from curate.io.errors import InputError
from curate.io.image_files import read_image, read_mask
from curate.io.layouts.found import FoundPairs, LayoutOptions, ignore_named_void

IMAGE_COLUMNS = ("image", "pixel_values", "img", "images", "input")
MASK_COLUMNS = ("annotation", "label", "mask", "semantic_segmentation", "segmentation",
                "label_image", "gt", "masks", "labels", "seg", "target")
SPLIT_WORDS = {"train": "train", "training": "train", "validation": "val", "valid": "val",
               "val": "val", "test": "test", "testing": "test"}
INSTALL = "pip install 'curate-segment[formats]' (or: pip install pyarrow)"


def _pyarrow():
    try:
        import pyarrow.ipc  # noqa: F401
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(f"Reading Hugging Face parquet or Arrow files needs pyarrow, which is "
                         f"not installed: {INSTALL}.") from None
    return pq


def table_files(path: Path) -> list[Path]:
    """The parquet or Arrow files of a dataset at `path` (a file, or a folder of them)."""
    if path.is_file():
        return [path] if path.suffix in (".parquet", ".arrow") else []
    if not path.is_dir():
        return []
    found = sorted(path.glob("*.parquet")) or sorted(path.glob("data/*.parquet")) \
        or sorted(path.glob("*/*.parquet"))
    if found:
        return found
    return sorted(p for p in path.rglob("*.arrow") if not p.name.startswith("cache-"))


def detect(path: Path) -> str | None:
    files = table_files(path)
    if not files:
        return None
    kind = "parquet" if files[0].suffix == ".parquet" else "Arrow (save_to_disk)"
    return f"a Hugging Face dataset: {len(files)} {kind} file(s)"


def find(path: Path, options: LayoutOptions, why: str) -> FoundPairs:
    files = table_files(path)
    if not files:
        raise InputError(f"{path} holds no .parquet or .arrow files.")
    _pyarrow()
    image_col, mask_col = _columns(files[0], options.columns)
    refs, ids, sources, split = [], [], [], []
    base = path if path.is_dir() else path.parent
    for file in files:
        label = _split_of(file, base)
        for row in range(_row_count(file)):
            ref = Path(f"{file}#{row}")
            refs.append((ref, ref))
            ids.append(f"{label or file.stem}_{row:06d}")
            sources.append(f"{file.relative_to(base)}#{row}")
            split.append(label)
    if not refs:
        raise InputError(f"{path}: the table files hold no rows.")
    names = _id2label(base)
    found = FoundPairs(
        name="parquet",
        note=(f"{len(refs):,} rows, images from column '{image_col}', masks "
              f"from '{mask_col}'" + (" (--columns)" if options.columns else
                                      " (found by name; --columns image,mask to choose)")
              + ("; the file names give the source split" if any(split) else "")
              + (f"; class names from id2label.json ({len(names)} classes)" if names else "")
              + "."),
        files=refs, ids=ids, sources=sources, class_names=names,
        num_classes=len(names) if names else None,
        columns={"source_split": split} if any(split) else {},
        decode_image=functools.partial(_cell, column=image_col, decode=read_image),
        decode_mask=functools.partial(_cell, column=mask_col, decode=read_mask))
    ignore_named_void(found, "id2label.json")
    return found


def _id2label(base: Path) -> list[str] | None:
    """Class k's name from id2label.json in `base`, when there is one with ids 0..K-1."""
    path = base / "id2label.json"
    if not path.is_file():
        return None
    try:
        table = {int(k): str(v) for k, v in json.loads(path.read_text("utf-8")).items()}
    except (ValueError, AttributeError) as exc:
        raise InputError(f"{path} is not a JSON object of class id -> name ({exc}).") from None
    if sorted(table) != list(range(len(table))):
        raise InputError(f"{path} names the ids {sorted(table)}; expected 0..K-1, one name each.")
    return [table[k] for k in range(len(table))] or None


def _columns(file: Path, given: tuple[str, str] | None) -> tuple[str, str]:
    names = _schema(file).names
    if given:
        missing = [c for c in given if c not in names]
        if missing:
            raise InputError(f"--columns names {missing}, which {file.name} lacks; its columns "
                             f"are: {', '.join(names)}.")
        return given
    image = next((c for c in IMAGE_COLUMNS if c in names), None)
    mask = next((c for c in MASK_COLUMNS if c in names and c != image), None)
    if image is None or mask is None:
        raise InputError(
            f"{file.name} has no recognisable {'image' if image is None else 'mask'} column; its "
            f"columns are: {', '.join(names)}. Name them with --columns IMAGE,MASK (an image "
            f"column is one of {', '.join(IMAGE_COLUMNS)}; a mask column one of "
            f"{', '.join(MASK_COLUMNS)}).")
    return image, mask


def _split_of(file: Path, base: Path) -> str:
    for part in [file.stem, *(p.name for p in file.relative_to(base).parents if p.name)]:
        word = re.split(r"[-_.]", part.lower())[0]
        if word in SPLIT_WORDS:
            return SPLIT_WORDS[word]
    return ""


def _is_arrow(file: Path) -> bool:
    return file.suffix == ".arrow"


def _schema(file: Path):
    pq = _pyarrow()
    if _is_arrow(file):
        import pyarrow.ipc as ipc
        with ipc.open_stream(str(file)) as reader:
            return reader.schema
    return pq.ParquetFile(str(file)).schema_arrow


def _row_count(file: Path) -> int:
    pq = _pyarrow()
    if _is_arrow(file):
        return len(_arrow_table(str(file)))
    return pq.ParquetFile(str(file)).metadata.num_rows


@functools.lru_cache(maxsize=4)
def _arrow_table(file: str):
    import pyarrow.ipc as ipc
    with ipc.open_stream(file) as reader:
        return reader.read_all()


@functools.lru_cache(maxsize=8)
def _row_group(file: str, group: int, column: str):
    """One row group's column of a parquet file (a few recent ones are kept: a pass reads the
    rows in order, so each group is read once)."""
    pq = _pyarrow()
    return pq.ParquetFile(file).read_row_group(group, columns=[column]).column(0)


@functools.lru_cache(maxsize=64)
def _group_starts(file: str) -> np.ndarray:
    pq = _pyarrow()
    meta = pq.ParquetFile(file).metadata
    return np.cumsum([0] + [meta.row_group(g).num_rows for g in range(meta.num_row_groups)])


def _cell(ref: Path, column: str, decode) -> np.ndarray:
    """Decode the image in `column` of the row `ref` ('file.parquet#row') names."""
    file, _, row = str(ref).rpartition("#")
    row = int(row)
    if file.endswith(".arrow"):
        value = _arrow_table(file).column(column)[row].as_py()
    else:
        starts = _group_starts(file)
        group = int(np.searchsorted(starts, row, side="right") - 1)
        value = _row_group(file, group, column)[row - int(starts[group])].as_py()
    data = value.get("bytes") if isinstance(value, dict) else value
    if data is None and isinstance(value, dict) and value.get("path"):
        return decode(Path(value["path"]))
    if not isinstance(data, (bytes, bytearray)):
        raise InputError(f"{Path(file).name} row {row}: column '{column}' holds "
                         f"{type(value).__name__}, not an encoded image (Hugging Face's Image "
                         "feature: bytes and path).")
    return decode(_Named(io.BytesIO(data), f"{Path(file).name}#{row}:{column}"))


class _Named:
    """A file-like object the image readers can open and name in messages."""

    def __init__(self, handle: io.BytesIO, name: str):
        self._handle = handle
        self.name = name

    def __getattr__(self, attr):
        return getattr(self._handle, attr)
