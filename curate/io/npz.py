"""Read the arrays of an .npz without holding two copies of them.

`np.load` of an npz member reads the member's bytes and then builds the array from them: for a
moment every array is in memory twice, and all of it stays resident. A member that `np.savez`
stored uncompressed is a plain .npy file inside the zip, so it can be memory-mapped instead:
pixels are then read from disk when a step touches them (the scan reads each pair once) and
the operating system may drop them again. Compressed members (`np.savez_compressed`) are read
the ordinary way while they fit the byte budget (curate.io.pixels.lazy_budget, as for folders);
above it, each is decompressed as a stream into a temporary file that is then mapped and
unlinked at once, so memory stays bounded at the cost of that much temporary disk space.
Object arrays are always read the ordinary way. Mapped arrays are read-only: a step that
tried to change its input in place would fail loudly rather than alter the user's file.
"""

from __future__ import annotations

import atexit
import mmap
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from curate.io.errors import InputError
from curate.io.pixels import LAZY_BYTES_ENV, lazy_budget

LOCAL_HEADER = 30          # fixed part of a zip local file header, before name and extra field


def read_members(path: Path, budget: int | None = None) -> dict[str, np.ndarray]:
    """{name: array} for every .npy member; memory-mapped where the member allows it, and
    compressed members too when together they decompress to more than `budget` bytes."""
    arrays: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(path) as archive, open(path, "rb") as raw:
        members = [info for info in archive.infolist() if info.filename.endswith(".npy")]
        packed = sum(i.file_size for i in members if i.compress_type != zipfile.ZIP_STORED)
        spill = budget is not None and packed > budget
        for info in members:
            name = info.filename[: -len(".npy")]
            if info.compress_type == zipfile.ZIP_STORED:
                mapped = _mapped(path, raw, info)
            else:
                mapped = _spilled(archive, info) if spill else None
            if mapped is None:
                with archive.open(info) as member:
                    mapped = np.lib.format.read_array(member, allow_pickle=False)
            arrays[name] = mapped
    return arrays


def _spilled(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray | None:
    """A compressed member decompressed into a temporary .npy file and mapped read-only; None
    for an object array, which cannot be mapped."""
    handle, name = tempfile.mkstemp(prefix="curate-npz-", suffix=".npy")
    try:
        with os.fdopen(handle, "wb") as out, archive.open(info) as member:
            try:
                shutil.copyfileobj(member, out, 16 << 20)
            except OSError as exc:   # most often a full temporary disk
                raise InputError(
                    f"{info.filename} ({info.file_size:,} bytes decompressed) could not be "
                    f"spilled to {tempfile.gettempdir()} ({exc.strerror}). Point TMPDIR at a "
                    f"disk with room, or raise {LAZY_BYTES_ENV} to read it into memory."
                ) from exc
        try:
            return np.load(name, mmap_mode="r", allow_pickle=False).view(np.ndarray)
        except ValueError:   # object dtype
            return None
    finally:
        _remove(name)


def _remove(name: str) -> None:
    """Unlink a spilled file; the mapping keeps its pages until the array is freed. Where an
    open file cannot be unlinked (Windows), it goes when the process ends."""
    try:
        os.unlink(name)
    except OSError:
        atexit.register(lambda: os.path.exists(name) and os.unlink(name))


def _mapped(path: Path, raw, info: zipfile.ZipInfo) -> np.ndarray | None:
    """The member as a read-only memmap, or None when it cannot be mapped (object dtype,
    a header this reader does not know)."""
    raw.seek(info.header_offset)
    header = raw.read(LOCAL_HEADER)
    if header[:4] != b"PK\x03\x04":
        return None
    name_length = int.from_bytes(header[26:28], "little")
    extra_length = int.from_bytes(header[28:30], "little")
    start = info.header_offset + LOCAL_HEADER + name_length + extra_length
    raw.seek(start)
    try:
        version = np.lib.format.read_magic(raw)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(raw)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(raw)
        else:
            return None
    except ValueError:
        return None
    if dtype.hasobject:
        return None
    offset = raw.tell()
    if offset + dtype.itemsize * int(np.prod(shape)) > start + info.file_size:
        return None
    if int(np.prod(shape)) == 0:
        return np.empty(shape, dtype)
    mapped = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape,
                       order="F" if fortran else "C")
    return mapped.view(np.ndarray)  # a plain array over the map (the map stays open under it)


def release_pages(arrays: list[np.ndarray]) -> None:
    """Drop from this process's resident memory the pages of a mapped member that `arrays`
    (views into it, e.g. the pairs of one scan batch, already copied) cover.

    Pages a step has read stay mapped into the process, and count in its RSS, until it
    exits: a scan of 1M 32x32 pairs would hold the whole 2 GB file. Dropped pages come back
    from the page cache if touched again, with the same bytes (the map is read-only and
    shared). A no-op for arrays that are not mapped, or where the system has no madvise."""
    mapped = _mapping(arrays[0]) if arrays and hasattr(mmap, "MADV_DONTNEED") else None
    if mapped is None:
        return
    start = np.frombuffer(mapped, np.uint8).ctypes.data
    low = min(a.ctypes.data for a in arrays) - start
    high = max(a.ctypes.data + a.nbytes for a in arrays) - start
    low -= low % mmap.PAGESIZE
    if 0 <= low < high <= len(mapped):
        mapped.madvise(mmap.MADV_DONTNEED, low, high - low)


def is_mapped(array: np.ndarray) -> bool:
    """True when `array` is a view of a mapped member (its pages can be released)."""
    return _mapping(array) is not None


def _mapping(array: np.ndarray):
    """The read-only mmap.mmap under `array` (a view of a np.memmap of mode 'r'), or None."""
    base = array
    while base is not None and not isinstance(base, mmap.mmap):
        if isinstance(base, np.memmap) and base.mode != "r":
            return None
        base = getattr(base, "base", None)
    return base


# --- image/mask pairs ------------------------------------------------------------------------

NPZ_PAIR_KEYS = [("images", "masks"), ("image", "mask"), ("x", "y"), ("X", "Y")]


@dataclass
class NpzPairs:
    """The pairs an npz holds: images (N, H, W[, 3]) and masks (N, H, W) uint8 (None for the
    course's unlabelled test_set), its `names` array if any, and the key the pairs came from."""

    images: np.ndarray
    masks: np.ndarray | None
    names: np.ndarray | None
    key: str


def read_npz_pairs(path: Path, need_masks: bool = True) -> NpzPairs:
    """The image/mask pairs of an AN2DL-style npz ('training_set' (N, 2, H, W), or a pair of
    arrays named as in NPZ_PAIR_KEYS); with need_masks=False also the unlabelled 'test_set'."""
    try:
        arrays = read_members(path, lazy_budget())  # memory-mapped where it can be
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise InputError(
            f"{path} cannot be read as an .npz archive ({type(exc).__name__}: {exc}). "
            "The file may be truncated or not an npz; re-download or re-save it."
        ) from exc
    pairs = _npz_pairs(path, arrays, need_masks)
    for name, array in (("images", pairs.images), ("masks", pairs.masks)):
        if array is not None and array.dtype != np.uint8:
            raise InputError(
                f"{path}: {name} have dtype {array.dtype}; expected uint8 (0..255 images, "
                "integer class labels for masks)."
            )
    return pairs


def _npz_pairs(path: Path, arrays: dict, need_masks: bool) -> NpzPairs:
    names = arrays.get("names")
    if "training_set" in arrays:
        pairs = arrays["training_set"]
        if pairs.ndim != 4 or pairs.shape[1] != 2:
            raise InputError(
                f"{path}: training_set has shape {pairs.shape}; expected (N, 2, H, W) with "
                "[:, 0] the images and [:, 1] the masks."
            )
        return NpzPairs(pairs[:, 0], pairs[:, 1], names, "training_set")
    for image_key, mask_key in NPZ_PAIR_KEYS:
        if image_key in arrays and mask_key in arrays:
            images, masks = arrays[image_key], arrays[mask_key]
            if images.shape[0] != masks.shape[0] or masks.ndim != 3:
                raise InputError(
                    f"{path}: {image_key} {images.shape} and {mask_key} {masks.shape} do not "
                    "pair up; expected (N, H, W[, 3]) images and (N, H, W) masks."
                )
            return NpzPairs(images, masks, names, image_key)
    if not need_masks and "test_set" in arrays:
        # The course's Kaggle layout numbers test_set images by their index: no names.
        return NpzPairs(arrays["test_set"], None, None, "test_set")
    pairs = ", ".join("/".join(keys) for keys in NPZ_PAIR_KEYS)
    raise InputError(
        f"{path} holds the arrays {', '.join(sorted(arrays)) or 'none'}; expected "
        f"'training_set' (N, 2, H, W) or a pair of image/mask arrays named one of {pairs}. "
        "An npz with only 'test_set' has no masks to curate."
    )
