"""How to split and the decided split: SplitConfig (ratios, seed, what must stay together)
and SplitPlan (what each pair gets and why). The modules of curate.split share these; they
live apart from the code that uses them so that no two of those modules import each other."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curate.errors import ConfigError
from curate.io.dataset import SPLITS
from curate.scan.neighbours import MAX_DISTANCE
from curate.split.blocks import group_limit


@dataclass
class SplitConfig:
    """How to split: train/val/test ratios, seed, and what must stay together."""

    ratios: tuple[float, float, float] = (0.7, 0.15, 0.15)
    seed: int = 0
    near_duplicate_distance: int = 6
    group_column: str | None = None
    pixel_bins: int = 6
    max_group_size: float | None = None   # pairs (>= 1) or a fraction of all pairs (< 1)
    sequences: bool = True                # keep video sequences named in the ids together
    keep_source_split: bool = False       # pairs with a source_split keep it (VOC lists, ...)

    def __post_init__(self) -> None:
        """Raise ConfigError for ratios, distance, bins or group size that cannot work."""
        _check_ratios(tuple(self.ratios))
        if not 0 <= self.near_duplicate_distance <= MAX_DISTANCE:
            raise ConfigError(
                f"near_duplicate_distance {self.near_duplicate_distance} is outside "
                f"0..{MAX_DISTANCE} (bits of a 64-bit pHash); 6 is the default, 0 groups only "
                "identical hashes."
            )
        if self.pixel_bins < 1:
            raise ConfigError(f"pixel_bins {self.pixel_bins} must be at least 1 (1 stratifies "
                              "on class presence only).")
        group_limit(self.max_group_size, 1)


def parse_ratios(text: str) -> tuple[float, float, float]:
    """'0.7,0.15,0.15' -> (0.7, 0.15, 0.15), checked with SplitConfig's rules."""
    try:
        ratios = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise ConfigError(
            f"Bad --ratios {text!r}: expected three comma-separated numbers for train, val "
            "and test that sum to 1, e.g. '0.7,0.15,0.15'."
        ) from None
    _check_ratios(ratios)
    return ratios  # type: ignore[return-value]


def _check_ratios(ratios) -> None:
    shown = ",".join(f"{r:g}" for r in ratios)
    if len(ratios) != len(SPLITS):
        raise ConfigError(
            f"Ratios {shown} give {len(ratios)} values; expected 3 (train, val, test), "
            "e.g. 0.7,0.15,0.15. Use 0 for a split you do not want."
        )
    if any(not np.isfinite(r) or r < 0 for r in ratios):
        raise ConfigError(f"Ratios {shown} hold a negative or non-finite value; each must be "
                          "between 0 and 1.")
    if abs(sum(ratios) - 1.0) > 1e-6:
        raise ConfigError(
            f"Ratios {shown} sum to {sum(ratios):g}; they must sum to 1, e.g. 0.7,0.15,0.15."
        )


@dataclass
class SplitPlan:
    """The decided split: what each pair gets and why (all arrays (N,), in manifest order)."""

    splits: np.ndarray        # 'train' / 'val' / 'test'; '' for a gap pair left out at a cut
    groups: np.ndarray        # the unit of assignment: a group, or a block of a cut group
    whole_groups: np.ndarray  # the group before any cut
    block: np.ndarray         # block number 1.. within a cut group; 0 when not cut
    blocks: np.ndarray        # blocks of the pair's cut group; 0 when not cut
    gap: list[str]            # why a pair was left out of every split; '' when it was not
    limit: int | None         # --max-group-size in pairs; None: groups are never cut


