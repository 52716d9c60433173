"""The review's pictures: a JPEG thumbnail of each image and a palette PNG of each mask in
class colours, encoded in worker processes a batch at a time, written as files (the review
folder) or returned as data URIs (the single page).

JPEG, not PNG or WebP, for the photographs: at 256 px it encodes in about 0.3 ms where an
optimised PNG takes 85 ms and WebP 5 ms, at a fifth of the PNG's bytes. Masks stay PNG,
lossless, with the ignore class transparent.
"""

from __future__ import annotations

import base64
import io
import os
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from curate.io.image_files import read_image, read_mask
from curate.ui.palette import palette

OUT_OF_RANGE = (255, 0, 255)   # colour of labels outside 0..num_classes-1
JPEG_QUALITY = 85
# A job: (image: path or (H, W[, 3]) uint8 array, mask: path or (H, W) array, the file stem
# to write "<stem>.jpg" and "<stem>.png" to, or None to return data URIs instead)
Job = tuple[object, object, "str | None"]


def colours(meta: dict) -> np.ndarray:
    """(256, 4) RGBA per label: the class palette, the ignore class transparent, labels
    outside the classes magenta."""
    k = int(meta["num_classes"])
    table = np.tile(np.array([*OUT_OF_RANGE, 255], np.uint8), (256, 1))
    table[:k, :3], table[:k, 3] = palette(k), 255
    if meta.get("ignore_index") is not None:
        table[int(meta["ignore_index"]), 3] = 0
    return table


def image_bytes(image: np.ndarray, width: int) -> bytes:
    """A JPEG of the image, at most `width` pixels wide."""
    picture = Image.fromarray(np.asarray(image))
    if picture.mode not in ("L", "RGB"):
        picture = picture.convert("RGB")
    if picture.width > width:
        picture = picture.resize((width, max(1, round(picture.height * width / picture.width))),
                                 Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def mask_bytes(mask: np.ndarray, table: np.ndarray, width: int) -> bytes:
    """A palette PNG of the mask in class colours, at most `width` pixels wide."""
    picture = Image.fromarray(np.asarray(mask, dtype=np.uint8), mode="P")
    if picture.width > width:
        picture = picture.resize((width, max(1, round(picture.height * width / picture.width))),
                                 Image.Resampling.NEAREST)
    picture.putpalette(table[:, :3].ravel().tolist())
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=1, transparency=bytes(table[:, 3].tolist()))
    return buffer.getvalue()


def uri(data: bytes) -> str:
    kind = "jpeg" if data[:2] == b"\xff\xd8" else "png"
    return f"data:image/{kind};base64," + base64.b64encode(data).decode("ascii")


def encode(jobs: list[Job], table: np.ndarray, width: int, root: str | None
           ) -> list[tuple[str, str] | tuple[int, int]]:
    """Encode a batch: per job the two data URIs, or (with `root`) write the two files under
    root and give the mask's (height, width)."""
    out = []
    for image, mask, stem in jobs:
        image = read_image(Path(image)) if isinstance(image, (str, Path)) else image
        mask = read_mask(Path(mask)) if isinstance(mask, (str, Path)) else mask
        pictures = image_bytes(image, width), mask_bytes(mask, table, width)
        if root is None:
            out.append((uri(pictures[0]), uri(pictures[1])))
            continue
        target = Path(root) / stem
        target.parent.mkdir(parents=True, exist_ok=True)
        target.with_suffix(".jpg").write_bytes(pictures[0])
        target.with_suffix(".png").write_bytes(pictures[1])
        out.append(np.shape(mask)[:2])
    return out


class Encoder:
    """Batches of jobs encoded in `workers` processes, at most `ahead` batches in flight, so
    that memory holds a few batches whatever the count. Results come back in order."""

    def __init__(self, table: np.ndarray, width: int, root: Path | None,
                 workers: int | None = None, ahead: int = 4):
        self.table, self.width, self.root = table, width, None if root is None else str(root)
        self.workers = workers or min(8, os.cpu_count() or 1)
        self.ahead = max(ahead, 2 * self.workers)
        self.pool = ProcessPoolExecutor(self.workers) if self.workers > 1 else None
        self.pending: list[tuple[object, Future | list]] = []

    def submit(self, tag: object, jobs: list[Job]) -> list[tuple[object, list]]:
        """Queue a batch under `tag`; returns the (tag, results) of batches now finished."""
        args = (jobs, self.table, self.width, self.root)
        work = self.pool.submit(encode, *args) if self.pool else encode(*args)
        self.pending.append((tag, work))
        done = []
        while len(self.pending) > self.ahead:
            done.append(self._take())
        return done

    def finish(self) -> list[tuple[object, list]]:
        done = [self._take() for _ in range(len(self.pending))]
        self.close()
        return done

    def close(self) -> None:
        if self.pool:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None

    def _take(self) -> tuple[object, list]:
        tag, work = self.pending.pop(0)
        return tag, work.result() if isinstance(work, Future) else work
