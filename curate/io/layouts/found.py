"""What a layout reader returns: the pairs it found, before any pixel is decoded, and what the
format says their values mean (curate.io.layouts explains the readers)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from curate.io.image_files import Problem, read_image, read_mask, safe_id


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


def stem_id(stem: str) -> str:
    """A pair id from a file stem (letters, digits, '-', '_' and '.')."""
    return safe_id(stem)
