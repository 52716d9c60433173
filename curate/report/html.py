"""A static, single-file HTML report of a curated dataset (images embedded as data URIs).

The page shell (page, section, table, figure) is curate.ui.html_page, shared with segment's
run report; the sections here read the same facts as the data card.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from curate import __version__
from curate.cards.facts import (
    UNKNOWN, Facts, class_chart, class_table, collect, counts, known_limitations,
    removed_pairs, split_table,
)
from curate.io.contract import SPLITS
from curate.ui.html_page import esc, figure, numbers, page, paragraph, table

# Section ids are stable: tests and links rely on them.
SECTION_IDS = ("summary", "classes", "outliers", "splits", "augmentation", "history")

# --- sections --------------------------------------------------------------------------------

def _png(facts: Facts, name: str) -> bytes | None:
    path = facts.report(name)
    return path.read_bytes() if path is not None else None


def summary_section(facts: Facts) -> str:
    c = counts(facts)
    outliers = facts.step("outliers")
    removed = outliers.summary.get("removed", UNKNOWN) if outliers else UNKNOWN
    boxes = [("pairs", c["pairs"]), ("original", c["origin"]["original"]),
             ("augmented", c["origin"]["augmented"]), ("removed by outliers", removed),
             *((s, c["splits"][s]) for s in SPLITS), ("classes", facts.meta["num_classes"])]
    notes = "".join(f"<li>{esc(n)}</li>" for n in known_limitations(facts))
    # No folder path here: the report must not change when the folder is moved.
    return (numbers(boxes)
            + f"<p>Steps: "
            f"{esc(' → '.join(s.command for s in facts.steps) or 'none recorded')}.</p>"
            f"<h3>Known limitations</h3><ul>{notes}</ul>")


def classes_section(facts: Facts) -> str:
    t = class_table(facts.manifest, facts.class_names, facts.ignore_index)
    rows = [[r["class"], r["name"], r["pixels"], f"{r['pixel_share_pct']:.2f}",
             "ignored" if pd.isna(r["labelled_share_pct"]) else f"{r['labelled_share_pct']:.2f}",
             r["images"], f"{r['image_share_pct']:.2f}"] for _, r in t.iterrows()]
    return (table(["class", "name", "pixels", "pixel share %", "labelled share %", "images",
                   "images %"], rows, (1,), "class-table")
            + figure(class_chart(facts), "class distribution chart",
                     "Share of labelled pixels per class, before and after augmentation",
                     "img-class-distribution"))


def outliers_section(facts: Facts) -> str:
    step = facts.step("outliers")
    if step is None:
        return paragraph("Outlier removal: not recorded (no outliers step in the history).",
                         "missing")
    s = step.summary
    remove = step.options.get("remove", [])
    parts = [paragraph(f"Read {s.get('pairs_in', UNKNOWN)} pairs, removed "
                       f"{s.get('removed', UNKNOWN)}, kept {s.get('kept', UNKNOWN)}.")]
    flagged = s.get("flagged_by_check", {})
    if flagged:
        parts.append(table(["check", "flagged", "removes"],
                           [[k, v, "yes" if k in remove else "report only"]
                            for k, v in flagged.items()], (0, 2), "check-table"))
    removed = removed_pairs(facts)
    parts.append("<h3>Removed pairs</h3>")
    if removed is None:
        parts.append(paragraph("Per-pair list: not available (reports/outliers.csv not "
                               "found).", "missing"))
    else:
        parts.append(table(list(removed.columns), removed.values.tolist(),
                           tuple(range(len(removed.columns))), "removed-table"))
    parts.append(figure(_png(facts, "outliers.png"), "outlier contact sheet",
                        "Flagged pairs with their reasons (image | coloured mask)",
                        "img-outliers"))
    return "".join(parts)


def _option_value(key: str, value) -> str:
    """One recorded option as a person reads it: ratios by split, none, yes/no, plain lists."""
    if key == "ratios" and isinstance(value, (list, tuple)) and len(value) == len(SPLITS):
        return ", ".join(f"{split} {ratio:g}" for split, ratio in zip(SPLITS, value))
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items()) or "none"
    return str(value)


def readable_options(options: dict) -> str:
    """A step's options as `ratios train 0.7, val 0.15, test 0.15; seed 0`, not JSON."""
    return "; ".join(f"{key.replace('_', ' ')} {_option_value(key, value)}"
                     for key, value in options.items())


def splits_section(facts: Facts) -> str:
    step = facts.step("split")
    names, rows = split_table(facts)
    how = (f"Made by curate split with {readable_options(step.options)}."
           if step else "How the splits were made: not recorded (no split step).")
    return (paragraph(how, None if step else "missing")
            + table(["split", "pairs", "augmented"] + [f"{n} px %" for n in names], rows, (0,),
                    "split-table")
            + figure(_png(facts, "split.png"), "class shares per split",
                     "Class shares per split (from curate split)", "img-split"))


def augmentation_section(facts: Facts) -> str:
    step = facts.step("augment")
    if step is None:
        return paragraph("Augmentation: not recorded (no augment step in the history).",
                         "missing")
    s = step.summary
    recipes = ", ".join(f"{r} {n}" for r, n in s.get("recipes", {}).items()) or UNKNOWN
    return (paragraph(f"Class {step.options.get('target_class', UNKNOWN)} grown in train: "
                      f"{s.get('new_pairs', UNKNOWN)} new pairs ({recipes}), seed "
                      f"{step.options.get('seed', UNKNOWN)}, target "
                      f"{json.dumps(s.get('target', UNKNOWN))}.")
            + figure(_png(facts, "augment_preview.png"), "augmentation preview",
                     "Parent(s) and the new pair, two per recipe", "img-augment-preview")
            + figure(_png(facts, "augment_shares.png"), "train shares before and after",
                     "Train class shares before and after augmentation", "img-augment-shares"))


def history_section(facts: Facts) -> str:
    if not facts.steps:
        return paragraph(f"History: {UNKNOWN}.", "missing")
    rows = [[s.index, s.command, s.tool_version, s.input,
             json.dumps(s.options, ensure_ascii=False)] for s in facts.steps]
    return table(["step", "command", "tool version", "input", "options"], rows, (1, 3, 4),
                 "history-table")


def render_report(dataset_path: str | Path, title: str | None = None) -> str:
    """The whole report as one HTML string; deterministic for a given folder."""
    facts = collect(dataset_path)
    sections = [
        ("summary", "Summary", summary_section(facts)),
        ("classes", "Classes", classes_section(facts)),
        ("outliers", "Outliers", outliers_section(facts)),
        ("splits", "Splits", splits_section(facts)),
        ("augmentation", "Augmentation", augmentation_section(facts)),
        ("history", "History", history_section(facts)),
    ]
    return page(title or f"Curated dataset {facts.name} (curate {__version__})", sections)


def write_report(dataset_path: str | Path, out: str | Path, title: str | None = None,
                 force: bool = False) -> Path:
    """Write the report to `out` (outside the dataset folder); refuse to overwrite without force."""
    from curate.io.outputs import guard_output, write_text

    out = guard_output(out, [dataset_path], force, what="report")
    write_text(out, render_report(dataset_path, title))
    return out
