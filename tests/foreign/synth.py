"""Small synthetic datasets shaped like data the project was not built around.

Each builder writes an `images/` + `masks/` folder (paired by file stem) and returns its root.
The shapes follow the failures seen on real foreign data: street-scene video frames (RGB, 12
classes, a void label), a video-like sequence of near-identical frames, binary 0/255 masks,
raw AI4Mars-like labels 0..3 with 255 for "no label", and square or tall images.

Scenes are drawn from seeded random rectangles and discs so that every class has texture and
a region of its own; a video is one wide canvas seen through a window that pans one pixel
per frame, so consecutive frames are near duplicates, as in real footage.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def _scene_labels(rng: np.random.Generator, height: int, width: int, classes: list[int],
                  base: int, shapes: int) -> np.ndarray:
    """(H, W) uint8 labels: a base class with `shapes` rectangles and discs of other classes."""
    labels = np.full((height, width), base, np.uint8)
    yy, xx = np.mgrid[:height, :width]
    for _ in range(shapes):
        label = int(rng.choice(classes))
        cy, cx = int(rng.integers(0, height)), int(rng.integers(0, width))
        ry = int(rng.integers(max(2, height // 10), max(3, height // 3)))
        rx = int(rng.integers(max(2, width // 10), max(3, width // 3)))
        if rng.random() < 0.5:
            inside = (np.abs(yy - cy) <= ry) & (np.abs(xx - cx) <= rx)
        else:
            inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0
        labels[inside] = label
    return labels


def _render(rng: np.random.Generator, labels: np.ndarray, levels: np.ndarray,
            rgb: bool) -> np.ndarray:
    """uint8 image whose mean level (or colour) depends on the label, with noise and shading."""
    height, width = labels.shape
    shade = np.linspace(-12, 12, width)[None, :] + np.linspace(-8, 8, height)[:, None]
    channels = 3 if rgb else 1
    image = np.empty((height, width, channels), np.float32)
    for c in range(channels):
        image[..., c] = levels[labels, c] + shade + rng.normal(0, 6, labels.shape)
    image = np.clip(image, 0, 255).astype(np.uint8)
    return image if rgb else image[..., 0]


def _levels(rng: np.random.Generator, count: int) -> np.ndarray:
    """(count, 3) distinct grey/colour levels, one per raw label value."""
    return rng.integers(20, 236, size=(count, 3)).astype(np.float32)


def _write(root: Path, stem: str, image: np.ndarray, mask: np.ndarray,
           image_ext: str = ".png") -> None:
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(root / "images" / f"{stem}{image_ext}")
    Image.fromarray(mask).save(root / "masks" / f"{stem}.png")


def street_video(root: Path, frames: int = 36, height: int = 48, width: int = 64,
                 seed: int = 0) -> Path:
    """RGB street-like video: labels 0..10 are classes, 11 is void (drawn on region borders).

    Two sequences of `frames // 2` frames each, panning one pixel per frame.
    """
    rng = np.random.default_rng(seed)
    levels = _levels(rng, 12)
    per_sequence = frames // 2
    for sequence in range(2):
        canvas = _scene_labels(rng, height, width + per_sequence, list(range(1, 11)),
                               base=0, shapes=14)
        # Void: a one-pixel seam wherever the label changes, as annotators leave borders open.
        edge = np.zeros_like(canvas, bool)
        edge[:, 1:] |= canvas[:, 1:] != canvas[:, :-1]
        edge[1:, :] |= canvas[1:, :] != canvas[:-1, :]
        canvas[edge] = 11
        for f in range(per_sequence):
            labels = canvas[:, f:f + width]
            _write(root, f"seq{sequence}_{f:04d}", _render(rng, labels, levels, True), labels)
    return root


def gray_sequence(root: Path, frames: int = 60, extra: int = 20, height: int = 48,
                  width: int = 64, seed: int = 1, pan: int = 1) -> Path:
    """A grayscale sequence of near-identical frames (a camera panning `pan` pixels per frame;
    0 = a static camera, one near-duplicate group) plus `extra` unrelated pairs; labels
    0 (ignore) .. 3."""
    rng = np.random.default_rng(seed)
    levels = _levels(rng, 4)
    canvas = _scene_labels(rng, height, width + frames * pan, [1, 2, 3], base=1, shapes=12)
    for f in range(frames):
        labels = canvas[:, f * pan:f * pan + width]
        _write(root, f"frame_{f:04d}", _render(rng, labels, levels, False), labels)
    for i in range(extra):
        labels = _scene_labels(rng, height, width, [0, 2, 3], base=1, shapes=6)
        _write(root, f"other_{i:03d}", _render(rng, labels, levels, False), labels)
    return root


def binary_255(root: Path, count: int = 30, size: int = 64, seed: int = 2) -> Path:
    """Square grayscale pairs with 0/255 masks (membrane-like: 255 = foreground)."""
    rng = np.random.default_rng(seed)
    levels = _levels(rng, 2)
    for i in range(count):
        labels = _scene_labels(rng, size, size, [1], base=0, shapes=5)
        image = _render(rng, labels, levels, False)
        _write(root, f"cell_{i:03d}", image, (labels * 255).astype(np.uint8))
    return root


def raw_ai4mars_like(root: Path, count: int = 40, height: int = 96, width: int = 48,
                     seed: int = 3) -> Path:
    """Tall grayscale JPEG images; masks with raw labels 0 soil, 1 bedrock, 2 sand,
    3 big rock (rare) and 255 no label, as in the raw AI4Mars release."""
    rng = np.random.default_rng(seed)
    levels = _levels(rng, 5)
    for i in range(count):
        labels = _scene_labels(rng, height, width, [1, 2], base=0, shapes=5)
        if i % 4 == 0:  # big rock in a quarter of the pairs
            labels = np.where(_scene_labels(rng, height, width, [3], base=0, shapes=1) == 3,
                              3, labels).astype(np.uint8)
        labels[: height // 6] = 4  # sky band: nobody labels it
        image = _render(rng, labels, levels, False)
        raw = np.where(labels == 4, 255, labels).astype(np.uint8)
        _write(root, f"NLA_{i:05d}", image, raw, image_ext=".jpg")
    return root


def square_multiclass(root: Path, count: int = 40, size: int = 64, seed: int = 4,
                      height: int | None = None) -> Path:
    """Independent grayscale scenes (no near duplicates), labels 0 (ignore) .. 4; class 4 is
    rare (a small disc in every fifth pair). `height` makes them non-square."""
    rng = np.random.default_rng(seed)
    height = height or size
    levels = _levels(rng, 5)
    for i in range(count):
        labels = _scene_labels(rng, height, size, [2, 3], base=1, shapes=6)
        labels[:, : size // 8] = 0
        if i % 5 == 0:
            cy, cx = int(rng.integers(8, height - 8)), int(rng.integers(16, size - 8))
            labels[cy - 3:cy + 3, cx - 3:cx + 3] = 4
        _write(root, f"pair_{i:03d}", _render(rng, labels, levels, False), labels)
    return root
