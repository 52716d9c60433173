"""Video sequences named in file names, so that `curate split` keeps a sequence in one split.

Frames of one clip are near copies of each other; a validation frame whose neighbours are in
train scores far better than a frame of an unseen clip (CamVid: val mIoU 0.295 on frames of
the training sequences against 0.123 on other sequences). Names like 0001TP_006690,
seq05VD_f00120 or Seq01_000123 carry the clip (a prefix with a letter in it) and the frame
number (the trailing digits). The prefix must hold a letter AND a digit, as clip ids do
(Abyssinian_100, a breed and a photo number, is not video); when most names of a dataset
follow that shape and name at least two clips, the clip is a group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

# prefix, a separator, an optional 'f' or 'frame', the frame number; see `_sequence`.
FRAME_NAME = re.compile(r"^(?P<sequence>.+?)[_\-. ](?:f|frame)?(?P<frame>\d{2,})$",
                        re.IGNORECASE)
MIN_SHARE = 0.9        # share of names that must follow the pattern
MIN_FRAMES = 2         # mean frames per sequence: one frame per "clip" is just a naming scheme


@dataclass(frozen=True)
class Sequences:
    names: list[str]   # per pair: its sequence, "" where the name does not follow the pattern
    sizes: dict[str, int]

    def describe(self) -> str:
        shown = ", ".join(f"{name} {size}" for name, size in
                          sorted(self.sizes.items(), key=lambda kv: -kv[1])[:8])
        more = f" and {len(self.sizes) - 8} more" if len(self.sizes) > 8 else ""
        return (f"{len(self.sizes)} video sequences in the file names (frames per sequence: "
                f"{shown}{more})")


def find_sequences(ids: list[str]) -> Sequences | None:
    """The sequence of every pair, when the names clearly are SEQUENCE_FRAME; else None."""
    if not ids:
        return None
    names = [_sequence(str(i)) for i in ids]
    found = [n for n in names if n]
    if len(found) < MIN_SHARE * len(ids):
        return None
    values, counts = np.unique(found, return_counts=True)
    if len(values) < 2 or counts.mean() < MIN_FRAMES:
        return None
    return Sequences(names, {str(v): int(c) for v, c in zip(values, counts)})


def _sequence(name: str) -> str:
    """The clip id of SEQUENCE_FRAME, or "": the prefix must hold a letter and a digit."""
    match = FRAME_NAME.match(name)
    if match is None:
        return ""
    prefix = match.group("sequence")
    has_both = any(c.isalpha() for c in prefix) and any(c.isdigit() for c in prefix)
    return prefix if has_both else ""
