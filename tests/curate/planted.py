"""Planted, known defects on real Mars pairs (curate/samples/mars300.npz) for the outlier tests.

Each defect is planted on, or copied from, a distinct real pair picked with a seeded rng from
pairs with a labelled, multi-class mask, so the expected findings are known exactly:

  exact_copy           a copy of a real pair (image and mask), appended
  near_copy            a copy of a real pair with the image 8 gray levels brighter, appended
  alien_0 .. alien_5   six synthetic gratings with noise (not terrain) that all carry the mask
                       of one real pair; that real pair is left out, so the group is exactly them
  blank                a real pair whose image is replaced by a constant image
  dark                 a real pair whose image is divided by 16
  bad_labels           a real pair whose mask holds a 3x3 block of label 7 (5 classes)
  unlabelled           a real pair whose mask is all 0 (the ignore class)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

import curate

SAMPLE = Path(curate.__file__).parent / "samples" / "mars300.npz"
NUM_CLASSES = 5
ALIENS = 6


def load_sample() -> tuple[np.ndarray, list[str]]:
    """(300, 2, 64, 128) uint8 real pairs ([:, 0] image, [:, 1] mask) and their ids."""
    with np.load(SAMPLE) as data:
        return data["training_set"].copy(), [str(n) for n in data["names"]]


@dataclass
class Planted:
    pairs: np.ndarray            # (N, 2, H, W) uint8
    ids: list[str]
    role: dict[str, str]         # planted role -> id of the pair that carries it
    donor: str                   # id of the left-out real pair whose mask the aliens carry


def planted_sample(seed: int = 0) -> Planted:
    """The real sample with every planted defect of the module docstring."""
    pairs, ids = load_sample()
    rng = np.random.default_rng(seed)
    masks = pairs[:, 1]
    labelled = [(np.bincount(m.ravel(), minlength=256)[1:NUM_CLASSES]) for m in masks]
    usable = [i for i, c in enumerate(labelled) if (c > 0).sum() >= 2]
    detailed = [i for i in usable if (labelled[i] > 0).sum() >= 3
                and labelled[i].max() < 0.6 * labelled[i].sum()]
    donor = int(rng.choice(detailed))
    picks = rng.choice([i for i in usable if i != donor], size=6, replace=False)
    exact, near, blank, dark, bad, unlabelled = (int(i) for i in picks)

    out = pairs.copy()
    out[blank, 0] = int(round(pairs[blank, 0].mean()))
    out[dark, 0] = pairs[dark, 0] // 16
    out[bad, 1, 10:13, 20:23] = 7
    out[unlabelled, 1] = 0
    brighter = np.clip(pairs[near, 0].astype(np.int16) + 8, 0, 255).astype(np.uint8)
    extra = [pairs[exact], np.stack([brighter, pairs[near, 1]])]
    extra += [np.stack([alien_image(rng, pairs.shape[2:]), masks[donor]]) for _ in range(ALIENS)]
    keep = [i for i in range(len(pairs)) if i != donor]
    all_pairs = np.concatenate([out[keep], np.stack(extra)])
    all_ids = [ids[i] for i in keep] + ["exact_copy", "near_copy"] + [
        f"alien_{k}" for k in range(ALIENS)]
    role = {"exact_source": ids[exact], "near_source": ids[near], "blank": ids[blank],
            "dark": ids[dark], "bad_labels": ids[bad], "unlabelled": ids[unlabelled]}
    return Planted(all_pairs, all_ids, role, ids[donor])


def alien_image(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A sinusoidal grating of random frequency and angle plus noise, gray levels 40..160."""
    y, x = np.mgrid[0:shape[0], 0:shape[1]]
    angle, cycles = rng.uniform(0, np.pi), rng.uniform(3, 10)
    phase = (x * np.cos(angle) + y * np.sin(angle)) / shape[1] * 2 * np.pi * cycles
    image = 100 + 50 * np.sin(phase + rng.uniform(0, 2 * np.pi)) + rng.normal(0, 8, shape)
    return np.clip(image, 0, 255).round().astype(np.uint8)


def write_npz(path: Path, pairs: np.ndarray, ids: list[str]) -> Path:
    np.savez_compressed(path, training_set=pairs, names=np.array(ids))
    return path


def write_folder(folder: Path, images: list[np.ndarray], masks: list[np.ndarray],
                 ids: list[str]) -> Path:
    """DATA/images/<id>.png and DATA/masks/<id>.png."""
    (folder / "images").mkdir(parents=True)
    (folder / "masks").mkdir()
    for image, mask, id_ in zip(images, masks, ids):
        Image.fromarray(image).save(folder / "images" / f"{id_}.png")
        Image.fromarray(mask).save(folder / "masks" / f"{id_}.png")
    return folder
