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


def class_file_names(folder: Path) -> list[str] | None:
    """The names in `folder`/classes.txt (one a line, line k = class k; `curate export --to
    folder` writes it), or None when there is none."""
    path = folder / "classes.txt"
    if not path.is_file():
        return None
    names = [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines()]
    while names and not names[-1]:
        names.pop()
    return names or None


def ignore_named_void(found: FoundPairs, where: str) -> None:
    """Ignore in metrics the first of found.class_names named void (unlabelled, ignore, ...;
    colours.VOID_NAMES), saying that `where` names it so."""
    from curate.io.layouts.colours import VOID_NAMES

    hits = [k for k, name in enumerate(found.class_names or [])
            if name.strip().lower() in VOID_NAMES]
    if hits:
        k = hits[0]
        found.ignore_index = k
        found.ignore_reason = (f"Class {k} ({found.class_names[k]}) is ignored in metrics: "
                               f"{where} names it void. Pass --ignore-index -1 to score every "
                               "class, or another K.")
