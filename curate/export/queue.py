"""The review queue a labelling tool gets: the pairs `curate outliers` flagged (its
reports/outliers.csv), chosen by --only, strongest score first, each with its reason, its
pixels (a removed pair's from the input the outliers step read) and, with --predictions, the
model's mask."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from curate.data.removed_pairs import removed_pairs
from curate.export.source import Source, read_source
from curate.io.contract import read_meta
from curate.io.errors import ConfigError, InputError
from curate.io.image_files import read_image, read_mask

ONLY = {
    "review": "the flagged pairs still in the folder (their masks can be fixed)",
    "removed": "the flagged pairs the checks or a person removed (read from the input)",
    "label_issue": "the pairs the label_issue check flagged",
    "all": "every flagged pair",
}


@dataclass
class QueueItem:
    id: str
    rank: int                      # 1 = the strongest score
    flags: list[str]
    reason: str
    score: float                   # the strongest of its checks' scores
    removed: bool
    image: np.ndarray              # (H, W, 3) uint8
    mask: np.ndarray               # (H, W) uint8 labels
    predicted: np.ndarray | None = None


@dataclass
class Queue:
    source: Source
    only: str
    items: list[QueueItem] = field(default_factory=list)
    predictions: str = ""          # where the predicted masks came from ('' without)


def read_queue(data: Path, only: str = "review", predictions: Path | None = None,
               input_data: Path | None = None) -> Queue:
    """The review queue of the curated folder `data`, strongest score first.

    Raises InputError when the folder has no reports/outliers.csv, when --only selects no
    pair, and when a removed pair's input cannot be found."""
    if only not in ONLY:
        raise ConfigError(f"--only {only!r} is not a choice; choose one of: {', '.join(ONLY)}.")
    source = read_source(Path(data))
    table = _flagged(source.path)
    chosen = table[_selection(table, only)]
    if chosen.empty:
        raise InputError(f"{source.path}/reports/outliers.csv has no pair for --only {only} "
                         f"({ONLY[only]}); choose another: {', '.join(ONLY)}.")
    chosen = chosen.assign(queue_score=_scores(chosen)).sort_values("queue_score", ascending=False,
                                                                 kind="stable")
    pixels = _pixels(source, list(chosen["id"]), input_data)
    predicted, where = _predicted(predictions, list(chosen["id"]))
    wrong = [i for i, m in predicted.items() if np.shape(m) != np.shape(pixels[i][1])]
    if wrong:
        raise InputError(f"--predictions {predictions}: the predicted mask of {wrong[0]} is "
                         f"{np.shape(predicted[wrong[0]])}, its mask "
                         f"{np.shape(pixels[wrong[0]][1])} (H, W); predict on this dataset's "
                         "images. Nothing was written.")
    items = [QueueItem(r.id, n, [f for f in str(r.flags).split(";") if f], str(r.reason),
                       float(r.queue_score), bool(r.removed), *pixels[r.id], predicted.get(r.id))
             for n, r in enumerate(chosen.itertuples(index=False), start=1)]
    return Queue(source, only, items, where)


def _flagged(folder: Path) -> pd.DataFrame:
    path = folder / "reports" / "outliers.csv"
    if not path.is_file():
        raise InputError(f"{path} not found: the review queue is what `curate outliers` (or "
                         "`curate run`) flagged. Run `curate outliers DATA -o OUT` first and "
                         "export OUT.")
    table = pd.read_csv(path, dtype={"id": str, "flags": str, "reason": str},
                        keep_default_na=False)
    table["removed"] = table["removed"].astype(str).str.lower() == "true"
    return table


def _selection(table: pd.DataFrame, only: str) -> pd.Series:
    flagged = table["flags"] != ""
    return {"review": flagged & ~table["removed"], "removed": table["removed"],
            "label_issue": table["flags"].str.split(";").apply(lambda f: "label_issue" in f),
            "all": flagged | table["removed"]}[only]


def _scores(table: pd.DataFrame) -> np.ndarray:
    """Each row's strongest score among the checks that flagged it (0 where none has one)."""
    best = np.zeros(len(table))
    for n, row in enumerate(table.itertuples(index=False)):
        values = row._asdict()
        scores = [float(values.get(f"{c}_score", 0) or 0) for c in str(row.flags).split(";") if c]
        best[n] = max(scores, default=0.0)
    return best


def _pixels(source: Source, ids: list[str], input_data: Path | None) -> dict:
    """{id: (image, mask labels)}: the folder's pairs, then the removed ones from the input."""
    here = {p.id: p for p in source.pairs}
    out = {i: (read_image(here[i].image), read_mask(here[i].mask)) for i in ids if i in here}
    missing = [i for i in ids if i not in out]
    if missing:
        out.update(removed_pairs(source.path, read_meta(source.path), missing, input_data,
                                 "pair(s) of the queue"))
    return out


def _predicted(run: Path | None, ids: list[str]) -> tuple[dict, str]:
    """({id: predicted labels}, where they came from): a `segment crossval` run (its
    label_quality.csv and oof_probs.npy) or a folder of <id>.png masks (`segment predict`)."""
    if run is None:
        return {}, ""
    run = Path(run)
    table = run / "label_quality.csv" if run.is_dir() else run
    if table.name == "label_quality.csv" and table.is_file():
        from curate.checks.label_issue import predicted_masks

        if not table.with_name("oof_probs.npy").is_file():
            raise InputError(f"--predictions {run}: {table.with_name('oof_probs.npy')} is "
                             "missing; `segment crossval` writes it beside label_quality.csv.")
        return predicted_masks(table, ids), str(table.resolve())
    if run.is_dir():
        found = {i: read_mask(run / f"{i}.png") for i in ids if (run / f"{i}.png").is_file()}
        if found:
            return found, str(run.resolve())
    raise InputError(f"--predictions {run} holds no prediction of the queue's pairs; expected "
                     "a `segment crossval` run (label_quality.csv with oof_probs.npy) or a "
                     "folder of predicted masks named <pair id>.png.")
