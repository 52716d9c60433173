"""How a written dataset folder stores its pixels: PNGs encoded from the arrays (`encode`), or
hardlinks to the source files whose pixels were read unchanged (`link`), chosen by --files."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from curate.io.dataset import Dataset
from curate.io.files_form import FilesForm
from curate.io.pixels import shape_of

# `auto` links when the input is a folder of image files with more pairs or more bytes than
# this: re-encoding 6,000 256x256 JPEG pairs wrote 385 MB from a 161 MB input (issue 11).
# Below it `encode` stays the default, so small outputs keep their exact bytes.
LINK_MIN_PAIRS = 5_000
LINK_MIN_BYTES = 200_000_000
# Source suffix -> suffix in the written folder. Images may be linked as PNG or JPEG; masks
# only as PNG (lossless, so the labels are the ones every reader decodes).
LINK_IMAGE_SUFFIXES = {".png": ".png", ".jpg": ".jpg", ".jpeg": ".jpg"}
LINK_MASK_SUFFIXES = {".png": ".png"}


@dataclass(frozen=True)
class PairFiles:
    """Where one pair goes in the written folder, and the source file to link, if any
    (None: encode the array as PNG)."""

    image: str                  # relative to the folder, e.g. images/<id>.jpg
    mask: str
    image_source: str | None
    mask_source: str | None

    @property
    def stored(self) -> str:
        """The manifest's `stored` value: linked, encoded, image linked or mask linked."""
        if self.image_source and self.mask_source:
            return "linked"
        if self.image_source:
            return "image linked"
        return "mask linked" if self.mask_source else "encoded"


@dataclass
class FilesReport:
    """The chosen form, why, and what writing did (files linked, copied, encoded)."""

    form: str                   # "encode" or "link"
    reason: str
    linked: int = 0             # files hardlinked to their source
    copied: int = 0             # files copied byte for byte where a hardlink was impossible
    encoded: int = 0            # files encoded as PNG (or copied from a curated folder's PNG)
    copy_reason: str | None = None

    def add(self, linked: int, copied: int, encoded: int, copy_reason: str | None) -> None:
        self.linked += linked
        self.copied += copied
        self.encoded += encoded
        self.copy_reason = self.copy_reason or copy_reason

    def lines(self) -> list[str]:
        """What to tell the user: the form used, and once, any fallback to copying."""
        if self.form == "encode":
            return [f"Files: encode ({self.reason}): every image and mask written as PNG."]
        encoded = (f"{self.encoded:,} encoded as PNG (pixels changed on reading or by "
                   "augmentation, or not from a file; manifest column `stored`)"
                   if self.encoded else "none encoded")
        shown = [f"Files: link ({self.reason}): {self.linked + self.copied:,} files stored as "
                 f"their source files' bytes ({self.linked:,} hardlinked, {self.copied:,} "
                 f"copied), {encoded}. Linked files are their sources: edit neither in place. "
                 "--files encode writes every pair as PNG."]
        if self.copied:
            shown.append(f"Note: a hardlink was impossible ({self.copy_reason}); "
                         f"{self.copied:,} files were copied byte for byte instead (same "
                         "bytes, new disk space). Write the output on the source's file system "
                         "to link.")
        return shown


def choose_files(requested: FilesForm | str, dataset: Dataset) -> FilesReport:
    """Decide encode or link for `dataset` (as read) before any step runs. `auto` links a
    folder above LINK_MIN_PAIRS or LINK_MIN_BYTES, and a curated folder that is linked."""
    requested = FilesForm(requested)
    origin = Path(dataset.origin_path) if dataset.origin_path else None
    is_folder = origin is not None and origin.is_dir()
    if requested is FilesForm.encode:
        return FilesReport("encode", "--files encode")
    if not is_folder:
        why = (f"{origin.name} is not a folder of image files, nothing to link" if origin
               else "the dataset was not read from files, nothing to link")
        return FilesReport("link" if requested is FilesForm.link else "encode",
                           f"--files link, but {why}" if requested is FilesForm.link
                           else f"the default: {why}")
    if requested is FilesForm.link:
        return FilesReport("link", "--files link")
    stored = dataset.manifest.get("stored") if dataset.manifest is not None else None
    if stored is not None and (stored != "encoded").any():
        return FilesReport("link", "the default for a curated folder that is itself linked")
    size = source_bytes(origin)
    big = len(dataset) > LINK_MIN_PAIRS or size > LINK_MIN_BYTES
    compare = "above" if big else "not above"
    reason = (f"the default for a folder of {len(dataset):,} pairs and {size / 1e6:,.0f} MB, "
              f"{compare} {LINK_MIN_PAIRS:,} pairs or {LINK_MIN_BYTES / 1e6:,.0f} MB")
    if not big:
        reason += "; --files link hardlinks unchanged files"
    return FilesReport("link" if big else "encode", reason)


def source_bytes(folder: Path) -> int:
    """Bytes of the files directly in folder/images and folder/masks."""
    total = 0
    for sub in ("images", "masks"):
        if (folder / sub).is_dir():
            with os.scandir(folder / sub) as entries:
                total += sum(e.stat().st_size for e in entries if e.is_file())
    return total


def with_source_files(dataset: Dataset) -> Dataset:
    """The dataset with `files` naming, per pair, the image and mask file of a raw images/ +
    masks/ folder whose pixels it holds unchanged (None where reading changed them).

    A curated folder's dataset already names its files; other inputs have none.
    """
    origin = Path(dataset.origin_path) if dataset.origin_path else None
    if (origin is None or not origin.is_dir() or (origin / "dataset.json").is_file()
            or dataset.files is not None):
        return dataset
    from curate.io.image_files import files_by_stem

    masks_by_stem = files_by_stem(origin / "masks")
    relabelled = any(step.get("command") == "read" and step.get("options", {}).get("label_map")
                     for step in dataset.history)
    files = []
    for i, source in enumerate(dataset.sources):
        image_file = origin / source
        mask_file = masks_by_stem.get(image_file.stem)
        image_ok = _stored_as_read(image_file, shape_of(dataset.images, i),
                                   LINK_IMAGE_SUFFIXES, gray_rgb=True)
        mask_ok = (mask_file is not None and not relabelled
                   and _stored_as_read(mask_file, shape_of(dataset.masks, i),
                                       LINK_MASK_SUFFIXES))
        files.append((str(image_file) if image_ok else None,
                      str(mask_file) if mask_ok else None))
    return replace(dataset, files=files)


def _stored_as_read(path: Path, shape: tuple, suffixes: dict[str, str], gray_rgb: bool = False
                    ) -> bool:
    """True when the file holds exactly the array (of `shape`) read from it: a linkable
    format whose 8-bit L or RGB pixels the reader returned without conversion (no 16-bit,
    palette or alpha), or, with `gray_rgb`, an RGB file read as gray because R = G = B
    (readers of the written folder take one channel where the manifest's `channels` is 1:
    `recorded_gray`)."""
    if path.suffix.lower() not in suffixes:
        return False
    try:
        with Image.open(path) as im:
            mode, size = im.mode, im.size
    except OSError:
        return False
    same = {"L": 2, "RGB": 3}.get(mode) == len(shape) or (
        gray_rgb and mode == "RGB" and len(shape) == 2)
    return same and size == (shape[1], shape[0])


def recorded_gray(manifest) -> np.ndarray:
    """(N,) True for the pairs of a curated folder whose manifest's `channels` is 1: a linked
    gray picture may be an RGB file with R = G = B, to be read back as the gray image that
    was scanned (curate.data.readers)."""
    if "channels" not in manifest.columns:
        return np.zeros(len(manifest), bool)
    return manifest["channels"].astype(str).to_numpy() == "1"


def plan_files(dataset: Dataset) -> list[PairFiles]:
    """Per pair, the names in the written folder and the files to link (link form)."""
    plan = []
    for i, id_ in enumerate(dataset.ids):
        image_src, mask_src = dataset.file_pair(i) or (None, None)
        image_src = image_src if _linkable(image_src, LINK_IMAGE_SUFFIXES) else None
        mask_src = mask_src if _linkable(mask_src, LINK_MASK_SUFFIXES) else None
        image_ext = LINK_IMAGE_SUFFIXES[Path(image_src).suffix.lower()] if image_src else ".png"
        plan.append(PairFiles(f"images/{id_}{image_ext}", f"masks/{id_}.png",
                              image_src, mask_src))
    return plan


def _linkable(source: str | None, suffixes: dict[str, str]) -> bool:
    return bool(source) and Path(source).suffix.lower() in suffixes


def link_file(source: str | Path, target: Path) -> str | None:
    """Hardlink `target` (a new path) to `source`; where the file system refuses (another
    device, permissions, no hardlinks), copy the bytes. Returns why it copied, else None.

    The target is always a new name in a fresh folder, so nothing is written through a link:
    the source's bytes and mtime stay as they are.
    """
    try:
        os.link(source, target)
        return None
    except OSError as exc:
        shutil.copyfile(source, target)
        return f"{exc.strerror or exc}: {source} -> {target.parent.parent}"
