"""Online copy-paste of a rare class (`segment train --set copy_paste_class=K`): while training, a
drawn pair receives, with probability p, every class-K pixel of another training pair (a
"donor"), image pixels and label together.

The donor's region keeps its rows and may move sideways and be mirrored: in rover and street
pictures an object's size follows its distance, i.e. its row, so only the horizontal placement
is free. Each paste is a pure function of (seed, epoch, draw), like the augmentation, so a
resumed run and any worker count see the same pastes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segment.errors import InputError

PASTE_STREAM = 0xC0B7  # keeps paste draws apart from the augmentation's seeds


@dataclass
class CopyPaste:
    images: object  # (N, C, H, W) uint8 array or FileStack: the train split
    masks: object  # (N, H, W)
    donors: np.ndarray  # indices of the pairs whose masks hold class_index
    class_index: int
    prob: float
    seed: int

    def __call__(self, image: np.ndarray, mask: np.ndarray, index: int, epoch: int,
                 key: int) -> tuple[np.ndarray, np.ndarray]:
        """Pair `index` (draw `key` of `epoch`), with a donor's class pixels pasted in or not."""
        rng = np.random.default_rng([self.seed, epoch, key, PASTE_STREAM])
        if rng.random() >= self.prob:
            return image, mask
        others = self.donors[self.donors != index]
        if not len(others):
            return image, mask
        donor = int(rng.choice(others))
        region = np.asarray(self.masks[donor]) == self.class_index
        source = np.asarray(self.images[donor])
        if rng.random() < 0.5:
            region, source = region[:, ::-1], source[:, :, ::-1]
        region, source = shift_sideways(region, source, rng)
        image, mask = image.copy(), mask.copy()
        image[:, region] = source[:, region]
        mask[region] = self.class_index
        return image, mask


def shift_sideways(region: np.ndarray, source: np.ndarray, rng: np.random.Generator):
    """region (H, W) and source (C, H, W) moved by one random column offset that keeps every
    pixel of the region inside the frame."""
    columns = np.flatnonzero(region.any(0))
    width = region.shape[1]
    dx = int(rng.integers(-columns[0], width - columns[-1]))
    if dx == 0:
        return region, source
    moved_region, moved_source = np.zeros_like(region), np.zeros_like(source)
    if dx > 0:
        moved_region[:, dx:], moved_source[:, :, dx:] = region[:, :-dx], source[:, :, :-dx]
    else:
        moved_region[:, :dx], moved_source[:, :, :dx] = region[:, -dx:], source[:, :, -dx:]
    return moved_region, moved_source


def copy_paste(images, masks, has: np.ndarray, class_index: int, prob: float,
               seed: int) -> CopyPaste:
    """The paste of class_index from the pairs where `has` (has_class of the masks) is true,
    or an InputError when no training mask holds the class."""
    if not has.any():
        raise InputError(
            f"--set copy_paste_class={class_index}: no training mask contains class {class_index}, "
            "so there is nothing to paste; pick a class present in the train split "
            "(`curate stats DATASET --split train` lists them) or leave the setting out"
        )
    return CopyPaste(images, masks, np.flatnonzero(has), class_index, prob, seed)
