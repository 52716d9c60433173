"""The scan's feature table built batch by batch: each batch's text columns are made compact
as soon as it is scanned, and the batches are joined column by column."""

from __future__ import annotations

import numpy as np
import pandas as pd


def compact(features: dict[str, np.ndarray]) -> dict:
    """A batch's columns as the table will hold them: text in the dtype pandas infers for it
    (pandas >= 3: its compact string arrays, so the batch's Python strings are freed now, not
    when the whole table is built)."""
    return {c: pd.Series(v, copy=False).array if v.dtype == object else v
            for c, v in features.items()}


def joined_table(parts: list[dict], chunks: list[list[int]]) -> pd.DataFrame:
    """One table of the batches' columns, in dataset order; each column's batches are freed
    as it is joined, so the peak is the table and its numbers once more (pandas gathers them
    into one block), not everything twice."""
    if not parts:
        return pd.DataFrame(columns=["height"])
    order = np.argsort(np.concatenate(chunks), kind="stable")  # back to dataset order
    in_order = bool((order == np.arange(len(order))).all())
    columns = {}
    for c in list(parts[0]):
        pieces = [p.pop(c) for p in parts]
        joined = (np.concatenate(pieces) if isinstance(pieces[0], np.ndarray)
                  else pd.concat([pd.Series(x, copy=False) for x in pieces],
                                 ignore_index=True).array)
        del pieces
        columns[c] = joined if in_order else joined[order]
    return pd.DataFrame(columns)
