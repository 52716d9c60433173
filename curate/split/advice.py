"""What `curate split` says when groups are too large for the ratios: the refusal of a split
that would leave a split empty, warnings for splits far from their ratio (each with its
remedies), and the summary of a --max-group-size cut."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from curate.split.blocks import describe_groups, far_off
from curate.io.dataset import SPLITS
from curate.errors import InputError

if TYPE_CHECKING:
    from curate.split.config import SplitConfig, SplitPlan


def _whole_sizes(groups: np.ndarray) -> np.ndarray:
    sizes = np.bincount(groups, minlength=len(groups))
    return sizes[sizes > 0]


def refuse_empty(pairs: dict[str, int], plan: SplitPlan, config: SplitConfig) -> None:
    """Raise InputError when a split with a ratio > 0 holds no pair, with the remedies."""
    ratio = dict(zip(SPLITS, config.ratios))
    empty = [name for name in SPLITS if ratio[name] > 0 and pairs[name] == 0]
    if not empty:
        return
    n = len(plan.splits)
    shown = ",".join(f"{r:g}" for r in config.ratios)
    names = " and ".join(empty)
    fallback = [r for r in config.ratios]
    takes = max((s for s in range(len(SPLITS)) if SPLITS[s] not in empty),
                key=lambda s: fallback[s])
    for s, name in enumerate(SPLITS):
        if name in empty:
            fallback[takes] += fallback[s]
            fallback[s] = 0.0
    alternative = ",".join(f"{r:g}" for r in fallback)
    suggest = _suggested_limit(config, n)
    sizes = _whole_sizes(plan.groups)
    text = (f"The split would leave {names} empty although --ratios {shown} asks for "
            f"{' and '.join(f'{100 * ratio[e]:g} %' for e in empty)} of the {n} pairs: "
            f"{describe_groups(sizes)}.")
    if plan.limit is not None:
        gaps = sum(1 for g in plan.gap if g)
        text += (f" That is after --max-group-size {plan.limit}"
                 + (f", which left {gaps} pairs at block cuts out of every split" if gaps
                    else "") + ".")
    else:
        text += (" Pairs in one group (near duplicates, identical images, equal "
                 "--group-column values) must share a split.")
    static = plan.limit is not None and 2 * sum(1 for g in plan.gap if g) >= n
    if static:
        text += (" Most pairs of the cut groups are near duplicates of pairs in other blocks "
                 "(a static scene or camera), so no cut separates them without leakage.")
    choices = []
    if (suggest and sizes.max() > suggest and not static
            and (plan.limit is None or plan.limit > suggest)):
        choices.append(f"--max-group-size {suggest} cuts larger groups into contiguous blocks "
                       "and leaves out the pairs at each cut that are near duplicates across "
                       "splits, so nothing leaks (split_block and split_gap in the manifest "
                       "say what it did)")
    choices.append(f"--ratios {alternative} does without {names}")
    choices.append("more pairs from other scenes or sequences give the split groups to share "
                   "out")
    text += (" Choices: " + "; ".join(choices) + ". Lowering --near-duplicate-distance "
             "would break the groups by letting near duplicates leak across splits (`curate "
             "check-leakage` flags them).")
    raise InputError(text)


def far_off_warnings(pairs: dict[str, int], plan: SplitPlan, config: SplitConfig
                      ) -> list[str]:
    ratio = dict(zip(SPLITS, config.ratios))
    off = far_off(pairs, ratio)
    if not off:
        return []
    total = sum(pairs.values())
    sizes = _whole_sizes(plan.groups)
    shown = ", ".join(f"{name} {pairs[name]} ({100 * pairs[name] / total:.1f} % against "
                      f"{100 * ratio[name]:g} %)" for name in off)
    text = (f"The split is far from --ratios {','.join(f'{r:g}' for r in config.ratios)}: "
            f"{shown} of {total} split pairs; {describe_groups(sizes)}.")
    if plan.limit is not None:
        gaps = sum(1 for g in plan.gap if g)
        text = text.replace("; one group holds", "; one group or block holds") + (
            f" --max-group-size {plan.limit} left {gaps} pairs at the cuts out of every "
            "split, from the split with the largest ratio.")
    suggest = _suggested_limit(config, len(plan.splits))
    if plan.limit is None and suggest and sizes.max() > suggest:
        text += (f" --max-group-size {suggest} cuts larger groups into contiguous blocks "
                 "without leakage.")
    return [text]


def _suggested_limit(config: SplitConfig, n: int) -> int | None:
    """A --max-group-size that lets the smallest split with a ratio hold one whole block."""
    suggest = int(min(r for r in config.ratios if r > 0) * n)
    return suggest if suggest >= 2 else None


def cut_summary(plan: SplitPlan) -> dict:
    cut = plan.block > 0
    gap = np.array([bool(g) for g in plan.gap])
    return {
        "max_group_size": plan.limit,
        "groups_cut": int(len(np.unique(plan.whole_groups[cut]))),
        "pairs_in_cut_groups": int(cut.sum()),
        "blocks": int(len(np.unique(plan.groups[cut]))),
        "gap_pairs": int(gap.sum()),
    }
