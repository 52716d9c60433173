"""Colour-coded masks: RGB masks whose colours stand for classes, read through a colour table.

A table is CamVid's class_dict.csv (name,r,g,b), a CVAT / Datumaro labelmap.txt
(name:r,g,b:parts:actions), or any such file given with --colors. Row k is class k. A colour a
mask holds that the table lacks is an error naming the colour, its pixels and the file.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from curate.io.errors import InputError

TABLE_NAMES = ("class_dict.csv", "labelmap.txt")
# Class names that mark pixels nobody labelled: that class is ignored in metrics
# (curate.io.layouts.ignore_named_void; colour tables, classes.txt, id2label.json).
VOID_NAMES = {"void", "unlabelled", "unlabeled", "ignore", "ignored", "none", "unknown"}


class UnknownColourError(InputError):
    """A mask holds a colour the table does not name: the whole read stops (not a skip)."""


@dataclass(frozen=True)
class ColourTable:
    names: list[str]
    colours: np.ndarray     # (K, 3) uint8, row k is class k
    path: str

    def decode(self, path: Path) -> np.ndarray:
        """(H, W) uint8 class labels of the RGB mask at `path`."""
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"))
        codes = (rgb[..., 0].astype(np.int32) << 16) | (rgb[..., 1].astype(np.int32) << 8) \
            | rgb[..., 2]
        known = (self.colours[:, 0].astype(np.int32) << 16) \
            | (self.colours[:, 1].astype(np.int32) << 8) | self.colours[:, 2]
        order = np.argsort(known, kind="stable")
        found, inverse, counts = np.unique(codes.ravel(), return_inverse=True,
                                           return_counts=True)
        at = np.clip(np.searchsorted(known[order], found), 0, len(known) - 1)
        hit = known[order][at] == found
        if not hit.all():
            missing = [(int(c), int(n)) for c, n, h in zip(found, counts, hit) if not h]
            shown = ", ".join(f"({c >> 16}, {(c >> 8) & 255}, {c & 255}) in {n:,} pixels"
                              for c, n in missing[:3])
            raise UnknownColourError(
                f"{path.name} holds {len(missing)} colour(s) that {self.path} does not name: "
                f"{shown}. Add them to the table (a row per class), or repaint those pixels "
                "with a colour of the table; nothing was written.")
        labels = order[at].astype(np.uint8)
        return labels[inverse].reshape(codes.shape)


def find_table(folder: Path, given: str | None) -> ColourTable | None:
    """The table named by --colors, else class_dict.csv or labelmap.txt in `folder` (or its
    parent); None when there is none."""
    if given:
        return read_table(Path(given))
    for place in (folder, folder.parent):
        for name in TABLE_NAMES:
            if (place / name).is_file():
                return read_table(place / name)
    return None


def read_table(path: Path) -> ColourTable:
    if not path.is_file():
        raise InputError(f"Colour table {path} does not exist; expected a class_dict.csv "
                         "(name,r,g,b) or a labelmap.txt (name:r,g,b::).")
    text = path.read_text(encoding="utf-8-sig")
    rows = _labelmap_rows(text) if ":" in text.split("\n", 1)[0] or path.suffix == ".txt" \
        else _csv_rows(text)
    if not rows:
        raise InputError(f"{path} holds no colour rows; expected name,r,g,b per line (CamVid's "
                         "class_dict.csv) or name:r,g,b:: (CVAT's labelmap.txt).")
    colours = np.array([c for _, c in rows], dtype=np.int64)
    if (colours < 0).any() or (colours > 255).any():
        raise InputError(f"{path}: colour values must be 0..255.")
    codes = [tuple(c) for c in colours.tolist()]
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise InputError(f"{path} gives the colour {twice[0]} to more than one class; each "
                         "class needs its own colour.")
    if len(rows) > 256:
        raise InputError(f"{path} has {len(rows)} classes; curate stores labels as 8 bits "
                         "(at most 256).")
    return ColourTable([n for n, _ in rows], colours.astype(np.uint8), str(path))


def _csv_rows(text: str) -> list[tuple[str, list[int]]]:
    reader = csv.reader(line for line in text.splitlines() if line.strip())
    rows = list(reader)
    if rows and not all(v.strip().lstrip("-").isdigit() for v in rows[0][1:4]):
        rows = rows[1:]  # a header (name,r,g,b)
    try:
        return [(r[0].strip(), [int(v) for v in r[1:4]]) for r in rows]
    except (ValueError, IndexError) as exc:
        raise InputError(f"A colour table row is not name,r,g,b ({exc}).") from None


def _labelmap_rows(text: str) -> list[tuple[str, list[int]]]:
    rows = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, rest = line.partition(":")
        colour = rest.split(":")[0]
        try:
            rows.append((name.strip(), [int(v) for v in colour.split(",")]))
        except ValueError:
            raise InputError(f"A labelmap.txt row is not name:r,g,b:: ({line!r}).") from None
    return rows
