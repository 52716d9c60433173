"""Which class metrics leave out of raw data, and the sentence that says why.

The ignored class drops pixels from training and scoring, so it is never a silent default: it
comes from the user (--ignore-index), from a layout whose convention it is (the AN2DL npz with
'training_set': class 0 is "no label"), or from the common void value 255 found in the masks.
Otherwise every class counts.
"""

from __future__ import annotations

from dataclasses import dataclass

VOID = 255  # the raw value datasets commonly use for "void / no label"


@dataclass(frozen=True)
class IgnoreChoice:
    index: int | None   # the class left out of metrics, or None
    reason: str         # one sentence for the user, printed and stored in dataset.json


def choose_ignore_index(requested: int | None, by_layout: bool, *, an2dl: bool,
                        raw_present: list[int] | None, lut, num_classes: int,
                        binary_inferred: bool,
                        layout: tuple[int, str] | None = None) -> IgnoreChoice:
    """The ignored class of raw data and why.

    `requested` is the class given (--ignore-index K), or None; `by_layout` says that, with
    none given, the layout's convention chooses (no --ignore-index; -1 turns it off);
    `an2dl` is true for an npz with 'training_set'; `raw_present` the raw mask values found
    (None when they were not counted: AN2DL with --num-classes); `lut` the raw -> label table;
    `layout` the (class, reason) a downloaded layout declares void.
    """
    if requested is not None or not by_layout:
        if requested is None:
            return IgnoreChoice(None, "No class is ignored in metrics (--ignore-index -1).")
        return IgnoreChoice(requested, f"Class {requested} is ignored in metrics "
                                       f"(--ignore-index {requested}).")
    if layout is not None:   # a downloaded layout's own void class (curate.io.layouts)
        return IgnoreChoice(*layout)
    if binary_inferred:
        return IgnoreChoice(None, "No class is ignored in metrics: the two classes of binary "
                                  "0/255 masks are both real. Pass --ignore-index K to leave "
                                  "one out.")
    if an2dl:
        return IgnoreChoice(0, "Class 0 is ignored in metrics: the AN2DL layout "
                               "('training_set') marks unlabelled pixels 0. Pass "
                               "--ignore-index -1 to score every class, or another K.")
    if raw_present is not None and VOID in raw_present and int(lut[VOID]) < num_classes:
        label = int(lut[VOID])
        return IgnoreChoice(label, f"Class {label} is ignored in metrics: the masks hold the "
                                   f"common void value {VOID}"
                                   + (f", which the label map sends to class {label}"
                                      if label != VOID else "")
                                   + ". Pass --ignore-index -1 to score every class, or "
                                     "another K.")
    return IgnoreChoice(None, "No class is ignored in metrics: the masks declare no void "
                              "class (no value 255). If one class is void or unlabelled "
                              "(e.g. CamVid's 11), pass --ignore-index K.")
