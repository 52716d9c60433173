"""The flat, typed configuration of `curate augment`: each field has a flag of `curate augment`,
and `--set` / `--config` reach every one (also from `curate run`, section [augment])."""

from __future__ import annotations

from dataclasses import dataclass

from curate.errors import ConfigError

# Recipes drawn for the pairs that are not copy-paste; copy_paste is chosen by its fraction.
RECIPES = ("geometric", "crop_k", "photometric")
RUN_IMAGE_SHARE = 0.1   # `curate run --class K` without a target grows K to this image share


@dataclass
class AugmentConfig:
    """What to grow and how.

    Exactly one of `count` (new pairs), `pixel_share` (target share of class K among all
    training pixels, 0..1) and `image_share` (target share of training pairs that contain K)
    is given. `copy_paste_fraction` of the new pairs are copy-paste; the rest draw uniformly
    from `recipes`. `allow_unsplit` treats an unsplit dataset as all-train (and marks it so).
    """

    target_class: int
    count: int | None = None
    pixel_share: float | None = None
    image_share: float | None = None
    seed: int = 0
    copy_paste_fraction: float = 0.5
    recipes: tuple[str, ...] = RECIPES
    allow_unsplit: bool = False

    @classmethod
    def for_run(cls, target_class: int, count: int | None = None,
                pixel_share: float | None = None, image_share: float | None = None,
                **fields) -> "AugmentConfig":
        """The config of `curate run --class K`: image share RUN_IMAGE_SHARE when no target
        is given."""
        if count is None and pixel_share is None and image_share is None:
            image_share = RUN_IMAGE_SHARE
        return cls(target_class=target_class, count=count, pixel_share=pixel_share,
                   image_share=image_share, **fields)

    def __post_init__(self) -> None:
        """Raise ConfigError for option values that no dataset could satisfy."""
        given = [name for name in ("count", "pixel_share", "image_share")
                 if getattr(self, name) is not None]
        if len(given) != 1:
            raise ConfigError(
                f"Give exactly one target: --count N, --pixel-share S or --image-share S "
                f"(got {', '.join(given) or 'none'})."
            )
        if self.count is not None and self.count < 1:
            raise ConfigError(f"--count must be at least 1 (got {self.count}).")
        for name in ("pixel_share", "image_share"):
            value = getattr(self, name)
            if value is not None and not 0 < value < 1:
                raise ConfigError(
                    f"--{name.replace('_', '-')} is a fraction strictly between 0 and 1 "
                    f"(got {value}); e.g. 0.01 for 1 %."
                )
        if not 0 <= self.copy_paste_fraction <= 1:
            raise ConfigError(
                f"--copy-paste-fraction must be in 0..1 (got {self.copy_paste_fraction})."
            )
        unknown = [r for r in self.recipes if r not in RECIPES]
        if unknown:
            raise ConfigError(
                f"Unknown recipe(s) {unknown}; choose from {list(RECIPES)} "
                "(copy-paste is set by --copy-paste-fraction)."
            )
        if not self.recipes and self.copy_paste_fraction < 1:
            raise ConfigError(
                "No recipes given and --copy-paste-fraction < 1: give --recipes or set "
                "--copy-paste-fraction 1."
            )
