"""The curated folder an export reads: its classes, ignore class, read map and pairs (file
paths, split, group), and the pixel helpers every writer shares. Pixels are decoded one pair
at a time, so an export's memory does not grow with the dataset."""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from curate.io.contract import SPLITS, read_manifest, read_meta
from curate.io.errors import InputError
from curate.io.image_files import read_image, read_mask

VOID = 255   # the void value of VOC and Cityscapes masks


@dataclass(frozen=True)
class Pair:
    id: str
    image: Path
    mask: Path
    split: str      # train / val / test, or '' for a pair of no split
    group: str      # source_group ('' when the manifest has none)


@dataclass(frozen=True)
class Source:
    """A curated folder as an export sees it."""

    path: Path
    num_classes: int
    class_names: list[str]
    ignore_index: int | None
    read_map: dict[int, int] | None   # the raw -> label map of the 'read' history entry
    pairs: list[Pair]

    @property
    def split(self) -> bool:
        return any(p.split for p in self.pairs)

    def counts(self) -> dict[str, int]:
        """Pairs per split ('' for the unsplit ones), in train, val, test order."""
        counts = {s: sum(p.split == s for p in self.pairs) for s in (*SPLITS, "")}
        return {s: n for s, n in counts.items() if n}

    def ignored(self) -> str:
        """'class 3 (void)' for messages."""
        return f"class {self.ignore_index} ({self.class_names[self.ignore_index]})"


def read_source(path: Path) -> Source:
    """The curated folder at `path`; anything else is refused with the command to make one."""
    if not (path / "dataset.json").is_file():
        raise InputError(
            f"{path} is not a curated folder (no dataset.json): export writes a folder that "
            f"curate made. Make one first, e.g. curate split {path} -o curated, then "
            "curate export curated -o OUT --to FORMAT.")
    meta, manifest = read_meta(path), read_manifest(path)
    splits = manifest["split"] if "split" in manifest else [""] * len(manifest)
    groups = manifest["source_group"] if "source_group" in manifest else [""] * len(manifest)
    pairs = [Pair(str(i), path / im, path / m, str(s) if s in SPLITS else "", str(g))
             for i, im, m, s, g in zip(manifest["id"], manifest["image"], manifest["mask"],
                                       splits, groups)]
    ignore = meta.get("ignore_index")
    return Source(path=path, num_classes=int(meta["num_classes"]),
                  class_names=list(meta["class_names"]),
                  ignore_index=None if ignore is None else int(ignore),
                  read_map=_read_map(meta.get("history", [])), pairs=pairs)


def _read_map(history: list[dict]) -> dict[int, int] | None:
    read = next((h for h in history if h.get("command") == "read"), None)
    label_map = (read or {}).get("options", {}).get("label_map")
    return {int(k): int(v) for k, v in label_map.items()} if label_map else None


def png_bytes(array: np.ndarray, palette: np.ndarray | None = None) -> bytes:
    """PNG of a uint8 (H, W) or (H, W, 3) array; with `palette` ((256, 3) uint8) a palette
    PNG whose indices are the array's values."""
    image = Image.fromarray(array, "P" if palette is not None else None)
    if palette is not None:
        image.putpalette(palette.astype(np.uint8).ravel().tolist())
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def labels(pair: Pair) -> np.ndarray:
    """(H, W) uint8 class labels of a pair (a curated mask holds labels as they are)."""
    return read_mask(pair.mask)


def with_void(mask: np.ndarray, void_class: int | None) -> np.ndarray:
    """The mask with `void_class` written as the void value 255 (as it is when None)."""
    if void_class is None:
        return mask
    return np.where(mask == void_class, np.uint8(VOID), mask).astype(np.uint8)


def put_image(pair: Pair, target: Path, keep_jpeg: bool = False) -> Path:
    """Write the pair's image at `target` (its suffix decided here: .png, or .jpg when the
    curated file is a JPEG and `keep_jpeg`); a PNG (or kept JPEG) is copied byte for byte,
    anything else is encoded as PNG, so the pixels read back are the curated ones."""
    suffix = pair.image.suffix.lower()
    if suffix == ".png" or (keep_jpeg and suffix in (".jpg", ".jpeg")):
        target = target.with_suffix(suffix)
        shutil.copyfile(pair.image, target)
    else:
        target = target.with_suffix(".png")
        target.write_bytes(png_bytes(read_image(pair.image)))
    return target


def image_png(pair: Pair) -> bytes:
    """The pair's image as PNG bytes (the curated file's own when it is a PNG)."""
    if pair.image.suffix.lower() == ".png":
        return pair.image.read_bytes()
    return png_bytes(read_image(pair.image))


def kept_ignore_note(source: Source, why: str, names_void: bool = True) -> str:
    """The note for an ignored class written under its own label, as the format has no void
    value; `names_void`: curate's reader of the export ignores a class named void."""
    from curate.io.layouts.colours import VOID_NAMES

    k = source.ignore_index
    again = ("its name makes curate's reader ignore it again" if names_void and
             source.class_names[k].strip().lower() in VOID_NAMES else
             f"read the export back with --ignore-index {k}")
    return f"The ignored {source.ignored()} keeps its label {k} ({why}): {again}."


def refuse_label_255(source: Source, fmt: str) -> None:
    """A format whose masks keep 255 for void cannot hold a class 255 too."""
    if source.num_classes > VOID:
        raise InputError(
            f"{source.path} has {source.num_classes} classes; {fmt} masks keep the value 255 "
            "for void, so at most 255 classes (0..254) can be written. Export to hf or folder "
            "instead.")
