"""Class colours: Okabe-Ito for the first 8 classes, then well-separated generated colours.

Both packages draw masks with these colours: `segment` imports this module (curate's I/O
layer), so a class has one colour in every picture either tool makes.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# Class 0 black, then the Okabe-Ito colours (Okabe & Ito 2008, "Color Universal Design"),
# chosen to stay distinguishable under the common colour-vision deficiencies.
BASE = ((0, 0, 0), (230, 159, 0), (86, 180, 233), (0, 158, 115), (240, 228, 66),
        (0, 114, 178), (213, 94, 0), (204, 121, 167))
# The ignore class is drawn the same whatever its number: light grey with darker grey diagonal
# lines, so that "not labelled / not scored" never looks like a class.
IGNORE_BASE = (224, 224, 224)
IGNORE_GREY = (128, 128, 128)
HATCH_PERIOD = 6  # ignore pixels: one grey diagonal line every HATCH_PERIOD pixels
# Colours the generated ones keep away from: white (sheet background), the two greys of the
# ignore class, and magenta (labels >= num_classes).
RESERVED = ((255, 255, 255), IGNORE_BASE, IGNORE_GREY, (255, 0, 255))


def _srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(N, 3) sRGB 0..255 -> (N, 3) CIELAB (D65)."""
    c = rgb.astype(np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = lin @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                          [0.0193, 0.1192, 0.9505]]).T
    xyz /= np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]),
                     200 * (f[:, 1] - f[:, 2])], axis=1)


@lru_cache(maxsize=None)
def _table() -> np.ndarray:
    """(256, 3) uint8: BASE, then greedy farthest-point picks in CIELAB from an RGB grid."""
    levels = np.arange(0, 256, 32).tolist() + [255]                 # 9 levels, 729 colours
    grid = np.array([(r, g, b) for r in levels for g in levels for b in levels])
    lab = _srgb_to_lab(grid)
    taken = _srgb_to_lab(np.array(BASE + RESERVED))
    nearest = np.min(np.linalg.norm(lab[:, None] - taken[None], axis=2), axis=1)
    picks = list(BASE)
    while len(picks) < 256 and nearest.max() > 0:
        i = int(np.argmax(nearest))                                  # first maximum: stable
        picks.append(tuple(int(v) for v in grid[i]))
        nearest = np.minimum(nearest, np.linalg.norm(lab - lab[i], axis=1))
    table = np.array(picks, dtype=np.uint8)
    return np.resize(table, (256, 3))                                # cycle if ever short


def palette(num_classes: int) -> np.ndarray:
    """(num_classes, 3) uint8 colours of classes 0..num_classes-1 (at most 256 distinct)."""
    return _table()[np.arange(num_classes) % 256].copy()


def hatch_ignore(rgb: np.ndarray, mask: np.ndarray, ignore_index: int | None) -> np.ndarray:
    """Paint the ignore class's pixels of a (H, W, 3) picture light grey with grey diagonal
    hatching, whatever colour its number has in the palette."""
    if ignore_index is None:
        return rgb
    h, w = mask.shape[:2]
    yy, xx = np.mgrid[:h, :w]
    lines = (yy + xx) % HATCH_PERIOD == 0
    ignored = mask == ignore_index
    out = rgb.copy()
    out[ignored] = IGNORE_BASE
    out[ignored & lines] = IGNORE_GREY
    return out
