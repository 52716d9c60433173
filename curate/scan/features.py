"""One pass over the pixels: a per-pair feature table that every check reads.

Pairs of the same shape are processed as one stacked batch, so the cost per pair is a few
vectorised numpy operations rather than a Python loop.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from curate.scan import cluster
from curate.scan.compiled import ready
from curate.scan.columns import FeatureColumns
from curate.io.dataset import Dataset, to_gray
from curate.scan.embedding import texture_embedding
from curate.scan.stored_vectors import strings
from curate.scan import mask_half
from curate.scan.image_half import FactsBatch, ImageFacts, digest, take_columns
from curate.scan.mask_half import MaskFacts
from curate.scan.phash import phash
from curate.io.npz import release_pages
from curate.io.pixels import ArrayRows, shape_of, take_facts
from curate.ui.progress import step

CHUNK = 128            # pairs per vectorised batch: amortises Python overhead, fits in cache
# ... and at most this many pixel bytes (image + mask) per batch, so that large images come in
# smaller batches: the batch's float copies are ~10x its bytes, once per thread (and per task
# on a cluster). 128 pairs up to 256x256 RGB; 32 at 512x512 RGB, 8 at 1024x1024 RGB.
CHUNK_BYTES = 32 << 20


def scan(dataset: Dataset) -> pd.DataFrame:
    """Feature table, one row per pair, in dataset order.

    Columns: id, source, height, width, channels, mask_height, mask_width, image_sha1,
    mask_sha1, pair_sha1, phash (16 hex digits), mean, std, min, max, entropy, sharpness
    (Laplacian variance), blur_keep (share of the Laplacian variance a re-blur keeps: near 1
    when defocused, whatever the contrast; see `blur_keep`), edge_keep (see `blur_measures`),
    labelled_frac, mask_classes, mask_boundary, labelled_fill (labelled pixels / area of
    their bounding box: 1 for a solid rectangle), labelled_margin (widest gap in pixels between
    that box and the frame's edge; -1 when nothing is labelled), out_of_range,
    px_0 .. px_{K-1}, embedding (picture-style vector, float16 hex; curate/scan/embedding.py).
    """
    groups: dict[tuple, list[int]] = {}
    for i in range(len(dataset)):
        shapes = (shape_of(dataset.images, i), shape_of(dataset.masks, i))
        groups.setdefault(shapes, []).append(i)
    chunks = [idx[s:s + size] for shapes, idx in groups.items()
              for size in [_chunk_pairs(shapes)] for s in range(0, len(idx), size)]

    compiled = ready()   # here, not in a thread: compiled or loaded once, its note raised once

    columns = FeatureColumns(len(dataset))

    def run(number: int) -> None:
        idx = chunks[number]
        half = take_columns(dataset.images, idx)     # from a folder's reading pass
        if half is None:
            image_list = [dataset.images[i] for i in idx]
            images = np.stack(image_list)
            release_pages(image_list)      # copied: the pages of a mapped npz may go
            half = image_half(images, compiled).columns()
            del images
        known = take_facts(dataset.masks, idx)     # likewise
        if known is not None:
            mask = mask_half.columns(known, dataset.num_classes, dataset.ignore_index)
        else:
            mask_list = [dataset.masks[i] for i in idx]
            masks = np.stack(mask_list)
            release_pages(mask_list)
            mask = _mask_half(masks, dataset.num_classes, dataset.ignore_index, compiled)
        columns.put(number, idx, _pair_rows(half, mask, shape_of(dataset.masks, idx[0])))
        advance(len(idx))

    client = cluster.current()
    if client is not None:
        for number, part in enumerate(_scan_on_cluster(client, dataset, chunks)):
            columns.put(number, chunks[number], part)
    else:
        # The compiled kernels (nogil) and numpy both release the GIL, so threads over chunks
        # use every core. BLAS must then run single-threaded: its own threads on top
        # oversubscribe the cores and made the small pHash matrix products ten times slower on
        # a busy 2-core machine.
        with step("scanning pixels", len(dataset)) as advance, \
                threadpool_limits(limits=1, user_api="blas"), \
                ThreadPoolExecutor(max_workers=cluster.threads()) as pool:
            list(pool.map(run, range(len(chunks))))
    for pixels in (dataset.images, dataset.masks):
        if isinstance(pixels, ArrayRows) and len(pixels):
            # pages the kernel mapped again around a batch's after they were released
            # (fault-around) would stay resident until exit: all of them go now
            release_pages([pixels.array])
    table = columns.table()
    table.insert(0, "id", dataset.ids)
    table.insert(1, "source", dataset.sources)
    return table


def _scan_on_cluster(client, dataset: Dataset, chunks: list[list[int]]) -> list[dict]:
    """The same chunks as the in-process scan, sent to Dask workers a task at a time.

    Only a few tasks are out at once (cluster.in_flight): each one's pixels are decoded here
    and held until a worker has scanned them, so sending every task up front would hold the
    whole dataset in this process, defeating a folder read by reference (curate.io.pixels).
    """
    from distributed import as_completed

    tasks = iter(enumerate(_tasks(chunks, dataset)))
    done = as_completed()
    sent: dict = {}

    def send() -> None:   # the next task, if any is left
        t, task = next(tasks, (None, None))
        if task is None:
            return
        batches = [(np.stack([dataset.images[i] for i in idx]),
                    np.stack([dataset.masks[i] for i in idx])) for idx in task]
        future = client.submit(_scan_task, batches, dataset.num_classes, dataset.ignore_index,
                               pure=False)
        sent[future] = (t, sum(map(len, task)))
        done.add(future)

    for _ in range(cluster.in_flight(client)):
        send()
    results: dict[int, list[dict]] = {}
    with step("scanning pixels on the cluster", len(dataset)) as advance:
        for future in done:
            t, n = sent.pop(future)
            results[t] = future.result()
            advance(n)
            send()
    return [part for t in sorted(results) for part in results[t]]


def _chunk_pairs(shapes: tuple[tuple[int, ...], tuple[int, ...]]) -> int:
    """Pairs per batch for pairs of these (image, mask) shapes: CHUNK, fewer for large images."""
    pair_bytes = sum(int(np.prod(shape)) for shape in shapes)
    return max(1, min(CHUNK, CHUNK_BYTES // max(pair_bytes, 1)))


def _tasks(chunks: list[list[int]], dataset: Dataset) -> list[list[list[int]]]:
    """Consecutive chunks grouped into tasks of at most cluster.TASK_PAIRS pairs and
    cluster.TASK_BYTES pixel bytes (a task's pixels are held here until it is scanned)."""
    tasks: list[list[list[int]]] = [[]]
    pairs = size = 0
    for idx in chunks:
        i = idx[0]
        chunk_bytes = len(idx) * (int(np.prod(shape_of(dataset.images, i)))
                                  + int(np.prod(shape_of(dataset.masks, i))))
        if tasks[-1] and (pairs + len(idx) > cluster.TASK_PAIRS
                          or size + chunk_bytes > cluster.TASK_BYTES):
            tasks.append([])
            pairs = size = 0
        tasks[-1].append(idx)
        pairs, size = pairs + len(idx), size + chunk_bytes
    return [t for t in tasks if t]


def _scan_task(batches: list[tuple[np.ndarray, np.ndarray]], num_classes: int,
               ignore_index: int | None) -> list[dict[str, np.ndarray]]:
    """One Dask task: the feature rows of a few stacked batches, batch by batch."""
    compiled = ready()
    with threadpool_limits(limits=1, user_api="blas"):
        return [_scan_batch(images, masks, num_classes, ignore_index, compiled)
                for images, masks in batches]


def _scan_batch(images: np.ndarray, masks: np.ndarray, num_classes: int,
                ignore_index: int | None, compiled: bool = False) -> dict[str, np.ndarray]:
    """The feature rows of one stacked batch; `compiled`: the numba kernels compute the pixel
    statistics and the embedding (else the numpy reference code)."""
    return _pair_rows(image_half(images, compiled).columns(),
                      _mask_half(masks, num_classes, ignore_index, compiled), masks.shape[1:])


def image_half(images: np.ndarray, compiled: bool = False,
               gray_rgb: list[bool] | None = None) -> FactsBatch:
    """The image half of the feature rows of a stacked batch of same-shape images
    (curate.scan.image_half); `gray_rgb`, which of them are gray stored as RGB: their facts
    as gray images are kept too."""
    gray = np.stack([to_gray(im) for im in images]) if images.ndim == 4 else images
    if compiled:   # imported here: importing them imports numba (curate.scan.kernels)
        from curate.scan.embedding_kernel import embed
        from curate.scan.pixel_kernel import pixel_columns
    pixels = pixel_columns(gray) if compiled else pixel_stats(gray)
    style = embed(gray) if compiled else texture_embedding(gray)   # picture style: odd_image
    # as gray, such an image has the same gray features: only its digest and channels differ
    same = [bool(g) and images.ndim == 4 and np.array_equal(gray[i], images[i, ..., 0])
            for i, g in enumerate(gray_rgb or [False] * len(images))]
    return FactsBatch(images, phash(gray), pixels, style, same)


def pair_facts(images: list[np.ndarray], gray_rgb: list[bool],
               masks: list[np.ndarray]) -> list[tuple[ImageFacts, MaskFacts]]:
    """The scan's facts of pairs whose images have one shape, for the reading pass of a
    folder read by reference (curate.io.image_files.read_pairs' scan_pairs). Call
    `compiled.ready()` once before the reading threads start, and hold BLAS to one thread
    (as `scan` does)."""
    compiled = ready()
    return list(zip(image_half(np.stack(images), compiled, gray_rgb).facts(),
                    [MaskFacts(m, compiled) for m in masks]))


def _mask_half(masks: np.ndarray, num_classes: int, ignore_index: int | None,
               compiled: bool) -> dict[str, np.ndarray]:
    """mask_sha1 and the mask columns of a stacked batch of masks (as mask_half.columns)."""
    if compiled:   # imported here: importing it imports numba (curate.scan.kernels)
        from curate.scan.pixel_kernel import mask_columns
    return {"mask_sha1": [digest(m).hex() for m in masks],
            **(mask_columns(masks, num_classes, ignore_index) if compiled
               else mask_stats(masks, num_classes, ignore_index))}


def _pair_rows(half: dict[str, np.ndarray], mask: dict, mask_shape: tuple[int, ...]
               ) -> dict[str, np.ndarray]:
    """The feature rows of a batch from its images' half (FactsBatch.columns) and its masks'
    (`_mask_half` or mask_half.columns; masks of shape `mask_shape`)."""
    n = len(half["height"])
    mask_sha = mask["mask_sha1"]
    # Text columns as object arrays of Python strings: numpy's fixed-width str dtype takes
    # 4 bytes a character, which at 200k pairs was most of the scan's peak memory.
    out: dict[str, np.ndarray] = {
        "height": half["height"], "width": half["width"], "channels": half["channels"],
        "mask_height": np.full(n, mask_shape[0]),
        "mask_width": np.full(n, mask_shape[1]),
        "image_sha1": half["image_sha1"],
        "mask_sha1": strings(mask_sha),
        "pair_sha1": strings([hashlib.sha1((a + b).encode()).hexdigest()
                              for a, b in zip(half["image_sha1"], mask_sha)]),
        "phash": half["phash"],
    }
    out.update((name, values) for name, values in half.items()
               if name not in out and name != "embedding")      # the pixel statistics
    out.update((name, values) for name, values in mask.items() if name != "mask_sha1")
    out["embedding"] = half["embedding"]
    return out


def pixel_stats(gray: np.ndarray) -> dict[str, np.ndarray]:
    """Brightness, contrast, entropy and sharpness of (N, H, W) uint8 images."""
    n = len(gray)
    flat = gray.reshape(n, -1)
    pixels = max(flat.shape[1], 1)
    hist = _histograms(flat, 256).astype(np.float64)               # (N, 256)
    levels = np.arange(256, dtype=np.float64)
    mean = hist @ levels / pixels
    var = np.maximum(hist @ (levels ** 2) / pixels - mean ** 2, 0.0)
    # -sum p log2 p with p = c / P equals log2 P - sum(c log2 c) / P (0 log 0 = 0).
    entropy = np.log2(pixels) - (hist * np.log2(np.maximum(hist, 1.0))).sum(axis=1) / pixels
    sharpness = _laplacian_variance(gray)
    return {
        "mean": mean,
        "std": np.sqrt(var),
        "min": flat.min(axis=1).astype(np.int64) if flat.size else np.zeros(n, np.int64),
        "max": flat.max(axis=1).astype(np.int64) if flat.size else np.zeros(n, np.int64),
        "entropy": entropy,
        "sharpness": sharpness,
        **dict(zip(("blur_keep", "edge_keep"), blur_measures(gray))),
    }


def blur_keep(gray: np.ndarray) -> np.ndarray:
    """Share of its fine detail an image keeps when blurred again (see `blur_measures`)."""
    return blur_measures(gray)[0]


def blur_measures(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(blur_keep, edge_keep) per (N, H, W) uint8 image, from one re-blur.

    blur_keep: the share of its fine detail an image keeps when blurred again.

    Fine detail is the Laplacian variance; the re-blur is the 5-tap binomial filter (a
    Gaussian of sigma 1), rounded to whole gray levels like the image itself, so that the
    rounding noise every uint8 image carries is on both sides of the ratio. A sharp image
    loses most of its finest octave to the re-blur (Mars frames keep 2-20 %); a defocused one
    has little left to lose (after a Gaussian blur of sigma 1.5 it keeps over half). The
    ratio does not change when contrast is scaled or an offset added, so haze, shadow and
    dark exposure do not read as blur; the +1 on both sides keeps near-constant images
    (blank's business) from dividing noise by noise. NaN for images under 7 pixels a side.

    edge_keep: the same ratio for the image's sharpest edges alone, the 99.7th percentile of
    the Laplacian's magnitude after and before the re-blur. A smooth frame (sky over a dune)
    has little fine detail, so its blur_keep can be high, but the few edges it has are
    steep, and a re-blur flattens them to under 0.4 of their height (400 raw AI4Mars
    frames: 0.12-0.36); a defocused image has no steep edge left (sigma 1.5: over 0.66).
    """
    n, h, w = gray.shape
    if h < 7 or w < 7:
        return np.full(n, np.nan), np.full(n, np.nan)
    g = gray.astype(np.int32)
    rows = g[:, :-4] + 4 * g[:, 1:-3] + 6 * g[:, 2:-2] + 4 * g[:, 3:-1] + g[:, 4:]
    blurred = (rows[:, :, :-4] + 4 * rows[:, :, 1:-3] + 6 * rows[:, :, 2:-2]
               + 4 * rows[:, :, 3:-1] + rows[:, :, 4:] + 128) >> 8  # (N, H-4, W-4), 0..255
    kept = _laplacian_variance(blurred.astype(np.uint8))
    before = _laplacian_variance(gray[:, 2:-2, 2:-2])             # the same interior
    edges = ((_edge_height(blurred.astype(np.uint8)) + 1.0)
             / (_edge_height(gray[:, 2:-2, 2:-2]) + 1.0))
    return (kept + 1.0) / (before + 1.0), edges


def _edge_height(gray: np.ndarray, percentile: float = 99.7) -> np.ndarray:
    """The `percentile` of the 4-neighbour Laplacian's magnitude per (N, H, W) image: how
    steep its sharpest edges are (the top 0.3 %: a skyline across a 256-wide frame)."""
    g = gray.astype(np.int16, copy=False)
    lap = np.abs(g[:, 1:-1, :-2] + g[:, 1:-1, 2:] + g[:, :-2, 1:-1] + g[:, 2:, 1:-1]
                 - 4 * g[:, 1:-1, 1:-1]).reshape(len(g), -1)
    if not lap.shape[1]:
        return np.zeros(len(g))
    return np.percentile(lap, percentile, axis=1)


def _laplacian_variance(gray: np.ndarray) -> np.ndarray:
    """Variance of the 4-neighbour Laplacian per image: low for blurred or flat images.

    `gray` is (N, H, W) uint8, or int16 with values up to 4 * 255 (int16 holds the
    Laplacian of both: at most 8 * 1020).
    """
    n = len(gray)
    if gray.shape[1] < 3 or gray.shape[2] < 3:
        return np.zeros(n)
    g = gray.astype(np.int16, copy=False)
    lap = (g[:, 1:-1, :-2] + g[:, 1:-1, 2:] + g[:, :-2, 1:-1] + g[:, 2:, 1:-1]
           - 4 * g[:, 1:-1, 1:-1]).reshape(n, -1).astype(np.float32)
    mean = lap.sum(axis=1, dtype=np.float64) / lap.shape[1]
    sq = np.einsum("ij,ij->i", lap, lap, dtype=np.float64) / lap.shape[1]
    return np.maximum(sq - mean ** 2, 0.0)


def mask_stats(masks: np.ndarray, num_classes: int,
               ignore_index: int | None) -> dict[str, np.ndarray]:
    """Per-class pixel counts and structure of (N, H, W) uint8 label masks."""
    n = len(masks)
    flat = masks.reshape(n, -1)
    counts = _label_counts(flat, num_classes)                      # (N, 256)
    # Copies, not views: a view would keep the whole (N, 256) count table of every batch
    # alive (at 200k pairs 400 MB) until the scan's end.
    out = {f"px_{k}": counts[:, k].copy() for k in range(num_classes)}
    out["out_of_range"] = counts[:, num_classes:].sum(axis=1)
    out["mask_classes"] = (counts > 0).sum(axis=1)
    ignored = counts[:, ignore_index] if ignore_index is not None else np.zeros(n, np.int64)
    labelled = flat.shape[1] - ignored
    out["labelled_frac"] = labelled / max(flat.shape[1], 1)
    # Share of pixels whose right or lower neighbour has another label: 0 for a uniform mask.
    out["mask_boundary"] = mask_half.boundary_pixels(masks) / max(flat.shape[1], 1)
    out.update(_labelled_box(masks, ignore_index, labelled))
    return out


def _labelled_box(masks: np.ndarray, ignore_index: int | None,
                  labelled: np.ndarray) -> dict[str, np.ndarray]:
    """Where the labelled pixels sit in the frame: fill of their bounding box, widest margin.

    A whole-frame label with a straight border has fill 1 and a margin of the border's
    width; one labelled region on an otherwise ignored frame has a low fill or a wide margin.
    """
    n, h, w = masks.shape
    if ignore_index is None or h == 0 or w == 0:
        return {"labelled_fill": np.ones(n), "labelled_margin": np.zeros(n, np.int64)}
    is_labelled = masks != ignore_index
    rows, cols = is_labelled.any(axis=2), is_labelled.any(axis=1)      # (N, H), (N, W)
    top, left = rows.argmax(axis=1), cols.argmax(axis=1)
    bottom = h - 1 - rows[:, ::-1].argmax(axis=1)
    right = w - 1 - cols[:, ::-1].argmax(axis=1)
    area = (bottom - top + 1) * (right - left + 1)
    margin = np.max([top, left, h - 1 - bottom, w - 1 - right], axis=0)
    empty = labelled == 0
    return {"labelled_fill": np.where(empty, 0.0, labelled / np.maximum(area, 1)),
            "labelled_margin": np.where(empty, -1, margin).astype(np.int64)}


def _label_counts(flat: np.ndarray, num_classes: int) -> np.ndarray:
    """(N, 256) counts of each value in each row of (N, P) uint8 masks.

    Masks are long runs of one label, which makes bincount's increments of a single counter
    wait on each other; for a few classes, one equality pass per class is about twice as
    fast. Rows with values outside 0..num_classes-1 get a full histogram.
    """
    if num_classes > 16:
        return _histograms(flat, 256)
    counts = np.zeros((len(flat), 256), dtype=np.int64)
    for k in range(num_classes):
        counts[:, k] = np.count_nonzero(flat == k, axis=1)
    odd = np.flatnonzero(counts[:, :num_classes].sum(axis=1) < flat.shape[1])
    if len(odd):
        counts[odd] = _histograms(flat[odd], 256)
    return counts


def _histograms(flat: np.ndarray, bins: int) -> np.ndarray:
    """(N, bins) counts of the uint8 values in each row of (N, P) `flat`."""
    return np.stack([np.bincount(row, minlength=bins) for row in flat]) if len(flat) else \
        np.zeros((0, bins), dtype=np.int64)
