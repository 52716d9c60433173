"""Write dataset folders (atomically, through curate.io.outputs) and the bytes they hold."""

from __future__ import annotations

import io
import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd
from PIL import Image

from curate.io.dataset import Dataset
from curate.io.contract import order_columns
from curate.io.npz import release_pages
from curate.io.outputs import atomic_dir
from curate.io.pixels import LazyPixels
from curate.io.spill import release_spilled
from curate.ui.progress import step
from curate.data.manifest import build_manifest

if TYPE_CHECKING:
    from curate.data.linking import FilesReport, PairFiles



def png_bytes(array: np.ndarray) -> bytes:
    """PNG encoding of a uint8 (H, W) or (H, W, 3) array; deterministic (no timestamps).

    OpenCV's encoder (installed with albumentations) is about 2.5x faster than Pillow's at
    the same zlib level; Pillow is the fallback.
    """
    try:
        import cv2
    except ImportError:
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()
    pixels = array[..., ::-1] if array.ndim == 3 else array  # OpenCV expects BGR order
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(pixels),
                               [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise ValueError(f"could not encode an array of shape {array.shape} as PNG")
    return encoded.tobytes()


# Floats in the CSVs curate writes: 12 significant digits. The full repr's last digits
# depend on the CPU's vector width and the library build (a sum taken in another order), so
# the same command wrote different manifests on two machines; 12 digits keep what any check
# can use and drop what only the arithmetic's order decides.
CSV_FLOATS = "%.12g"
WRITE_PAIRS = 1024   # pairs encoded a block at a time
CSV_ROWS = 100_000   # manifest rows written at a time (curate.io.spill: the pages read then go)


def write_manifest_csv(table: pd.DataFrame, path: Path, rows: int = CSV_ROWS) -> None:
    """table.to_csv(path, index=False, float_format=CSV_FLOATS), the same bytes, written
    `rows` rows at a time: the pages of spilled text (curate.io.spill) that a block has read
    leave memory before the next, rather than the whole table's coming back at once."""
    with open(path, "w", encoding="utf-8", newline="") as out:
        for start in range(0, max(len(table), 1), rows):
            table.iloc[start:start + rows].to_csv(out, index=False, header=start == 0,
                                                   float_format=CSV_FLOATS)
            release_spilled()


def write_dataset(
    out: Path,
    dataset: Dataset,
    reports: dict[str, bytes | str] | None = None,
    force: bool = False,
    finalize: Callable[[Path], None] | None = None,
    files: "FilesReport | None" = None,
) -> Path:
    """Write images/, masks/, manifest.csv, dataset.json and reports/ to `out` atomically.

    The manifest is the dataset's own (a fresh scan for a Dataset built by hand without one);
    its image/mask columns are filled in here. `finalize(folder)` runs on the complete folder before it is
    moved into place (e.g. to render a data card from it). `files` (curate.data.linking) chooses
    how images/ and masks/ are stored: None or form "encode" writes PNGs as ever; form "link"
    hardlinks the pairs read unchanged from files (see `write_linked_pairs`) and counts into it.
    """
    out = Path(out)
    manifest = build_manifest(dataset)
    manifest["image"] = [f"images/{i}.png" for i in dataset.ids]
    manifest["mask"] = [f"masks/{i}.png" for i in dataset.ids]
    manifest, plan = _stored_columns(manifest, dataset, files)
    with atomic_dir(out, force) as tmp:
        (tmp / "images").mkdir()
        (tmp / "masks").mkdir()
        if plan is not None:
            write_linked_pairs(tmp, out.name, dataset, plan, files)
        else:
            # Encoding and zlib release the GIL: threads use every core. A block of pairs at
            # a time: a task per pair sent at once held a future each (about 1 kB a pair),
            # and the pages of a mapped npz it read stayed resident to the end.
            with step(f"writing {out.name}", len(dataset)) as advance, \
                    ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1, 8)) as pool:
                for start in range(0, len(dataset), WRITE_PAIRS):
                    rows = range(start, min(start + WRITE_PAIRS, len(dataset)))
                    list(pool.map(lambda i: (_write_pair(tmp, dataset, i), advance(1)), rows))
                    for pixels in (dataset.images, dataset.masks):
                        if not isinstance(pixels, LazyPixels):   # else it would decode
                            release_pages([pixels[i] for i in rows])
        write_manifest_csv(order_columns(manifest), tmp / "manifest.csv")
        (tmp / "dataset.json").write_text(
            json.dumps(dataset.meta(), indent=2, sort_keys=False, default=_json_default) + "\n",
            encoding="utf-8",
        )
        _carry_reports(dataset.origin_path, tmp / "reports", reports or {})
        for name, content in (reports or {}).items():
            target = tmp / "reports" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        if finalize is not None:
            finalize(tmp)
    return out


def _stored_columns(manifest: pd.DataFrame, dataset: Dataset, files: "FilesReport | None"
                    ) -> tuple[pd.DataFrame, "list[PairFiles] | None"]:
    """Image/mask names and the `stored` column of the link form, with its plan; an encoded
    folder has no `stored` column (one carried from a linked input is dropped) and no plan."""
    if files is None or files.form != "link":
        if files is not None:
            files.add(0, 0, 2 * len(dataset), None)
        return manifest.drop(columns=["stored"], errors="ignore"), None
    from curate.data.linking import plan_files

    plan = plan_files(dataset)
    manifest["image"] = [p.image for p in plan]
    manifest["mask"] = [p.mask for p in plan]
    manifest["stored"] = [p.stored for p in plan]
    return manifest, plan


def write_linked_pairs(folder: Path, name: str, dataset: Dataset, plan: "list[PairFiles]",
                       files: "FilesReport") -> None:
    """Hardlink (else copy) each planned file whose source holds its pixels unchanged;
    encode the rest as PNG. Counts go into `files`."""
    from curate.data.linking import link_file

    def write(i: int, plan) -> tuple[int, int, int, str | None]:
        counts, reason = [0, 0, 0], None
        # Pixels are taken only to encode: a LazyPixels decodes a file at each access.
        for source, target, pixels in ((plan.image_source, plan.image, dataset.images),
                                       (plan.mask_source, plan.mask, dataset.masks)):
            if source is None:
                (folder / target).write_bytes(png_bytes(pixels[i]))
                counts[2] += 1
                continue
            why = link_file(source, folder / target)
            counts[1 if why else 0] += 1
            reason = reason or why
        advance(1)
        return (*counts, reason)

    with step(f"writing {name}", len(dataset)) as advance, \
            ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1, 8)) as pool:
        for result in pool.map(write, range(len(dataset)), plan):
            files.add(*result)


def _carry_reports(origin: str, target: Path, new: dict) -> None:
    """Copy an input dataset folder's reports forward, so the last folder holds every step's
    (a report of the same name from this step replaces the earlier one)."""
    source = Path(origin) / "reports" if origin else None
    if source is None or not source.is_dir() or not (Path(origin) / "dataset.json").is_file():
        return
    for f in sorted(source.iterdir()):
        if f.is_file() and f.name not in new:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, target / f.name)


def _write_pair(folder: Path, dataset: Dataset, i: int) -> None:
    """Copy pair i's PNGs when it came unchanged from a curated folder, else encode (only
    then are its pixels taken: a LazyPixels decodes a file at each access)."""
    id_, files = dataset.ids[i], dataset.file_pair(i)
    if files is not None and str(files[0]).endswith(".png") and str(files[1]).endswith(".png"):
        shutil.copyfile(files[0], folder / "images" / f"{id_}.png")
        shutil.copyfile(files[1], folder / "masks" / f"{id_}.png")
        return
    (folder / "images" / f"{id_}.png").write_bytes(png_bytes(dataset.images[i]))
    (folder / "masks" / f"{id_}.png").write_bytes(png_bytes(dataset.masks[i]))


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def to_json(value) -> str:
    """Stable, readable JSON text for reports and metadata."""
    return json.dumps(value, indent=2, default=_json_default) + "\n"
