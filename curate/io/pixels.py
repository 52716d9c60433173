"""Pixels by reference: a read-only sequence of images or masks that decodes a file each time
an item is taken, so that a folder larger than memory is scanned, judged and written pair by
pair. Small folders stay plain lists of arrays (`lazy_budget` decides)."""

from __future__ import annotations

import functools
import operator
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from curate.io.errors import InputError

# Above this many decoded bytes (images H*W*C plus masks H*W) a folder is read by reference.
# curate reads each pixel once or twice (the scan, then the sheets or the write), so holding a
# large folder in memory buys little: reading 6,000 256x256 colour pairs by reference was as
# fast as in memory and peaked at 0.4 GB instead of 1.9 GB (docs/results/outliers_folder_speed.md).
# Training reads every pixel each epoch, so segment passes its own, larger budget
# (segment.data.file_stack.DEFAULT_LAZY_BYTES).
DEFAULT_LAZY_BYTES = 512_000_000
LAZY_BYTES_ENV = "CURATE_LAZY_BYTES"


def lazy_budget(variable: str = LAZY_BYTES_ENV, default: int = DEFAULT_LAZY_BYTES) -> int:
    """The byte budget for holding pixels in memory: the environment variable `variable`
    ($CURATE_LAZY_BYTES for curate's folders, $SEGMENT_LAZY_BYTES for segment's splits), else
    `default` (curate's 512 MB; segment passes its own, 2 GB)."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise InputError(
            f"{variable}={text!r} is not a byte count; expected an integer >= 0 "
            f"(0 reads everything by reference; unset, the budget is {default:,})."
        )
    return value


@dataclass(frozen=True, eq=False, slots=True)   # one per image and per mask file
class FileRef:
    """One file and the function that turns it into the array a reader returns; `shape` is
    that array's shape, known from the reading pass without decoding again; `facts`, what the
    reading pass learnt of that array for the scan (curate.scan.image_half), if anything."""

    path: str
    shape: tuple[int, ...]
    decode: Callable[[Path], np.ndarray]
    facts: object = None

    def load(self) -> np.ndarray:
        return self.decode(Path(self.path))


class LazyPixels(Sequence):
    """Images or masks as a read-only sequence: items are FileRefs, decoded on every access
    (nothing is cached, so memory stays flat), or arrays appended in memory (augmentation)."""

    def __init__(self, items: Iterable[FileRef | np.ndarray]):
        self._items = list(items)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self.take(range(len(self))[i])
        return _load(self._items[operator.index(i)])

    def __iter__(self) -> Iterator[np.ndarray]:
        return (_load(item) for item in self._items)

    def __add__(self, other: Sequence) -> "LazyPixels":
        return LazyPixels(self._items + _items(other))

    def __radd__(self, other: Sequence) -> "LazyPixels":
        return LazyPixels(_items(other) + self._items)

    def __repr__(self) -> str:
        held = sum(not isinstance(item, FileRef) for item in self._items)
        return f"LazyPixels({len(self)} items, {held} held in memory)"

    def take(self, keep: Iterable[int]) -> "LazyPixels":
        """The items at positions `keep`, in that order, still by reference."""
        return LazyPixels(self._items[int(i)] for i in keep)

    def shape(self, i: int) -> tuple[int, ...]:
        return self._items[i].shape      # a FileRef's, or an array's

    def facts(self, i: int) -> object:
        """What the reading pass learnt of item i for the scan (FileRef.facts); None for an
        array held in memory or a file it learnt nothing of."""
        item = self._items[i]
        return item.facts if isinstance(item, FileRef) else None

    def forget_facts(self, rows: Iterable[int]) -> None:
        """Drop what the reading pass learnt for the scan (FileRef.facts) of the items at
        `rows`, once the scan has used it: later scans decode them again."""
        for i in rows:
            item = self._items[i]
            if isinstance(item, FileRef) and item.facts is not None:
                self._items[i] = FileRef(item.path, item.shape, item.decode)


class ArrayRows(Sequence):
    """The pairs of one stacked array (N, H, W[, C]), such as an npz member, or the rows
    `index` of it (the pairs a subset keeps), as a read-only sequence: rows[i] is a view of
    the array, made when it is taken. A list of the views would hold about 136 bytes per image
    and per mask (270 MB for a million pairs), the index holds 8; a mapped npz's rows stay
    mapped either way."""

    __slots__ = ("array", "index")

    def __init__(self, array: np.ndarray, index: np.ndarray | None = None):
        self.array, self.index = array, index

    def __len__(self) -> int:
        return len(self.array) if self.index is None else len(self.index)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return ArrayRows(self.array[i]) if self.index is None else \
                ArrayRows(self.array, self.index[i])
        i = operator.index(i)
        return self.array[i if self.index is None else self.index[i]]

    def __iter__(self) -> Iterator[np.ndarray]:
        if self.index is None:
            return iter(self.array)
        return (self.array[j] for j in self.index)

    def take(self, keep: Iterable[int]) -> ArrayRows:
        """The rows at positions `keep`, in that order (IndexError for one out of range, as
        taking each row would give)."""
        keep = np.asarray(keep if isinstance(keep, np.ndarray) else list(keep), dtype=np.int64)
        n = len(self)
        outside = keep[(keep < -n) | (keep >= n)]
        if len(outside):
            raise IndexError(f"row {int(outside[0])} is out of range for {n} rows")
        return ArrayRows(self.array, keep if self.index is None else self.index[keep])

    def shape(self, i: int) -> tuple[int, ...]:
        return self.array.shape[1:]

    def __repr__(self) -> str:
        rows = "" if self.index is None else f", {len(self.index)} rows"
        return f"ArrayRows({self.array.shape}, {self.array.dtype}{rows})"


def _load(item: FileRef | np.ndarray) -> np.ndarray:
    return item.load() if isinstance(item, FileRef) else item


def _items(pixels: Sequence) -> list:
    return list(pixels._items) if isinstance(pixels, LazyPixels) else list(pixels)


def take(pixels: Sequence, keep: Iterable[int]) -> Sequence:
    """pixels[i] for i in keep: a LazyPixels stays by reference, rows of an array stay rows of
    it, a list stays a list."""
    if isinstance(pixels, (LazyPixels, ArrayRows)):
        return pixels.take(keep)
    return [pixels[int(i)] for i in keep]


def concat(first: Sequence, second: Sequence) -> Sequence:
    """first followed by second: by reference if either is a LazyPixels, else a new list."""
    if isinstance(first, LazyPixels) or isinstance(second, LazyPixels):
        return LazyPixels(_items(first) + _items(second))
    return list(first) + list(second)


def take_facts(pixels: Sequence, rows: list[int]) -> list | None:
    """The facts the reading pass kept of pixels[rows] (FileRef.facts), in order, when it
    kept them of every one; they are then let go (used once: later scans decode). None
    otherwise, and for pixels held in memory."""
    if not isinstance(pixels, LazyPixels):
        return None
    facts = [pixels.facts(i) for i in rows]
    if not facts or any(f is None for f in facts):
        return None
    pixels.forget_facts(rows)
    return facts


def map_pixels(pixels: Sequence, transform: Callable[[np.ndarray], np.ndarray],
               shape: Callable[[tuple], tuple] | None = None,
               only: Sequence[bool] | None = None,
               facts: Callable[[object], object] | None = None) -> Sequence:
    """transform(p) for each p in pixels (or only where `only` is True): applied now to a
    list, at each decode to a LazyPixels (`shape` says what the transform does to a shape;
    None: keeps it; `facts`, what it does to a FileRef's facts: None drops them, since
    facts of the untransformed pixels would be wrong)."""
    only = [True] * len(pixels) if only is None else only
    if not isinstance(pixels, LazyPixels):
        return [transform(p) if o else p for p, o in zip(pixels, only, strict=True)]
    return LazyPixels(_then_ref(item, transform, shape, facts) if o else item
                      for item, o in zip(pixels._items, only, strict=True))


def _then_ref(item: FileRef | np.ndarray, transform: Callable, shape: Callable | None,
              facts: Callable | None = None):
    if not isinstance(item, FileRef):
        return transform(item)
    return FileRef(item.path, shape(item.shape) if shape else item.shape,
                   functools.partial(_then, item.decode, transform),
                   facts(item.facts) if facts and item.facts is not None else None)


def _then(decode: Callable, transform: Callable, path: Path) -> np.ndarray:
    return transform(decode(path))


def shape_of(pixels: Sequence, i: int) -> tuple[int, ...]:
    """The shape of pixels[i], without decoding a file for a LazyPixels."""
    return pixels.shape(i) if isinstance(pixels, (LazyPixels, ArrayRows)) else pixels[i].shape
