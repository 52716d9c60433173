"""Read a dataset from an AN2DL npz, an images/ + masks/ folder, or a curated dataset folder."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pandas as pd

from curate.io.dataset import Dataset
from curate.errors import InputError
from curate.io.contract import read_manifest, read_meta  # noqa: F401  (public here too)
from curate.io.image_files import (  # noqa: F401  (read_image, read_mask: public here too)
    Problem, ReadPair, ScanPairs, pixels_of, read_folder, read_image, read_mask, read_pairs,
    safe_id, unique_ids,
)
from curate.io.npz import read_npz_pairs
from curate.io.pixels import ArrayRows, lazy_budget, map_pixels
from curate.data.assemble import (  # noqa: F401  (ReadOptions: public here too)
    PixelFacts, ReadOptions, build_dataset, first_channel,
)
from curate.data.layout_reading import read_layout
from curate.io.layouts.found import class_file_names
from curate.data.linking import recorded_gray
from curate.data.manifest import with_manifest


def load_dataset(path: str | Path, options: ReadOptions | None = None) -> Dataset:
    """Read `path` (npz file, images/+masks/ folder, or curated folder) into a Dataset.

    The dataset carries its manifest from here on: a curated folder's own, else a scan.
    """
    return with_manifest(read_dataset(path, options, scan_ahead=True))


def read_dataset(path: str | Path, options: ReadOptions | None = None,
                 only: Collection[str] | None = None, scan_ahead: bool = False) -> Dataset:
    """The pairs of `path` as read, without the pixel scan: a raw input's manifest is None
    (benchmarks time reading alone with it; everyone else wants `load_dataset`). With
    `only`, an images/ + masks/ folder decodes just the pairs of those ids (the others are
    not in the dataset); other inputs are read whole. `scan_ahead`: a scan follows, so a
    folder or downloaded layout read by reference computes what the scan needs of each pair
    while it decodes it (curate.scan.image_half, mask_half), and the scan decodes nothing."""
    options = options or ReadOptions()
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path} does not exist. Expected an .npz file or a dataset folder.")
    if path.is_file() and path.suffix.lower() == ".npz" and not options.layout:
        images, masks, ids, sources, an2dl = _read_npz(path)
        problems: list[Problem] = []
        facts = PixelFacts.of_arrays(images, masks)
    elif (path / "dataset.json").is_file():
        return _read_curated(path)
    elif (path / "images").is_dir() and (path / "masks").is_dir() and not options.layout:
        with _scanning_pairs(scan_ahead) as scan_pairs:
            images, masks, ids, sources, problems, pairs = read_folder(
                path, lazy_budget(), only, scan_pairs)
        facts = PixelFacts.of_pairs(pairs)
        an2dl = False
        options = _with_class_file(path, options)
    else:
        with _scanning_pairs(scan_ahead) as scan_pairs:
            return read_layout(path, options, scan_pairs)
    return build_dataset(path, images, masks, ids, sources, problems, options, facts, an2dl)


@contextmanager
def _scanning_pairs(wanted: bool) -> Iterator[ScanPairs | None]:
    """The reading pass's scan of the pairs (read_pairs' scan_pairs) when `wanted` and the
    scan runs in this process (on a Dask cluster the workers scan the pairs, so reading here
    does not), else None. BLAS runs on one thread meanwhile, as in the scan itself."""
    from curate.scan import cluster

    if not wanted or cluster.current() is not None:
        yield None
        return
    from threadpoolctl import threadpool_limits

    from curate.scan.compiled import ready
    from curate.scan.features import pair_facts

    ready()   # here, not in a reading thread: compiled or loaded once, its note raised once
    with threadpool_limits(limits=1, user_api="blas"):
        yield pair_facts


def _with_class_file(path: Path, options: ReadOptions) -> ReadOptions:
    """The options with the names of a classes.txt beside images/ and masks/ (as `curate
    export --to folder` writes it) where the user gave no classes."""
    names = class_file_names(path)
    if names is None or options.class_names is not None or options.num_classes is not None:
        return options
    return replace(options, class_names=names, num_classes=len(names))


# --- npz -------------------------------------------------------------------------------------

def _read_npz(path: Path):
    pairs = read_npz_pairs(path)
    n = len(pairs.images)
    ids = _ids_from_names(pairs.names, n)
    key = "training_set" if pairs.key == "training_set" else "pair"
    sources = [f"{path.name}:{key}[{i}]" for i in range(n)]
    return (ArrayRows(pairs.images), ArrayRows(pairs.masks), ids, sources,
            pairs.key == "training_set")


def _ids_from_names(names, n: int) -> list[str]:
    if names is None or len(names) != n:
        return [f"pair_{i:05d}" for i in range(n)]
    return unique_ids([safe_id(str(name)) for name in names])


# --- curated folders -------------------------------------------------------------------------

def _read_curated(path: Path) -> Dataset:
    meta = read_meta(path)
    manifest = read_manifest(path)
    files = [(str(path / i), str(path / m)) for i, m in zip(manifest["image"], manifest["mask"])]
    pairs = read_pairs([(Path(i), Path(m)) for i, m in files], lazy_budget())
    for result in pairs:
        if isinstance(result, InputError):
            raise result
    images, masks = _curated_pixels(pairs, files, manifest)
    return Dataset(
        ids=manifest["id"].astype(str).tolist(), images=images, masks=masks,
        sources=manifest.get("source", manifest["image"]).astype(str).tolist(),
        num_classes=int(meta["num_classes"]), class_names=list(meta["class_names"]),
        ignore_index=meta.get("ignore_index"), problems=[], manifest=manifest,
        ignore_reason=meta.get("ignore_reason", ""),
        history=list(meta.get("history", [])), origin_path=str(path), files=files,
    )


def _curated_pixels(pairs: list[ReadPair], files: list[tuple[str, str]],
                    manifest: pd.DataFrame) -> tuple[Sequence, Sequence]:
    """Images and masks of a curated folder, decoded or by reference. A linked gray picture
    may be an RGB file with R = G = B (as AI4Mars' NAVCAM JPEGs are): where the manifest's
    `channels` is 1 it is read back as the gray image that was scanned."""
    images, masks = pixels_of(pairs, files)
    gray = [g and p.gray_rgb for p, g in zip(pairs, recorded_gray(manifest))]
    return map_pixels(images, first_channel, lambda shape: shape[:2], only=gray), masks
