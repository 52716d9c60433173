"""The review's cards in the page's order: check by check, highest score first; one card per
flagged pair and check, except that the flagged members of one duplicate or shared-mask group
make one card together (one decision for the group, overrides per member).

The cards are kept as columns (numpy offsets and codes, arrow strings), not one object per
card, so that a review of 100,000 flagged pairs holds a few tens of bytes per card: the
review folder builds the page's dicts of one part of cards at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from curate.checks import CHECKS

# Checks whose flagged pairs come in groups, and the column that names the group.
GROUP_KEYS = {"exact_duplicate": "pair_sha1", "duplicate_image": "image_sha1",
              "near_duplicate": "dup_group", "shared_mask": "mask_sha1"}


@dataclass
class Card:
    """One card, as a notebook or a test reads it: `check`, the flagged pairs it decides
    (`members`, rows of outliers.csv), and for a group its key and the group's other pairs
    (`context`: ids, not flagged by this check, shown beside it)."""

    check: str
    members: list[int]
    score: float
    key: str = ""
    context: list[str] = field(default_factory=list)


@dataclass
class Cards:
    """Card k decides the flagged pairs rows[start[k]:start[k + 1]] (rows of outliers.csv) for
    the check names[check[k]], scored score[k]; a group's card has its `key` and shows the
    group's other pairs, context[context_start[k]:context_start[k + 1]] (ids, not flagged
    by this check). Single cards have key ''."""

    names: list[str]
    check: np.ndarray           # (K,) int8: index into names
    score: np.ndarray           # (K,) float64
    start: np.ndarray           # (K + 1,) int64
    rows: np.ndarray            # (members,) int64
    key: pd.Series              # (K,) str
    context_start: np.ndarray   # (K + 1,) int64
    context: pd.Series          # (context ids,) str

    def __len__(self) -> int:
        return len(self.check)

    def __getitem__(self, k: int) -> Card:
        return Card(self.names[self.check[k]], self.members(k).tolist(), float(self.score[k]),
                    str(self.key.iat[k]), self.contexts(k))

    def __iter__(self) -> Iterator[Card]:
        return (self[k] for k in range(len(self)))

    def members(self, k: int) -> np.ndarray:
        return self.rows[self.start[k]:self.start[k + 1]]

    def contexts(self, k: int) -> list[str]:
        return self.context.iloc[self.context_start[k]:self.context_start[k + 1]].tolist()


def check_masks(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """{check: (N,) bool, the rows whose flags name it} for every registered check."""
    flags = ";" + table["flags"].astype(str) + ";"
    return {c: flags.str.contains(f";{c};", regex=False).to_numpy(bool) for c in CHECKS}


def scores(table: pd.DataFrame, check: str) -> np.ndarray:
    """(N,) float64: each row's score for `check` (0 where the table has none)."""
    column = f"{check}_score"
    if column not in table.columns:
        return np.zeros(len(table))
    return pd.to_numeric(table[column], errors="coerce").fillna(0).to_numpy(np.float64)


def build_cards(table: pd.DataFrame, known: pd.DataFrame) -> Cards:
    """The cards of every check that flagged something, in the page's order.

    `table` is outliers.csv (row n is flagged pair n); `known` has the id and group columns
    of every pair the folder or the table names, so a group shows its unflagged pairs too.
    """
    has = check_masks(table)
    names = [c for c in CHECKS if has[c].any()]
    found = []
    for code, check in enumerate(names):
        rows = np.flatnonzero(has[check])
        column = GROUP_KEYS.get(check)
        if column and column in table.columns:
            cards = _group_cards(check, rows, table, known)
        else:
            cards = _single_cards(rows, scores(table, check)[rows])
        order = np.argsort(-cards["score"], kind="stable")   # ties keep the table's order
        found.append({**_take(cards, order), "check": np.full(len(order), code, np.int8)})
    return _concat(names, found)


def _single_cards(rows: np.ndarray, score: np.ndarray) -> dict:
    """One card per row: columns as _take and _concat read them."""
    one = np.arange(len(rows) + 1)
    return {"score": score, "start": one, "rows": rows, "key": np.full(len(rows), -1),
            "keys": pd.Series([], dtype="str"), "context_start": np.zeros_like(one),
            "context": pd.Series([], dtype="str")}


def _group_cards(check: str, rows: np.ndarray, table: pd.DataFrame,
                 known: pd.DataFrame) -> dict:
    """One card per group key among `rows` (in order of first appearance), after a card for
    each flagged pair without a key."""
    keys = table[GROUP_KEYS[check]].astype(str).iloc[rows].reset_index(drop=True)
    grouped = ((keys != "") & (keys != "nan")).to_numpy(bool)
    alone = _single_cards(rows[~grouped], scores(table, check)[rows[~grouped]])
    codes, uniques = pd.factorize(keys[grouped])
    order = np.argsort(codes, kind="stable")
    members = rows[grouped][order]
    counts = np.bincount(codes, minlength=len(uniques))
    start = np.concatenate([[0], np.cumsum(counts)])
    best = scores(table, check)[members]
    score = np.maximum.reduceat(best, start[:-1]) if len(members) else best
    context, context_counts = _context(check, codes[order], members, pd.Index(uniques),
                                       table, known)
    groups = {"score": score, "start": start, "rows": members,
              "key": np.arange(len(uniques)), "keys": pd.Series(uniques, dtype="str"),
              "context_start": np.concatenate([[0], np.cumsum(context_counts)]),
              "context": context}
    return _concat_parts([alone, groups])


def _context(check: str, codes: np.ndarray, members: np.ndarray, uniques: pd.Index,
             table: pd.DataFrame, known: pd.DataFrame) -> tuple[pd.Series, np.ndarray]:
    """Each group's pairs that are not its flagged members, in order: a near-duplicate
    group's first pair (its key, itself not flagged), then the known pairs of the group in
    the folder's order, each once. Returns the ids group after group, and their counts."""
    column = GROUP_KEYS[check]
    parts = []
    if check == "near_duplicate":
        parts.append(pd.DataFrame({"g": np.arange(len(uniques)), "id": uniques.astype(str)}))
    if column in known.columns:
        g = uniques.get_indexer(known[column].astype(str))
        parts.append(pd.DataFrame({"g": g[g >= 0], "id": known["id"].astype(str)[g >= 0]}))
    if not parts:
        return pd.Series([], dtype="str"), np.zeros(len(uniques), np.int64)
    candidates = pd.concat(parts, ignore_index=True)
    # (group, id) as one int64, so that the set tests and the dedup stay in numpy
    ids, _ = pd.factorize(pd.concat([table["id"].astype(str).iloc[members], candidates["id"]],
                                    ignore_index=True))
    width = int(ids.max()) + 1 if len(ids) else 1
    group = candidates["g"].to_numpy(np.int64)
    pair = group * width + ids[len(members):]
    first = np.zeros(len(pair), bool)
    first[np.unique(pair, return_index=True)[1]] = True
    keep = first & ~np.isin(pair, codes.astype(np.int64) * width + ids[:len(members)])
    candidates = candidates[keep]
    candidates = candidates.iloc[np.argsort(group[keep], kind="stable")]
    counts = np.bincount(candidates["g"].to_numpy(), minlength=len(uniques))
    return candidates["id"].astype("str").reset_index(drop=True), counts


def _take(cards: dict, order: np.ndarray) -> dict:
    """The cards in `order`: their member and context ranges moved with them."""
    out = {"score": cards["score"][order], "key": cards["key"][order], "keys": cards["keys"]}
    for rows, start in (("rows", "start"), ("context", "context_start")):
        counts = np.diff(cards[start])[order]
        first = cards[start][:-1][order]
        flat = np.repeat(first - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) + \
            np.arange(counts.sum())
        values = cards[rows]
        out[rows] = values.iloc[flat].reset_index(drop=True) if isinstance(
            values, pd.Series) else values[flat]
        out[start] = np.concatenate([[0], np.cumsum(counts)])
    return out


def _concat_parts(parts: list[dict]) -> dict:
    """Cards of one check, one list after the other ('key' indexes each one's 'keys')."""
    out = {"score": np.concatenate([p["score"] for p in parts]),
           "keys": pd.concat([p["keys"] for p in parts], ignore_index=True)}
    shift = np.cumsum([0] + [len(p["keys"]) for p in parts[:-1]])
    out["key"] = np.concatenate([np.where(p["key"] >= 0, p["key"] + s, -1)
                                 for p, s in zip(parts, shift)])
    for rows, start in (("rows", "start"), ("context", "context_start")):
        values = [p[rows] for p in parts]
        out[rows] = (pd.concat(values, ignore_index=True) if isinstance(values[0], pd.Series)
                     else np.concatenate(values))
        base = np.cumsum([0] + [p[start][-1] for p in parts[:-1]])
        out[start] = np.concatenate([[0]] + [p[start][1:] + b for p, b in zip(parts, base)])
    return out


def _concat(names: list[str], found: list[dict]) -> Cards:
    if not found:
        empty = pd.Series([], dtype="str")
        return Cards(names, np.zeros(0, np.int8), np.zeros(0), np.zeros(1, np.int64),
                     np.zeros(0, np.int64), empty, np.zeros(1, np.int64), empty)
    cards = _concat_parts(found)
    keys = pd.concat([cards["keys"], pd.Series([""], dtype="str")], ignore_index=True)
    key = keys.iloc[np.where(cards["key"] >= 0, cards["key"], len(keys) - 1)]
    return Cards(names, np.concatenate([f["check"] for f in found]), cards["score"],
                 cards["start"].astype(np.int64), cards["rows"].astype(np.int64),
                 key.reset_index(drop=True), cards["context_start"].astype(np.int64),
                 cards["context"])
