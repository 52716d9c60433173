"""The image half of the scan's feature rows, kept compactly so that it can be computed while a
folder is read and used later by the scan.

A folder too large to hold in memory is read by reference (curate.io.pixels): the reading pass
decodes every pair to check it, and the scan used to decode every pair again. Now the reading
pass computes each image's half of the feature row (`curate.scan.features.image_half`) while
it holds the pixels, and each mask's facts (curate.scan.mask_half), so the scan decodes
nothing. A FileRef carries its image's `ImageFacts`; a transformed FileRef
(curate.io.pixels.map_pixels) carries none unless the transform says how its facts follow,
so the scan never uses facts of pixels other than the ones it would have decoded.

The half is stored as numbers (digests, hash bits, float16 embedding) rather than text, about
400 bytes an image, and turned into the table's text columns only when the scan takes it.
"""

from __future__ import annotations

import hashlib

import numpy as np

from curate.io.pixels import take_facts
from curate.scan.stored_vectors import strings, to_hex


class FactsBatch:
    """The image half of a batch of same-shape images: the columns `columns` gives, held as
    numbers. `gray_sha1[i]` is image i's digest as the gray image its first channel is, where
    the image is gray stored as RGB (R = G = B) and its gray features are the same (else
    `gray[i]` is False)."""

    __slots__ = ("shape", "sha1", "gray_sha1", "gray", "phash", "pixels", "embedding")

    def __init__(self, images: np.ndarray, phash: list[int], pixels: dict[str, np.ndarray],
                 embedding: np.ndarray, gray_rgb: np.ndarray):
        self.shape = images.shape[1:]
        self.sha1 = np.frombuffer(b"".join(digest(im) for im in images),
                                  np.uint8).reshape(len(images), 20).copy()
        self.gray = np.asarray(gray_rgb, bool)
        self.gray_sha1 = np.zeros_like(self.sha1)
        for i in np.flatnonzero(self.gray):
            self.gray_sha1[i] = np.frombuffer(digest(np.ascontiguousarray(images[i, ..., 0])),
                                              np.uint8)
        self.phash = np.array(phash, np.uint64)
        self.pixels = pixels
        self.embedding = np.ascontiguousarray(embedding, dtype=np.float16)

    def __len__(self) -> int:
        return len(self.sha1)

    def facts(self) -> list["ImageFacts"]:
        """One ImageFacts per image of the batch, in order."""
        return [ImageFacts(self, row) for row in range(len(self))]

    def columns(self, rows: np.ndarray | None = None,
                as_gray: bool = False) -> dict[str, np.ndarray]:
        """The image half of the feature rows of `rows` (default all) as the table holds it:
        height, width, channels, image_sha1, phash, the pixel statistics, embedding (hex);
        with `as_gray`, of those images read as gray (their first channel)."""
        rows = np.arange(len(self)) if rows is None else np.asarray(rows)
        n = len(rows)
        channels = 1 if len(self.shape) == 2 or as_gray else self.shape[2]
        digests = (self.gray_sha1 if as_gray else self.sha1)[rows]
        return {
            "height": np.full(n, self.shape[0]),
            "width": np.full(n, self.shape[1]),
            "channels": np.full(n, channels),
            "image_sha1": strings([bytes(d).hex() for d in digests]),
            "phash": strings([f"{int(h):016x}" for h in self.phash[rows]]),
            **{name: values[rows] for name, values in self.pixels.items()},
            "embedding": to_hex(self.embedding[rows]),
        }


class ImageFacts:
    """One image's place in a FactsBatch (`as_gray`: read as the gray image of its first
    channel)."""

    __slots__ = ("batch", "row", "as_gray")

    def __init__(self, batch: FactsBatch, row: int, as_gray: bool = False):
        self.batch, self.row, self.as_gray = batch, row, as_gray

    def gray(self) -> "ImageFacts | None":
        """The facts of this image read as gray (its first channel; a gray image as it is),
        or None where they are not known (colour, not gray stored as RGB)."""
        if self.as_gray or len(self.batch.shape) == 2:
            return self
        if not self.batch.gray[self.row]:
            return None
        return ImageFacts(self.batch, self.row, as_gray=True)


def take_columns(images, idx: list[int]) -> dict[str, np.ndarray] | None:
    """The image half of the feature rows of images[idx], in order, as FactsBatch.columns
    gives it, where the reading pass kept facts of every one of them (FileRef.facts), which
    are then let go (used once: a later scan decodes); else None, and the scan decodes."""
    facts = take_facts(images, idx)
    if facts is None:
        return None
    runs, start = [], 0          # runs of consecutive images from one batch, read one way
    for i in range(1, len(facts) + 1):
        if i == len(facts) or facts[i].batch is not facts[start].batch \
                or facts[i].as_gray != facts[start].as_gray:
            rows = np.array([f.row for f in facts[start:i]])
            runs.append(facts[start].batch.columns(rows, facts[start].as_gray))
            start = i
    if len(runs) == 1:
        return runs[0]
    return {name: np.concatenate([run[name] for run in runs]) for name in runs[0]}


def digest(array: np.ndarray) -> bytes:
    """sha1 of the array's shape and bytes: two arrays with the same bytes but different
    shapes are different images."""
    h = hashlib.sha1(str(array.shape).encode())
    h.update(np.ascontiguousarray(array).data)
    return h.digest()
