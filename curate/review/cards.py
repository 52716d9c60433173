"""The review's cards in the page's order: check by check, highest score first; one card per
flagged pair and check, except that the flagged members of one duplicate or shared-mask group
make one card together (one decision for the group, overrides per member)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from curate.checks import CHECKS

# Checks whose flagged pairs come in groups, and the column that names the group.
GROUP_KEYS = {"exact_duplicate": "pair_sha1", "duplicate_image": "image_sha1",
              "near_duplicate": "dup_group", "shared_mask": "mask_sha1"}


@dataclass
class Card:
    """One card: `check`, the flagged pairs it decides (`members`, indices into the items),
    and for a group its key and the group's other pairs (`context`: ids, not flagged by
    this check, shown beside it)."""

    check: str
    members: list[int]
    score: float
    key: str = ""
    context: list[str] = field(default_factory=list)


def flagged_items(table: pd.DataFrame) -> list[dict]:
    """One item per row of reports/outliers.csv: its checks, their scores, the reason, the
    default decision and the ids of its most similar typical images."""
    items = []
    has_default = "decision_default" in table.columns
    for row in table.itertuples(index=False):
        values = row._asdict()
        checks = [c for c in str(row.flags).split(";") if c]
        default = (values["decision_default"] if has_default else "") or (
            "remove" if row.removed else "keep")
        items.append({"id": str(row.id), "checks": checks, "reason": str(row.reason),
                      "scores": {c: float(values.get(f"{c}_score", 0) or 0) for c in checks},
                      "default": default,
                      "like": str(values.get("odd_image_like", "") or "").split()})
    return items


def build_cards(items: list[dict], table: pd.DataFrame, known: pd.DataFrame) -> list[Card]:
    """The cards of every check that flagged something, in the page's order.

    `table` is outliers.csv (row n is items[n]); `known` has the id and group columns of
    every pair the folder or the table names, so a group shows its unflagged pairs too.
    """
    cards: list[Card] = []
    for check in CHECKS:
        rows = [n for n, item in enumerate(items) if check in item["checks"]]
        if not rows:
            continue
        column = GROUP_KEYS.get(check)
        if column and column in table.columns:
            found = _group_cards(check, rows, items, table[column].astype(str), known)
        else:
            found = [Card(check, [n], items[n]["scores"][check]) for n in rows]
        cards += sorted(found, key=lambda c: -c.score)   # stable: ties keep the table's order
    return cards


def _group_cards(check: str, rows: list[int], items: list[dict], keys: pd.Series,
                 known: pd.DataFrame) -> list[Card]:
    """One card per group key among `rows`; a flagged pair without a key is a card alone."""
    by_key: dict[str, list[int]] = {}
    alone = []
    for n in rows:
        key = keys.iat[n]
        (by_key.setdefault(key, []) if key and key != "nan" else alone).append(n)
    column = GROUP_KEYS[check]
    pairs: dict[str, list[str]] = {}
    if column in known.columns:
        wanted = known[known[column].astype(str).isin(by_key.keys())]
        for key, ids in wanted.groupby(wanted[column].astype(str))["id"]:
            pairs[key] = ids.astype(str).tolist()
    cards = [Card(check, [n], items[n]["scores"][check]) for n in alone]
    for key, members in by_key.items():
        flagged = {items[n]["id"] for n in members}
        # a near-duplicate group is named by its first pair, itself not flagged
        others = ([key] if check == "near_duplicate" else []) + pairs.get(key, [])
        context = [i for i in dict.fromkeys(others) if i not in flagged]
        cards.append(Card(check, members, max(items[n]["scores"][check] for n in members),
                          key, context))
    return cards
