"""A person's decisions on flagged pairs (decisions.csv of `curate review`), read and applied.

decisions.csv has one row per pair a person decided: id, decision (remove or keep), checks,
note, time. Applying it overrides the checks' default for those pairs, either way, and
records each pair's decision and where it came from in the manifest.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from curate.errors import InputError

COLUMNS = ["id", "decision", "checks", "note", "time"]
DECISIONS = ("remove", "keep")
DEFAULT, PERSON = "check default", "person"
# Manifest columns: the decision, who made it, what the checks alone would have decided, note
DECISION_COLUMNS = ["decision", "decision_source", "decision_default", "decision_note"]


def decided(table: pd.DataFrame, path: str | Path | None) -> pd.DataFrame:
    """The check table with the decision columns; with `path`, a person's decisions.csv
    overrides the checks' default for the pairs it names (see `apply_decisions`), as does a
    keep/remove chosen in a labelling tool (manifest column mask_fix_decision, written by
    --mask-fixes); where both decide a pair, decisions.csv wins."""
    decisions = read_decisions(path) if path else None
    tool = tool_decisions(table)
    if tool is not None:
        decisions = tool if decisions is None else pd.concat(
            [tool, decisions]).drop_duplicates("id", keep="last").reset_index(drop=True)
    return apply_decisions(table, decisions, str(path or "--mask-fixes"))


def tool_decisions(table: pd.DataFrame) -> pd.DataFrame | None:
    """decisions.csv rows of the keep/remove choices made in a labelling tool, or None."""
    if "mask_fix_decision" not in table.columns:
        return None
    rows = table[table["mask_fix_decision"].fillna("").isin(DECISIONS)]
    if rows.empty:
        return None
    tool = rows.get("mask_fix_tool", pd.Series("", index=rows.index)).fillna("")
    task = rows.get("mask_fix_task", pd.Series("", index=rows.index)).fillna("")
    return pd.DataFrame({"id": rows["id"].astype(str).to_numpy(),
                         "decision": rows["mask_fix_decision"].to_numpy(), "checks": "",
                         "note": [f"chosen in {t or 'the tool'}" + (f", task {k}" if k else "")
                                  for t, k in zip(tool, task)], "time": ""})


def read_decisions(path: str | Path) -> pd.DataFrame:
    """The rows of decisions.csv (id, decision, checks, note, time), checked row by row.

    Raises InputError naming every malformed row: a missing id, a decision other than
    remove/keep, or one id given twice with different decisions.
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} cannot be read as a CSV file ({exc}); expected the "
                         "decisions.csv that `curate review`'s page exports; nothing was "
                         "written.") from exc
    missing = [c for c in ("id", "decision") if c not in table.columns]
    if missing:
        raise InputError(f"{path} lacks the column(s) {missing}; expected columns "
                         f"{', '.join(COLUMNS)} (the page's export); nothing was written.")
    for column in COLUMNS:
        if column not in table.columns:
            table[column] = ""
    table["id"] = table["id"].str.strip()
    table["decision"] = table["decision"].str.strip().str.lower()
    bad = [f"row {i + 2}: " + ("no id" if not r.id else f"decision {r.decision!r}")
           for i, r in enumerate(table.itertuples()) if not r.id or r.decision not in DECISIONS]
    last = table.drop_duplicates(["id", "decision"])
    twice = sorted(last["id"][last["id"].duplicated()].unique())
    bad += [f"id {i!r} is given both remove and keep" for i in twice]
    if bad:
        raise InputError(f"{path} has {len(bad)} malformed row(s): {_few(bad)}. Each row needs "
                         "an id and a decision of 'remove' or 'keep'; nothing was written.")
    return table[COLUMNS].drop_duplicates("id", keep="last").reset_index(drop=True)


def apply_decisions(table: pd.DataFrame, decisions: pd.DataFrame | None,
                    source: str = "decisions.csv") -> pd.DataFrame:
    """The check table with `removed` overridden where a person decided, plus the columns
    decision (remove/keep), decision_source ('check default' or 'person') and
    decision_note.

    Raises InputError when a decided id is not a pair of the table (unknown, or no longer
    in the dataset), naming them; nothing is changed then.
    """
    table = table.copy(deep=False)  # new columns only: the caller's table is left as it was
    removed = table["removed"].to_numpy(dtype=bool).copy()
    default = np.where(removed, "remove", "keep")
    source_column = np.full(len(table), DEFAULT, dtype=object)
    notes = np.full(len(table), "", dtype=object)
    if decisions is not None and len(decisions):
        position = pd.Series(np.arange(len(table)), index=table["id"].astype(str))
        unknown = [i for i in decisions["id"] if i not in position.index]
        if unknown:
            raise InputError(
                f"{source} decides {len(unknown)} pair(s) that are not in this dataset "
                f"(unknown ids, or pairs that no longer exist): {_few(unknown)}. Export the "
                "decisions again from a page built on this dataset, or delete those rows; "
                "nothing was written.")
        rows = position[decisions["id"]].to_numpy()
        removed[rows] = decisions["decision"].to_numpy() == "remove"
        source_column[rows] = PERSON
        notes[rows] = decisions["note"].fillna("").to_numpy()
    table["removed"] = removed
    table["decision"] = np.where(removed, "remove", "keep")
    table["decision_source"] = source_column
    table["decision_default"] = default
    table["decision_note"] = notes
    return table


def decision_counts(table: pd.DataFrame) -> dict:
    """How many pairs a person decided, and how many of those overrode the checks' default
    (kept a pair the checks removed, or removed one they kept)."""
    person = table["decision_source"].to_numpy() == PERSON
    removed = table["decision"].to_numpy() == "remove"
    default_removed = table["decision_default"].to_numpy() == "remove"
    return {"by_person": int(person.sum()),
            "remove": int((person & removed).sum()), "keep": int((person & ~removed).sum()),
            "overrode_default": int((person & (removed != default_removed)).sum()),
            "kept_against_default": int((person & default_removed & ~removed).sum()),
            "removed_against_default": int((person & ~default_removed & removed).sum())}


def _few(items: list, shown: int = 5) -> str:
    text = ", ".join(str(i) for i in items[:shown])
    return text + (f" and {len(items) - shown} more" if len(items) > shown else "")
