"""Label maps: which raw mask values occur, whether a map would merge classes by accident,
what to suggest for masks that hold raw labels, and one sentence that explains the map in use."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curate.io.errors import InputError
from curate.io.npz import is_mapped, release_pages

# Without --num-classes, masks with more distinct values than this are not taken as labels.
MANY_VALUES = 32
# 255 is the usual "void / no label" value (AI4Mars, Pascal VOC, Cityscapes' ignore id) when
# the real labels are small numbers; 0..VOID_GAP-1 counts as small.
VOID = 255
VOID_GAP = 64
RELEASE_EVERY = 4096   # masks counted between releases of their mapped pages


@dataclass
class RawValues:
    """How often each raw mask value 0..255 occurs: pixels (256,) and masks holding it (256,).

    `also` holds values known to occur elsewhere: the input's masks, when the masks counted
    here are corrected ones read later (curate.data.mask_fixes).
    """

    pixels: np.ndarray
    masks: np.ndarray
    total_masks: int
    also: frozenset[int] = frozenset()

    @property
    def present(self) -> list[int]:
        return sorted({int(v) for v in np.flatnonzero(self.pixels)} | set(self.also))

    def where(self, value: int) -> str:
        """'5,672,357 pixels in 389 of 400 masks' for one raw value."""
        if not self.pixels[value] and value in self.also:
            return "in the input's masks"
        return (f"{int(self.pixels[value]):,} pixels in {int(self.masks[value]):,} of "
                f"{self.total_masks:,} masks")


@dataclass(frozen=True)
class MaskReading:
    """How one read turned raw mask values into labels, so that a mask read later (a
    corrected one) goes through exactly the same map and checks: the map applied (None: the
    values are the labels, as in a curated folder) and the raw values the input's masks held."""

    label_map: dict[int, int] | None = None
    raw_present: tuple[int, ...] = ()

    def lut(self, raw: RawValues) -> np.ndarray:
        """The (256,) lookup for masks whose raw values `raw` counts, beside the input's own:
        refused (check_collisions, the input's words) when the map would merge classes."""
        if not self.label_map:
            return label_lut({})
        both = RawValues(raw.pixels, raw.masks, raw.total_masks,
                         frozenset(self.raw_present) | raw.also)
        check_collisions(self.label_map, both)
        return label_lut(self.label_map)


def raw_values(masks: list[np.ndarray]) -> RawValues:
    """Count every raw value over uint8 masks (one bincount per mask, no big matrix)."""
    pixels = np.zeros(256, np.int64)
    holding = np.zeros(256, np.int64)
    mapped: list[np.ndarray] = []     # read from a mapped npz: their pages are released
    for mask in masks:
        counts = np.bincount(mask.ravel(), minlength=256)
        pixels += counts
        holding += counts > 0
        if is_mapped(mask):
            mapped.append(mask)
        if len(mapped) == RELEASE_EVERY:
            release_pages(mapped)
            mapped = []
    release_pages(mapped)
    return RawValues(pixels, holding, len(masks))


def format_map(label_map: dict[int, int]) -> str:
    """{255: 0, 0: 1} -> '0:1,255:0' (sorted by raw value, the --label-map syntax)."""
    return ",".join(f"{raw}:{label}" for raw, label in sorted(label_map.items()))


def complete_map(partial: dict[int, int], present: list[int]) -> dict[int, int]:
    """`partial` plus every present raw value it lacks, given the free labels in order.

    E.g. {255: 0} over raw 0, 1, 2, 3, 255 -> {0: 1, 1: 2, 2: 3, 3: 4, 255: 0}: no two raw
    values share a label, and the unmapped ones keep their order.
    """
    full = dict(partial)
    used = set(partial.values())
    free = (label for label in range(512) if label not in used)
    for raw in sorted(set(present) - set(partial)):
        full[raw] = next(free)
    return full


def _suggestion(full: dict[int, int]) -> str:
    return f"--label-map {format_map(full)} --num-classes {max(full.values()) + 1}"


def check_collisions(label_map: dict[int, int], raw: RawValues) -> None:
    """Refuse a map that sends a raw value onto a label that another raw value, present and
    left out of the map, already has: the two classes would merge without anyone asking.

    Listing that other value in the map (e.g. '0:0,255:0') says the merge is deliberate.
    """
    present = set(raw.present)
    clashes = [(source, target) for source, target in sorted(label_map.items())
               if source != target and source in present and target in present
               and target not in label_map]
    if not clashes:
        return
    lines = [
        f"raw {source} is mapped to {target}, but raw {target} also occurs ({raw.where(target)}) "
        f"and is not in the map, so it stays {target}: both would become label {target} "
        f"(raw {source}: {raw.where(source)})"
        for source, target in clashes
    ]
    full = complete_map(label_map, raw.present)
    keep = ",".join(f"{t}:{t}" for t in sorted({t for _, t in clashes}))
    raise InputError(
        f"--label-map {format_map(label_map)} would merge classes: " + "; ".join(lines)
        + f". Give every raw value found ({', '.join(map(str, raw.present))}) its own label, "
        f"e.g. {_suggestion(full)}; or, to merge on purpose, list the merged value too "
        f"(e.g. --label-map {keep},{format_map(label_map)})."
    )


def infer_label_map(raw: RawValues) -> dict[int, int] | None:
    """The map to use when none was given and --num-classes was not set either.

    Masks of only 0 and 255 are binary: {0: 0, 255: 1}. Masks that look like raw or coded
    labels (many distinct values, or a sparse set such as 0..3 plus 255) are refused with the
    options to pass; anything else is read as it is (None).
    """
    present = raw.present
    if present == [0, VOID]:
        return {0: 0, VOID: 1}
    if not present:
        return None
    top, n = max(present), len(present)
    if n > MANY_VALUES:
        raise InputError(
            f"The masks hold {n} distinct values ({present[0]}..{top}), too many to read as "
            "class labels without options: they look like photos, lossy (JPEG) masks, or "
            "gray- or colour-coded labels. If each value is a class, pass --num-classes "
            f"{top + 1}; to group values into classes, pass --label-map RAW:LABEL,...; if the "
            "masks were saved as JPEG, re-export them losslessly (PNG) with one value per class."
        )
    if top >= 8 and top + 1 > 2 * n:
        others = [v for v in present if v != VOID]
        void = VOID in present and max(others, default=0) < VOID_GAP
        full = complete_map({VOID: 0} if void else {}, present)
        why = (f"{VOID} looks like a 'void / no label' value: this map sends it to class 0, "
               "which metrics ignore by default, and keeps the other values in order as "
               "1, 2, ..." if void else "this map numbers the values found 0, 1, 2, ... in order")
        raise InputError(
            f"The masks hold the raw values {', '.join(map(str, present))}: these look like raw "
            f"or coded labels, not classes 0..K-1 (read as they are they would make {top + 1} "
            f"classes, {top + 1 - n} of them empty). Pass {_suggestion(full)} to read them as "
            f"{n} classes ({why}); or pass --num-classes {top + 1} to keep the raw values as "
            "class numbers."
        )
    return None


def describe_label_map(label_map: dict[int, int], raw: RawValues, class_names: list[str],
                       inferred: bool, source: str | None = None) -> str:
    """The sentences that say which map is in use and where each raw value went.

    Printed by the CLI as a note and kept in dataset.json's history (and so in the card).
    """
    def name(label: int) -> str:
        known = 0 <= label < len(class_names) and class_names[label] != f"class {label}"
        return f"{label} ({class_names[label]})" if known else str(label)

    present = set(raw.present)
    if inferred:
        head = ("Masks hold only the values 0 and 255: read as a binary label map (inferred; "
                "pass --label-map to choose another)")
    elif source:
        head = f"Label map {source} ({format_map(label_map)})"
    else:
        head = f"Label map from --label-map {format_map(label_map)}"
    moves = ", ".join(f"raw {r} -> {name(t)}" for r, t in sorted(label_map.items())
                      if r in present)
    parts = [f"{head}: {moves}." if moves else f"{head}."]
    kept = sorted(present - set(label_map))
    if kept:
        parts.append("Raw values not in the map keep their value: "
                     + ", ".join(map(str, kept)) + ".")
    absent = sorted(set(label_map) - present)
    if absent:
        parts.append("In the map but not found in any mask: raw "
                     + ", ".join(map(str, absent)) + ".")
    for target in sorted(set(label_map.values())):
        sources = sorted(r for r, t in label_map.items() if t == target and r in present)
        if len(sources) > 1:
            parts.append(f"Raw {' and '.join(map(str, sources))} are merged into "
                         f"{name(target)} (each is listed in the map).")
    return " ".join(parts)  # the ignored class has its own sentence (curate/io/ignore_class.py)


def parse_label_map(text: str | None) -> dict[int, int] | None:
    """'255:1' or '0:0,255:1' -> {0: 0, 255: 1}; None stays None."""
    if not text:
        return None
    mapping = {}
    for item in text.split(","):
        parts = item.strip().split(":")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise InputError(
                f"Bad --label-map entry {item!r}: expected RAW:LABEL pairs of integers, "
                "e.g. '0:0,255:1'."
            )
        raw, label = (int(p) for p in parts)
        if not (0 <= raw <= 255 and 0 <= label <= 255):
            raise InputError(f"Bad --label-map entry {item!r}: values must be in 0..255.")
        mapping[raw] = label
    return mapping


@dataclass(frozen=True)
class LabelWords:
    """--num-classes, --label-map and --ignore-index as both command lines read them: the map
    parsed; --ignore-index -1 means no ignore class, and leaving it out (`ignore_given` False)
    lets the source decide (a layout's void value for curate, the checkpoint's for segment)."""

    num_classes: int | None = None
    label_map: dict[int, int] | None = None
    ignore_index: int | None = None
    ignore_given: bool = False


def label_words(num_classes: int | None, label_map: str | None,
                ignore_index: int | None) -> LabelWords:
    """LabelWords from the options' values as typed (None where an option was left out)."""
    return LabelWords(num_classes, parse_label_map(label_map),
                      None if ignore_index is None or ignore_index < 0 else ignore_index,
                      ignore_index is not None)


def label_lut(label_map: dict[int, int]) -> np.ndarray:
    """(256,) uint8: raw value -> label; values the map leaves out keep their number."""
    lut = np.arange(256, dtype=np.uint8)
    for raw, label in label_map.items():
        lut[raw] = label
    return lut


def map_labels(masks: list[np.ndarray], label_map: dict[int, int] | None
               ) -> tuple[list[np.ndarray], list[str]]:
    """Raw masks -> labels with `label_map`, or with 0:0,255:1 when there is none and the masks
    hold exactly 0 and 255 (as curate reads them); a map that would merge classes is refused."""
    raw = raw_values(masks)
    notes = []
    if label_map is None and raw.present == [0, 255]:
        label_map = {0: 0, 255: 1}
        notes.append("masks hold only 0 and 255: read as 0:0,255:1 (pass --label-map to "
                     "choose otherwise)")
    if label_map:
        check_collisions(label_map, raw)
        lut = label_lut(label_map)
        masks = [lut[m] for m in masks]
    return masks, notes
