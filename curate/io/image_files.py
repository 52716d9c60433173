"""Read image/mask pairs from an images/ + masks/ folder: pairing by file stem, decoding in
threads, keeping the pixels or only references (a byte budget), and what a file must be
(8-bit, single-channel masks, no decompression bombs)."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from curate.io.contract import IMAGE_SUFFIXES
from curate.io.errors import InputError
from curate.io.pixels import FileRef, LazyPixels
from curate.ui.progress import step

# Larger images than this are refused as a likely decompression bomb (PIL's own limit is
# about 89 Mpx and only warns); segmentation tiles are far smaller.
MAX_PIXELS = 40_000_000


@dataclass(frozen=True)
class Problem:
    """A file or pair that could not be used, with the reason in words."""

    source: str
    reason: str


def is_gray_rgb(image: np.ndarray) -> bool:
    """True for an (H, W, 3) image with R = G = B in every pixel (a gray picture stored as RGB)."""
    return (image.ndim == 3 and image.shape[2] == 3
            and bool((image[..., 1] == image[..., 0]).all() and (image[..., 2] == image[..., 0]).all()))


def safe_id(name: str) -> str:
    """A file-name-safe id: keeps letters (any script), digits, '-', '_' and '.'."""
    cleaned = re.sub(r"[^\w.\-]+", "_", name.strip()).strip("._")
    return cleaned or "pair"


@dataclass
class ReadPair:
    """What the reading pass keeps of one decoded pair: its shapes and the small facts that
    validation needs, and its pixels only while the folder fits the memory budget."""

    image_shape: tuple[int, ...]
    mask_shape: tuple[int, ...]
    gray_rgb: bool              # an (H, W, 3) image with R = G = B in every pixel
    mask_values: np.ndarray     # the raw values the mask holds, ascending
    mask_counts: np.ndarray     # pixels holding each of them
    pixels: tuple[np.ndarray, np.ndarray] | None
    image_facts: object = None  # the image's scan facts, when read by reference (read_pairs)
    mask_facts: object = None   # ... and the mask's

    @classmethod
    def of(cls, image: np.ndarray, mask: np.ndarray, keep: bool) -> "ReadPair":
        counts = np.bincount(mask.ravel(), minlength=256)
        values = np.flatnonzero(counts)
        return cls(image.shape, mask.shape, is_gray_rgb(image), values, counts[values],
                   (image, mask) if keep else None)


class _Budget:
    """Bytes of decoded pixels the reading threads may still hold. Once the folder's pixels
    exceed it, none more are kept and the reader returns references instead."""

    def __init__(self, limit: int):
        self.left = limit
        self.over = False
        self._lock = threading.Lock()

    def admit(self, image: np.ndarray, mask: np.ndarray) -> bool:
        with self._lock:
            self.left -= image.nbytes + mask.nbytes
            self.over = self.over or self.left < 0
            return not self.over


def read_folder(path: Path, budget: int, only: Collection[str] | None = None,
                scan_pairs: ScanPairs | None = None):
    """The pairs of an images/ + masks/ folder: decoded arrays below `budget` bytes, else
    LazyPixels of references; with their ids, sources, problems and per-pair ReadPairs.
    With `only`, just the pairs of those ids (as a whole read names them) are decoded.
    `scan_pairs`: see read_pairs."""
    image_files = files_by_stem(path / "images")
    mask_files = files_by_stem(path / "masks")
    if not image_files and not mask_files:
        raise InputError(
            f"{path}/images and {path}/masks hold no image files "
            f"(looked for {sorted(IMAGE_SUFFIXES)})."
        )
    problems = [Problem(f"images/{f.name}", "no mask with the same file stem in masks/")
                for stem, f in image_files.items() if stem not in mask_files]
    problems += [Problem(f"masks/{f.name}", "no image with the same file stem in images/")
                 for stem, f in mask_files.items() if stem not in image_files]
    pairs, ids, sources, files = [], [], [], []
    stems = sorted(set(image_files) & set(mask_files))
    named = None
    if only is not None:   # the ids a whole read gives, and of those the stems asked for
        problems = []
        named = dict(zip(stems, unique_ids([safe_id(s) for s in stems])))
        wanted = set(only)
        # none of them here: read the whole folder, so the caller finds them missing as usual
        stems = sorted(s for s, i in named.items() if i in wanted) or stems
    decoded = read_pairs([(image_files[s], mask_files[s]) for s in stems], budget,
                         scan_pairs=scan_pairs)
    for stem, result in zip(stems, decoded):
        image_file = image_files[stem]
        if isinstance(result, InputError):
            problems.append(Problem(f"{image_file.parent.name}/{image_file.name}", str(result)))
            continue
        pairs.append(result)
        files.append((image_file, mask_files[stem]))
        ids.append(safe_id(stem) if named is None else named[stem])
        sources.append(f"images/{image_file.name}")
    if not pairs:
        colour = [r for r in decoded if isinstance(r, ColourMaskError)]
        if colour and len(colour) == len(decoded):
            raise InputError(
                f"{path}: every mask is colour-coded ({len(colour)} masks; e.g. "
                f"{colour[0].file}: {colour[0].colours}). Read them through a colour table, "
                "row k the colour of class k: --layout sibling --colors FILE, FILE a "
                "class_dict.csv (name,r,g,b) or a labelmap.txt (name:r,g,b::); or convert each "
                "colour to its class number 0..K-1 in single-channel PNGs (mode L, or mode P "
                "with the colours as its palette)."
            )
        details = "; ".join(f"{p.source}: {p.reason}" for p in problems[:5])
        raise InputError(f"{path}: no usable image/mask pair. {details}")
    images, masks = pixels_of(pairs, files)
    return images, masks, unique_ids(ids) if named is None else ids, sources, problems, pairs


def pixels_of(pairs: list[ReadPair], files: list[tuple], decode_image=None,
              decode_mask=None) -> tuple[Sequence, Sequence]:
    """Images and masks of read pairs: the arrays where the pass kept them, else references
    to `files`, (image, mask) paths per pair, that read_image and read_mask (or a layout's
    own decoders) decode."""
    if all(p.pixels is not None for p in pairs):
        return [p.pixels[0] for p in pairs], [p.pixels[1] for p in pairs]
    images = LazyPixels(FileRef(str(i), p.image_shape, decode_image or read_image,
                                p.image_facts) for p, (i, _) in zip(pairs, files))
    masks = LazyPixels(FileRef(str(m), p.mask_shape, decode_mask or read_mask, p.mask_facts)
                       for p, (_, m) in zip(pairs, files))
    return images, masks


def unique_ids(ids: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    result = []
    for id_ in ids:
        count = seen.get(id_, 0)
        seen[id_] = count + 1
        result.append(id_ if count == 0 else f"{id_}__{count}")
    return result


def read_pairs(files: list[tuple[Path, Path]], budget: int, decode_image=None,
               decode_mask=None, scan_pairs: ScanPairs | None = None
               ) -> list[ReadPair | InputError]:
    """Decode (image, mask) file pairs in order into ReadPairs, which hold the pixels only if
    all of them fit in `budget` bytes; a pair that cannot be read gives its error.

    Pillow releases the GIL while decoding, so threads help for large images; each thread
    takes a contiguous chunk, because for small images per-file task overhead would eat the
    gain (measured: 6000 pairs of 64x128 read as fast as serially, never slower).

    `scan_pairs` (ScanPairs), given for a read the scan follows, computes the scan's facts of
    pairs (curate.scan.image_half, mask_half): when the pixels are not kept, each pair's are
    computed here, while they are decoded, and the scan then decodes nothing. Pairs wait in
    runs of one image shape, at most SCAN_RUN pairs and SCAN_RUN_BYTES image bytes a thread
    (the scan's own batch size, curate.scan.features).
    """
    held = _Budget(budget)
    held.over = _clearly_over(files, budget)
    decode_image, decode_mask = decode_image or read_image, decode_mask or read_mask

    def read(chunk: list[tuple[Path, Path]]):
        out, waiting = [], []
        for image_file, mask_file in chunk:
            try:
                image, mask = decode_image(image_file), decode_mask(mask_file)
                pair = ReadPair.of(image, mask, held.admit(image, mask))
                out.append(pair)
                if scan_pairs is not None and pair.pixels is not None:
                    kept.add(pair)
                elif scan_pairs is not None:
                    if waiting and not _same_run(waiting, image):
                        _scan_run(waiting, scan_pairs)
                    waiting.append((pair, image, mask))
            except InputError as exc:
                out.append(exc)
            if held.over and kept.pairs:
                kept.scan(scan_pairs)
            advance(1)
        _scan_run(waiting, scan_pairs)
        return out

    kept = _Kept()
    chunks = [files[i:i + 256] for i in range(0, len(files), 256)]
    with step("reading image/mask files", len(files)) as advance, \
            ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1, 8)) as pool:
        results = [result for chunk in pool.map(read, chunks) for result in chunk]
    if held.over:   # all or nothing: pairs kept before the budget ran out are dropped too
        kept.scan(scan_pairs)
        for result in results:
            if isinstance(result, ReadPair):
                result.pixels = None
    return results


def _clearly_over(files: list[tuple[Path, Path]], budget: int) -> bool:
    """Whether the folder's pixels surely exceed the budget: its first pair's size, from the
    file headers, times the pairs exceeds twice the budget. Such a folder is read by
    reference from its first pair, rather than holding the budget's worth of pixels until it
    runs out and then dropping them (at 6,000 256x256 colour pairs that held 512 MB for
    nothing). Either way the pairs read are the same."""
    if not files:
        return False
    try:
        sizes = []
        for path in files[0]:
            with Image.open(path) as file:
                sizes.append(file.width * file.height * len(file.getbands()))
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError):
        return False     # the reading pass reports the file
    return sum(sizes) * len(files) > 2 * budget


# The scan's (image, mask) facts of pairs whose images have one shape, from their images,
# whether each is gray stored as RGB, and their masks (curate.scan.features.pair_facts)
ScanPairs = Callable[[list[np.ndarray], list[bool], list[np.ndarray]], list[tuple]]
SCAN_RUN = 128              # images scanned together in the reading pass, at most ...
SCAN_RUN_BYTES = 32 << 20   # ... and this many bytes of them


class _Kept:
    """The pairs a scan-ahead read kept in memory while they fitted the budget. Once it runs
    out, they are read by reference too, so the first reading thread to see that scans
    them and lets their pixels go: the pixels and the scan's own memory do not pile up."""

    def __init__(self):
        self.pairs: list[ReadPair] = []
        self._lock = threading.Lock()

    def add(self, pair: ReadPair) -> None:
        with self._lock:
            self.pairs.append(pair)

    def scan(self, scan_pairs: ScanPairs | None) -> None:
        with self._lock:
            pairs, self.pairs = self.pairs, []
        run: list[tuple[ReadPair, np.ndarray, np.ndarray]] = []
        for pair in pairs:
            if run and not _same_run(run, pair.pixels[0]):
                _scan_run(run, scan_pairs, let_go=True)
            run.append((pair, *pair.pixels))
        _scan_run(run, scan_pairs, let_go=True)


def _same_run(waiting: list[tuple[ReadPair, np.ndarray, np.ndarray]], image: np.ndarray) -> bool:
    """Whether `image` joins the waiting run: the same shape, and room left in it."""
    return (waiting[0][1].shape == image.shape and len(waiting) < SCAN_RUN
            and (len(waiting) + 1) * image.nbytes <= SCAN_RUN_BYTES)


def _scan_run(waiting: list[tuple[ReadPair, np.ndarray, np.ndarray]],
              scan_pairs: ScanPairs | None, let_go: bool = False) -> None:
    """Give each waiting pair its image's and mask's scan facts and empty the run
    (`let_go`: and drop the pairs' pixels)."""
    if not waiting or scan_pairs is None:
        return
    facts = scan_pairs([image for _, image, _ in waiting], [p.gray_rgb for p, _, _ in waiting],
                       [mask for _, _, mask in waiting])
    for (pair, _, _), (image_facts, mask_facts) in zip(waiting, facts):
        pair.image_facts, pair.mask_facts = image_facts, mask_facts
        if let_go:
            pair.pixels = None
    waiting.clear()


def files_by_stem(folder: Path) -> dict[str, Path]:
    files = {}
    for f in sorted(folder.iterdir()):
        if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES and not f.name.startswith("."):
            files.setdefault(f.stem, f)
    return files


def _open(path: Path) -> Image.Image:
    # The size is checked from the header before any pixel is decoded. (No warnings filter
    # here: catch_warnings is not thread-safe, and files are decoded on a thread pool.)
    try:
        img = Image.open(path)
        if img.width * img.height > MAX_PIXELS:
            raise InputError(
                f"{path.name} is {img.width}x{img.height} pixels, over the "
                f"{MAX_PIXELS:,}-pixel limit (a possible decompression bomb); "
                "tile or downscale it first."
            )
        img.load()
        return img
    except InputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError(
            f"{path.name} declares more pixels than the {MAX_PIXELS:,}-pixel limit (a "
            f"possible decompression bomb: {exc}); tile or downscale it first."
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(
            f"{path.name} cannot be decoded as an image ({type(exc).__name__}: {exc}); "
            "it may be truncated or corrupt."
        ) from exc


def read_image(path: Path) -> np.ndarray:
    """(H, W) or (H, W, 3) uint8 array; 16-bit images are scaled down to 8 bits."""
    img = _open(path)
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(img, dtype=np.uint32)
        return (array >> 8).astype(np.uint8) if array.max() > 255 else array.astype(np.uint8)
    if img.mode in ("L", "RGB"):
        return np.asarray(img, dtype=np.uint8).copy()
    if img.mode in ("LA", "1", "P"):
        return np.asarray(img.convert("L"), dtype=np.uint8).copy()
    return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


def read_mask(path: Path) -> np.ndarray:
    """(H, W) uint8 raw label values; palette indices are labels; gray RGB is accepted."""
    img = _open(path)
    array = np.asarray(img)
    if img.mode in ("L", "P", "1"):
        return array.astype(np.uint8)
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        if array.max() > 255:
            raise InputError(
                f"{path.name} is a 16-bit mask with values up to {array.max()}; "
                "expected class labels 0..255."
            )
        return array.astype(np.uint8)
    if array.ndim == 3 and (array[..., :3] == array[..., :1]).all():
        return array[..., 0].astype(np.uint8)
    raise ColourMaskError(
        f"{path.name} is a colour ({img.mode}) mask; expected a single-channel label image "
        "(mode L or P) whose values are class labels. Convert colours to labels first.",
        path.name, array)


class ColourMaskError(InputError):
    """A mask whose pixels are colours, not labels; names a few of its colours."""

    def __init__(self, message: str, file: str, array: np.ndarray):
        super().__init__(message)
        self.file = file
        found = np.unique(array.reshape(-1, array.shape[-1])[:, :3], axis=0)
        shown = ", ".join(str(tuple(int(v) for v in c)) for c in found[:6])
        self.colours = f"{len(found)} colours: {shown}" + (" ..." if len(found) > 6 else "")
