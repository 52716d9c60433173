"""Class colours: Okabe-Ito for classes 1-7, then well-separated generated colours; never black.

Both packages draw masks with these colours: `segment` imports this module (curate's I/O
layer), so a class has one colour in every picture either tool makes.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# Classes 1-7: the Okabe-Ito colours without their black (Okabe & Ito 2008, "Color Universal
# Design"), chosen to stay distinguishable under the common colour-vision deficiencies. Class 0
# takes the first generated colour: a real class is never black, which reads as "no label".
BASE = ((230, 159, 0), (86, 180, 233), (0, 158, 115), (240, 228, 66), (0, 114, 178),
        (213, 94, 0), (204, 121, 167))
# The ignore class is drawn the same whatever its number: light grey with darker grey diagonal
# lines, so that "not labelled / not scored" never looks like a class.
IGNORE_BASE = (224, 224, 224)
IGNORE_GREY = (128, 128, 128)
HATCH_PERIOD = 6  # ignore pixels: one grey diagonal line every HATCH_PERIOD pixels
# Colours the generated ones keep away from: white (sheet background), the two greys of the
# ignore class, magenta (labels >= num_classes) and black (no label, dark images).
RESERVED = ((255, 255, 255), IGNORE_BASE, IGNORE_GREY, (255, 0, 255), (0, 0, 0))
# Generated colours are at least this light (CIELAB L*, 0..100): darker ones read as black.
MIN_LIGHTNESS = 30.0


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


def delta_e2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference of (..., 3) CIELAB arrays (broadcast), as in Sharma, Wu &
    Dalal 2005. Unlike the plain CIELAB distance it does not overrate differences between
    saturated blues (navy and blue are 'far apart' in Delta E 1976 and look alike)."""
    l1, a1, b1 = np.moveaxis(np.asarray(lab1, np.float64), -1, 0)
    l2, a2, b2 = np.moveaxis(np.asarray(lab2, np.float64), -1, 0)
    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_mean ** 7 / (c_mean ** 7 + 25.0 ** 7)))
    a1, a2 = a1 * (1 + g), a2 * (1 + g)
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    h1, h2 = np.degrees(np.arctan2(b1, a1)) % 360, np.degrees(np.arctan2(b2, a2)) % 360
    chromatic = c1 * c2 != 0
    dh = (h2 - h1 + 180) % 360 - 180                                 # hue step in -180..180
    dh_big = 2 * np.sqrt(c1 * c2) * np.sin(np.radians(np.where(chromatic, dh, 0) / 2))
    h_mean = np.where(np.abs(h1 - h2) > 180, (h1 + h2 + 360) / 2 % 360, (h1 + h2) / 2)
    h_mean = np.where(chromatic, h_mean, h1 + h2)
    c_bar, l_bar = (c1 + c2) / 2, (l1 + l2) / 2
    t = (1 - 0.17 * np.cos(np.radians(h_mean - 30)) + 0.24 * np.cos(np.radians(2 * h_mean))
         + 0.32 * np.cos(np.radians(3 * h_mean + 6)) - 0.20 * np.cos(np.radians(4 * h_mean - 63)))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / np.sqrt(20 + (l_bar - 50) ** 2)
    s_c, s_h = 1 + 0.045 * c_bar, 1 + 0.015 * c_bar * t
    r_t = (-2 * np.sqrt(c_bar ** 7 / (c_bar ** 7 + 25.0 ** 7))
           * np.sin(np.radians(60 * np.exp(-(((h_mean - 275) / 25) ** 2)))))
    dl, dc, dhh = (l2 - l1) / s_l, (c2 - c1) / s_c, dh_big / s_h
    return np.sqrt(dl ** 2 + dc ** 2 + dhh ** 2 + r_t * dc * dhh)


@lru_cache(maxsize=None)
def _table() -> np.ndarray:
    """(256, 3) uint8: a generated colour, BASE, then greedy farthest-point picks in CIEDE2000
    from the RGB grid's colours of lightness >= MIN_LIGHTNESS."""
    levels = np.arange(0, 256, 32).tolist() + [255]                 # 9 levels, 729 colours
    grid = np.array([(r, g, b) for r in levels for g in levels for b in levels])
    lab = _srgb_to_lab(grid)
    grid, lab = grid[lab[:, 0] >= MIN_LIGHTNESS], lab[lab[:, 0] >= MIN_LIGHTNESS]
    taken = _srgb_to_lab(np.array(BASE + RESERVED))
    nearest = np.min(delta_e2000(lab[:, None], taken[None]), axis=1)
    picks = []
    while len(picks) < 256 - len(BASE) and nearest.max() > 0:
        i = int(np.argmax(nearest))                                  # first maximum: stable
        picks.append(tuple(int(v) for v in grid[i]))
        nearest = np.minimum(nearest, delta_e2000(lab, lab[i]))
    table = np.array(picks[:1] + list(BASE) + picks[1:], dtype=np.uint8)
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
