"""Replay a plan: each new pair comes from its parent(s) and its own seed, nothing else.

Masks are only ever moved with nearest-neighbour sampling or reflected borders, and
copy-paste sets the pasted region to the source's label, so every label in a new mask comes
from a parent mask. Vertical flips are left out on purpose: in rover imagery they put the
sky at the bottom.
"""

from __future__ import annotations

import os
import random

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import albumentations as A  # noqa: E402
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from curate.augment.plan import CROP_SCALE  # noqa: E402
from curate.io.dataset import Dataset  # noqa: E402
from curate.errors import InputError  # noqa: E402
from curate.ui.progress import track  # noqa: E402

MAX_ROTATE = 10          # degrees either way: small, the horizon stays roughly level
PASTE_FEATHER = 1.0      # sigma in pixels of the alpha ramp outside a pasted region


def geometric_transform() -> A.Compose:
    """Horizontal flip (p=0.5) and a small SafeRotate; reflected borders need no fill label."""
    return A.Compose([
        A.HorizontalFlip(p=0.5),
        A.SafeRotate(limit=MAX_ROTATE, border_mode=cv2.BORDER_REFLECT_101, p=1.0),
    ])


def photometric_transform() -> A.Compose:
    """Image-only changes (brightness/contrast, blur, noise) plus a horizontal flip."""
    return A.Compose([
        A.HorizontalFlip(p=0.5),
        A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0.2, p=1.0),
        A.GaussianBlur(sigma_limit=(0.3, 1.0), p=0.3),
        A.GaussNoise(std_range=(0.01, 0.05), p=0.3),
    ])


def resize_transform(height: int, width: int) -> A.Compose:
    """Back to (height, width): linear for the image, nearest for the mask; then a flip."""
    return A.Compose([A.Resize(height, width), A.HorizontalFlip(p=0.5)])


def _seeded(transform: A.Compose, seed: int) -> A.Compose:
    # One numpy and one Python stream per sample, shared by every transform in the Compose
    # in call order, so a pair depends only on its own seed (not on the pairs before it).
    transform.set_random_state(np.random.default_rng(seed), random.Random(seed))
    return transform


class Replayer:
    """Builds each transform once and applies a recipe to one pair with its seed."""

    def __init__(self, target_class: int):
        self.k = target_class
        self.geometric = geometric_transform()
        self.photometric = photometric_transform()
        self.resizers: dict[tuple[int, int], A.Compose] = {}

    def geometric_pair(self, image, mask, seed):
        out = _seeded(self.geometric, seed)(image=image, mask=mask)
        return out["image"], out["mask"]

    def photometric_pair(self, image, mask, seed):
        out = _seeded(self.photometric, seed)(image=image, mask=mask)
        return out["image"], out["mask"]

    def crop_k_pair(self, image, mask, seed):
        """Crop a box around a random class-K pixel, resize it back to the full size."""
        h, w = mask.shape
        rng = np.random.default_rng(seed)
        ys, xs = np.nonzero(mask == self.k)
        if len(ys) == 0:
            raise InputError(f"crop_k parent has no class-{self.k} pixel; the plan is stale.")
        j = int(rng.integers(len(ys)))
        scale = rng.uniform(*CROP_SCALE)
        ch, cw = max(1, round(h * scale)), max(1, round(w * scale))
        y0 = int(np.clip(ys[j] - ch // 2, 0, h - ch))
        x0 = int(np.clip(xs[j] - cw // 2, 0, w - cw))
        resize = self.resizers.setdefault((h, w), resize_transform(h, w))
        out = _seeded(resize, seed)(image=np.ascontiguousarray(image[y0:y0 + ch, x0:x0 + cw]),
                                    mask=np.ascontiguousarray(mask[y0:y0 + ch, x0:x0 + cw]))
        return out["image"], out["mask"]


def copy_paste(source_image: np.ndarray, source_mask: np.ndarray, target_image: np.ndarray,
               target_mask: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Paste the source's class-k region into the target at the same place.

    The mask is exactly `where(source_mask == k, k, target_mask)`; the image takes the source
    inside the region and blends into the target over about PASTE_FEATHER pixels outside it.
    """
    region = source_mask == k                                              # (H, W)
    ramp = cv2.GaussianBlur(region.astype(np.float32), (0, 0), PASTE_FEATHER)
    alpha = np.maximum(np.clip(2 * ramp, 0, 1), region)                    # 1 on the region
    if source_image.ndim == 3:
        alpha = alpha[..., None]
    blended = alpha * source_image + (1 - alpha) * target_image.astype(np.float32)
    image = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return image, np.where(region, np.uint8(k), target_mask).astype(np.uint8)


def apply_plan(dataset: Dataset, plan: pd.DataFrame, target_class: int) -> Dataset:
    """The new pairs of `plan`, in plan order, as a Dataset (sources say how each was made)."""
    position = {id_: i for i, id_ in enumerate(dataset.ids)}
    replayer = Replayer(target_class)
    steps = {"geometric": replayer.geometric_pair, "photometric": replayer.photometric_pair,
             "crop_k": replayer.crop_k_pair}
    images, masks, sources = [], [], []
    for row in track(plan.itertuples(index=False), f"augmenting class {target_class}", len(plan)):
        p = position[row.parent_id]
        if row.recipe == "copy_paste":
            q = position[row.second_parent_id]
            image, mask = copy_paste(dataset.images[p], dataset.masks[p], dataset.images[q],
                                     dataset.masks[q], target_class)
            sources.append(f"augment:copy_paste:{row.parent_id};{row.second_parent_id}")
        else:
            image, mask = steps[row.recipe](dataset.images[p], dataset.masks[p], int(row.aug_seed))
            sources.append(f"augment:{row.recipe}:{row.parent_id}")
        images.append(image)
        masks.append(mask)
    return Dataset(ids=plan["id"].tolist(), images=images, masks=masks, sources=sources,
                   num_classes=dataset.num_classes, class_names=list(dataset.class_names),
                   ignore_index=dataset.ignore_index)
