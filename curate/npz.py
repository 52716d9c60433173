"""Read the arrays of an .npz without holding two copies of them.

`np.load` of an npz member reads the member's bytes and then builds the array from them: for a
moment every array is in memory twice, and all of it stays resident. A member that `np.savez`
stored uncompressed is a plain .npy file inside the zip, so it can be memory-mapped instead:
pixels are then read from disk when a step touches them (the scan reads each pair once) and
the operating system may drop them again. Compressed members (`np.savez_compressed`) and
object arrays are read the ordinary way. Mapped arrays are read-only: a step that tried to
change its input in place would fail loudly rather than alter the user's file.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

LOCAL_HEADER = 30          # fixed part of a zip local file header, before name and extra field


def read_members(path: Path) -> dict[str, np.ndarray]:
    """{name: array} for every .npy member; memory-mapped where the member allows it."""
    arrays: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(path) as archive, open(path, "rb") as raw:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            name = info.filename[: -len(".npy")]
            mapped = _mapped(path, raw, info) if info.compress_type == zipfile.ZIP_STORED else None
            if mapped is None:
                with archive.open(info) as member:
                    mapped = np.lib.format.read_array(member, allow_pickle=False)
            arrays[name] = mapped
    return arrays


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
