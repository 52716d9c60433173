"""The layouts datasets are shipped in, read into (image, mask) file pairs: Pascal VOC,
Cityscapes, colour-coded masks with a colour table (CamVid), sibling image and label folders,
and Hugging Face parquet. Each layout module has `detect(path)` (why it recognises the tree,
or None) and `find(path, options)` (a FoundPairs); `choose` runs detection in LAYOUTS order
or takes the one --layout names.

The pairs then go through the same reading pass as an images/ + masks/ folder
(curate.io.image_files), with the layout's mask decoder, label map, class names and ignore
class as defaults that the user's read options override.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from curate.io.errors import InputError
from curate.io.image_files import Problem, read_image, read_mask


@dataclass(frozen=True)
class LayoutOptions:
    """What a user may tell a layout reader: its name (skip detection), a colour table file,
    and the image and mask columns of a table-based layout."""

    layout: str | None = None
    colors: str | None = None
    columns: tuple[str, str] | None = None


@dataclass
class FoundPairs:
    """A layout's pairs before any pixel is decoded.

    `files` are (image, mask) locations that `decode_image` / `decode_mask` turn into arrays
    (files on disk; for a table, 'file.parquet#row'); `columns` are per-pair manifest columns
    the layout knows (source_split: the split the data came with; source_group: pairs that
    must share a split, such as the frames of one drive). `label_map`, `class_names`,
    `ignore_index` (with `ignore_reason`) are the format's own conventions, used unless the
    user passes theirs; `void`, the raw value the format marks void with, becomes one more
    class after the named ones, 'void', ignored in metrics. `note` says which layout was recognised and why.
    """

    name: str
    note: str
    files: list[tuple[Path, Path]]
    ids: list[str]
    sources: list[str]
    columns: dict[str, list[str]] = field(default_factory=dict)
    class_names: list[str] | None = None
    label_map: dict[int, int] | None = None
    num_classes: int | None = None
    ignore_index: int | None = None
    ignore_reason: str = ""
    void: int | None = None      # the raw value the format uses for 'void' (VOC: 255)
    problems: list[Problem] = field(default_factory=list)
    decode_image: Callable[[Path], np.ndarray] = read_image
    decode_mask: Callable[[Path], np.ndarray] = read_mask


def layouts() -> dict[str, object]:
    """name -> module, in detection order (the most specific first)."""
    from curate.io.layouts import cityscapes, parquet, sibling, voc

    return {"voc": voc, "cityscapes": cityscapes, "parquet": parquet, "sibling": sibling}


def choose(path: Path, options: LayoutOptions) -> FoundPairs | None:
    """The pairs of `path` in the layout --layout names, or in the first layout detected;
    None when no layout recognises it (and none was named)."""
    known = layouts()
    if options.layout:
        if options.layout not in known:
            raise InputError(f"--layout {options.layout!r} is not a layout curate reads; "
                             f"choose one of: {', '.join(known)} (or leave it out to detect).")
        found = known[options.layout].find(path, options, f"--layout {options.layout}")
        found.note = f"Layout {options.layout} (--layout): {found.note}"
        return found
    for name, module in known.items():
        why = module.detect(path)
        if why:
            found = module.find(path, options, why)
            found.note = (f"Layout {name}, recognised as {why} (--layout NAME to choose "
                          f"another): {found.note}")
            return found
    return None


def stem_id(stem: str) -> str:
    from curate.io.image_files import safe_id

    return safe_id(stem)
