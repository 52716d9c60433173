"""Decoded (or referenced) pairs and the read options become a Dataset: the label map and
its checks, the class count and names, the ignored class, gray pictures stored as RGB.
Every reader ends here: npz and images/ + masks/ folders (curate.data.readers) and the
downloaded layouts (curate.data.layout_reading)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from curate.io.dataset import Dataset, default_class_names
from curate.errors import InputError
from curate.io.ignore_class import choose_ignore_index
from curate.io.image_files import ReadPair, is_gray_rgb
from curate.io.label_maps import (MaskReading, RawValues, check_collisions,
                                  describe_label_map, infer_label_map, label_lut, raw_values)
from curate.io.pixels import map_pixels


@dataclass
class ReadOptions:
    """How to interpret masks: number of classes, names, a raw-value -> label map; and for a
    downloaded layout (curate.io.layouts), which one, its colour table and table columns."""

    num_classes: int | None = None
    class_names: list[str] | None = None
    label_map: dict[int, int] | None = None
    # The class left out of metrics: a class, or None for none. With ignore_from_layout (the
    # default) and no class given, the reader takes the layout's convention and says why
    # (curate.io.ignore_class): 0 for an AN2DL npz, the class the void value 255 becomes, else
    # none. ReadOptions(ignore_index=None, ignore_from_layout=False) ignores nothing.
    ignore_index: int | None = None
    ignore_from_layout: bool = True
    layout: str | None = None
    colors: str | None = None
    columns: tuple[str, str] | None = None


class PixelFacts:
    """What validation learns from the pixels: how many RGB images are gray (R = G = B), and
    which raw mask values occur. A folder's reading pass counts them as it decodes
    (`of_pairs`); an npz's are counted from its arrays when first asked (`of_arrays`), so an
    AN2DL read with --num-classes and no map never counts raw values."""

    def __init__(self, masks: Sequence | None, raw: RawValues | None, gray_rgb: int | None):
        self._masks = masks
        self._raw = raw
        self.gray_rgb = gray_rgb    # RGB images, when every one is gray; else None

    @classmethod
    def of_pairs(cls, pairs: list[ReadPair]) -> "PixelFacts":
        pixels = np.zeros(256, np.int64)
        holding = np.zeros(256, np.int64)
        for pair in pairs:
            pixels[pair.mask_values] += pair.mask_counts
            holding[pair.mask_values] += 1
        rgb = [p.gray_rgb for p in pairs if len(p.image_shape) == 3]
        return cls(None, RawValues(pixels, holding, len(pairs)),
                   len(rgb) if rgb and all(rgb) else None)

    @classmethod
    def of_arrays(cls, images: list[np.ndarray], masks: list[np.ndarray]) -> "PixelFacts":
        return cls(masks, None, _equal_channel_count(images))

    def raw(self) -> RawValues:
        if self._raw is None:
            self._raw = raw_values(self._masks)
        return self._raw

    def binary(self) -> bool:
        """True when the masks hold exactly the raw values 0 and 255."""
        if self._raw is not None:
            return self._raw.present == [0, 255]
        values = set()
        for m in self._masks:
            values.update(np.unique(m).tolist())
            if len(values) > 2:
                return False
        return values == {0, 255}


def build_dataset(path, images, masks, ids, sources, problems, options: ReadOptions,
           facts: PixelFacts, an2dl: bool, layout=None) -> Dataset:
    """The Dataset of decoded (or referenced) pairs, with the read options applied; `layout`
    (a curate.io.layouts.FoundPairs) supplies its map, classes and ignore class where the
    options leave them open."""
    notes: list[str] = []
    images, gray_note = _gray_if_equal_channels(images, facts.gray_rgb)
    if gray_note:
        notes.append(gray_note)
    label_map = options.label_map
    raw = None
    # Raw values are asked for only when a map is given or has to be inferred: an npz read
    # with --num-classes and no map (the AN2DL case) costs nothing extra.
    if label_map is not None:
        raw = facts.raw()
        check_collisions(label_map, raw)
    else:
        label_map = {0: 0, 255: 1} if facts.binary() else None
        if label_map is None and options.num_classes is None:
            raw = facts.raw()
            label_map = infer_label_map(raw)
    inferred = options.label_map is None and bool(label_map)
    lut = label_lut(label_map or {})
    if label_map:
        raw = raw if raw is not None else facts.raw()
        masks = map_pixels(masks, functools.partial(_relabel, lut))
    num_classes = options.num_classes
    if num_classes is None:
        # Every path to here counted the raw values: the largest label is the largest
        # mapped value present (0 when every mask is empty).
        num_classes = int(max((int(lut[v]) for v in raw.present), default=0)) + 1
        notes.append(
            f"num_classes inferred as {num_classes} from the largest label found; pass "
            "--num-classes to set it (labels outside the range are then flagged)."
        )
    class_names = options.class_names or default_class_names(num_classes)
    if len(class_names) != num_classes:
        raise InputError(
            f"{len(class_names)} class names given for {num_classes} classes; "
            "give one name per class, background first."
        )
    by_layout = options.ignore_index is None and options.ignore_from_layout
    if by_layout and not an2dl and raw is None:
        raw = facts.raw()  # is the void value 255 there?
    ignored = choose_ignore_index(
        options.ignore_index, by_layout, an2dl=an2dl, raw_present=None if raw is None else raw.present,
        lut=lut, num_classes=num_classes, binary_inferred=inferred,
        layout=None if layout is None or layout.ignore_index is None else (
            layout.ignore_index, layout.ignore_reason))
    ignore_index = ignored.index
    if ignore_index is not None and not 0 <= ignore_index < num_classes:
        raise InputError(f"ignore index {ignore_index} is outside 0..{num_classes - 1}.")
    history = []
    if label_map:
        from_layout = layout is not None and options.label_map == layout.label_map
        explained = describe_label_map(label_map, raw, list(class_names), inferred,
                                       source=f"of the {layout.name} layout" if from_layout
                                       else None)
        if not from_layout:   # the layout's note says it in fewer words
            notes.insert(1 if gray_note else 0, explained)
        history.append({"command": "read", "options": {"label_map": label_map},
                        "summary": {"label_map": explained, "inferred": inferred}})
    notes.append(ignored.reason)
    return Dataset(
        ids=ids, images=images, masks=masks, sources=sources, num_classes=num_classes,
        class_names=list(class_names), ignore_index=ignore_index, problems=problems,
        notes=notes, history=history, origin_path=str(path), ignore_reason=ignored.reason,
        reading=MaskReading(label_map or None, tuple(raw.present) if label_map else ()),
    )


def _gray_if_equal_channels(images: Sequence, gray_rgb: int | None
                            ) -> tuple[Sequence, str | None]:
    """Gray pictures stored as RGB (R = G = B in every pixel of every image, as some JPEG
    writers do) become (H, W): encoded as mode-L PNGs they take about 1/3 of the bytes (a
    linked output keeps the RGB files; readers take one channel where `channels` is 1).

    All or nothing (`gray_rgb` is None unless every RGB image is gray): one true colour image
    keeps every image as it is, so that a dataset never mixes channel counts because a few of
    its frames happen to be gray.
    """
    if gray_rgb is None:
        return images, None
    gray = map_pixels(images, first_channel, lambda shape: shape[:2], facts=lambda f: f.gray())
    # Read before --files is decided, so the note says what each form then stores.
    return gray, (f"{gray_rgb} RGB images have R = G = B in every pixel: read as grayscale "
                  "(one channel). Encoded outputs store them as one-channel PNGs; --files "
                  "link keeps the RGB source files, read back as one channel.")


def _equal_channel_count(images: list[np.ndarray]) -> int | None:
    """How many images are RGB, when every one of them has R = G = B; else None."""
    rgb = [im for im in images if im.ndim == 3]
    if not all(is_gray_rgb(im) for im in rgb):
        return None
    return len(rgb) or None


def first_channel(image: np.ndarray) -> np.ndarray:
    """(H, W) of a gray image stored as (H, W, 3); an (H, W) image as it is."""
    return np.ascontiguousarray(image[..., 0]) if image.ndim == 3 else image


def _relabel(lut: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return lut[mask]


