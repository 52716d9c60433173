"""Grow one class in the training split: plan seeded augmentations, replay them, report shares.

Decide first, then apply: `plan_augmentation` makes every random choice (recipe, parents,
per-sample seed) into a table; `apply_plan` replays it; `augment` does both and builds the
output dataset, manifest, summary and report files.
"""

from curate.augment.config import RECIPES, AugmentConfig
from curate.augment.grow import augment
from curate.augment.plan import plan_augmentation, train_rows
from curate.augment.recipes import apply_plan, copy_paste

__all__ = [
    "RECIPES", "AugmentConfig", "augment", "plan_augmentation", "train_rows",
    "apply_plan", "copy_paste",
]
