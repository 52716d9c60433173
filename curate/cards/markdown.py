"""The data card's Markdown: YAML front matter (a small block-style emitter) and the fixed
sections, from the facts of a curated folder."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd

from curate import __version__
from curate.cards.facts import (
    UNKNOWN, CardOptions, Facts, class_table, counts, known_limitations, removed_pairs,
    source_facts, split_table,
)

# --- YAML front matter -----------------------------------------------------------------------

def to_yaml(value: dict) -> str:
    """Block-style YAML for dicts, lists and scalars; strings always double-quoted."""
    return "\n".join(_yaml_lines(value, 0)) + "\n"


def _yaml_lines(value, indent: int) -> list[str]:
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item and not _flat_list(item):
                lines.append(f"{pad}{_yaml_key(key)}:")
                lines += _yaml_lines(item, indent + 2)
            else:
                lines.append(f"{pad}{_yaml_key(key)}: {_yaml_scalar(item)}")
    else:
        for item in value:
            if isinstance(item, (dict, list)) and item and not _flat_list(item):
                child = _yaml_lines(item, indent + 2)
                lines.append(f"{pad}- {child[0][indent + 2:]}")
                lines += child[1:]
            else:
                lines.append(f"{pad}- {_yaml_scalar(item)}")
    return lines


def _flat_list(value) -> bool:
    """A list of scalars, written in flow style: [a, b, c]."""
    return isinstance(value, list) and not any(isinstance(v, (dict, list)) for v in value)


def _yaml_key(key) -> str:
    key = str(key)
    return key if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else json.dumps(key)


def _yaml_scalar(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        if "e" in text and "." not in text.split("e")[0]:     # YAML 1.1 needs 1.0e-05
            text = text.replace("e", ".0e", 1)
        return text
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_yaml_scalar(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def front_matter(facts: Facts, options: CardOptions) -> dict:
    """The card's YAML fields: counts, classes, splits, source, config of every step."""
    c = counts(facts)
    table = class_table(facts.manifest, facts.class_names, facts.ignore_index)
    src = source_facts(facts, options)
    outliers = facts.step("outliers")
    return {
        "pretty_name": options.title or facts.name,
        "license": src["license"],
        "task_categories": ["image-segmentation"],
        "task_ids": ["semantic-segmentation"],
        "size_categories": [_size_category(c["pairs"])],
        "source": src["detected"] or ("given by the user" if options.source_text else UNKNOWN),
        "tool": "curate",
        "tool_version": __version__,
        "format_version": facts.meta.get("format_version", UNKNOWN),
        "num_pairs": c["pairs"],
        "pairs_by_origin": c["origin"],
        "splits": c["splits"],
        "removed_by_curation": (outliers.summary.get("removed", UNKNOWN)
                                if outliers else UNKNOWN),
        "num_classes": int(facts.meta["num_classes"]),
        "ignore_index": facts.ignore_index,
        "classes": [{"id": int(r["class"]), "name": r["name"], "pixels": int(r["pixels"]),
                     "pixel_share_pct": float(r["pixel_share_pct"]),
                     "labelled_share_pct": _number(r["labelled_share_pct"]),
                     "images": int(r["images"]), "image_share_pct": float(r["image_share_pct"])}
                    for _, r in table.iterrows()],
        "image_sizes": _image_sizes(facts.manifest),
        "history": [{"step": s.index, "command": s.command, "tool_version": s.tool_version,
                     "input": s.input, "options": s.options, "summary": s.summary}
                    for s in facts.steps],
    }


def _number(value: float) -> float | None:
    return None if pd.isna(value) else float(value)


def _pct(value: float) -> str:
    return "n/a (ignored)" if pd.isna(value) else f"{value:.2f}"


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if n < limit:
            return name
    return "n>100K"


def _image_sizes(manifest: pd.DataFrame) -> list[str] | str:
    if not {"height", "width"} <= set(manifest.columns):
        return UNKNOWN
    sizes = manifest["height"].astype(str) + "x" + manifest["width"].astype(str)
    return sorted(set(sizes))


# --- Markdown --------------------------------------------------------------------------------

# --- Markdown --------------------------------------------------------------------------------

def md_table(columns: list[str], rows: list[list]) -> str:
    """A GitHub Markdown table; cells are text, '|' escaped."""
    def cell(v) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join(" --- " for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _options_text(options: dict) -> str:
    if not options:
        return "none recorded"
    return ", ".join(f"`{k}={json.dumps(v, ensure_ascii=False)}`" for k, v in options.items())


def _picture(name: str, alt: str, pictures: dict, options: CardOptions) -> str:
    if name not in pictures:
        return f"_{alt}: not available (the report file `{name}` was not found)._"
    return f"![{alt}]({options.files_dir}/{name})"


def section_summary(facts: Facts, options: CardOptions) -> str:
    c = counts(facts)
    steps = " → ".join(s.command for s in facts.steps) or "none recorded"
    return (
        f"## Dataset summary\n\n"
        f"{c['pairs']} image/mask pairs for semantic segmentation into "
        f"{facts.meta['num_classes']} classes ({', '.join(facts.class_names)}), curated with "
        f"`curate` {__version__}. Curation steps: {steps}.\n"
    )


def section_sources(facts: Facts, options: CardOptions) -> str:
    src = source_facts(facts, options)
    lines = ["## Sources", "", f"- **Source data:** {src['source']}"]
    if src["detected"]:
        lines.append("- **How the source was identified:** from the data itself (an AN2DL "
                     ".npz of Curiosity NAVCAM ids with the five AI4Mars classes); pass "
                     "`--source-text` to state it otherwise.")
    read = facts.step("read")
    if read is not None and read.summary.get("label_map"):
        lines.append(f"- **Label map:** {read.summary['label_map']}")
    if facts.meta.get("ignore_reason"):
        lines.append(f"- **Ignored class:** {facts.meta['ignore_reason']}")
    lines += [f"- **Original input of the curation:** `{src['original_input']}`",
              f"- **Citation:** {src['citation']}",
              "- **Collection process, annotators and their instructions:** "
              + ("crowd-sourced labels (see the AI4Mars paper for the protocol)"
                 if src["detected"] else UNKNOWN),
              "- **Personal or sensitive information:** "
              + ("none expected (planetary surface images)" if src["detected"] else UNKNOWN)]
    return "\n".join(lines) + "\n"


def section_composition(facts: Facts, options: CardOptions, pictures: dict) -> str:
    c = counts(facts)
    table = class_table(facts.manifest, facts.class_names, facts.ignore_index)
    ignore = facts.ignore_index
    rows = [[r["class"], r["name"] + (" (ignored by metrics)" if r["class"] == ignore else ""),
             r["pixels"], f"{r['pixel_share_pct']:.2f}", _pct(r["labelled_share_pct"]),
             r["images"], f"{r['image_share_pct']:.2f}"] for _, r in table.iterrows()]
    sizes = _image_sizes(facts.manifest)
    return "\n".join([
        "## Composition", "",
        f"- **Pairs:** {c['pairs']} ({c['origin']['original']} original, "
        f"{c['origin']['augmented']} augmented)",
        f"- **Image sizes (height x width):** "
        f"{', '.join(sizes) if isinstance(sizes, list) else sizes}",
        f"- **Ignore index:** {ignore if ignore is not None else 'none (every class counts)'}",
        "- **Layout:** `dataset.json`, `manifest.csv` (one row per pair), `images/<id>.png`, "
        "`masks/<id>.png` (labels 0..K-1), `reports/`.", "",
        md_table(["class", "name", "pixels", "pixel share %", "labelled pixel share %",
                  "images containing", "images containing %"], rows), "",
        _picture("class_distribution.png", "Class distribution before and after augmentation",
                 pictures, options), "",
    ])


def section_curation(facts: Facts, options: CardOptions, pictures: dict) -> str:
    lines = ["## Curation", "", "Every command that produced this folder, in order:", ""]
    rows = [[s.index, f"`{s.command}`", s.tool_version, f"`{s.input}`", _options_text(s.options)]
            for s in facts.steps]
    lines += [md_table(["step", "command", "tool version", "input", "options"], rows)
              if rows else f"_History: {UNKNOWN}._", "", "### What was removed and why", ""]
    outliers = facts.step("outliers")
    if outliers is None:
        lines.append("_Outlier removal: not recorded (no `outliers` step in the history)._")
        return "\n".join(lines) + "\n"
    s = outliers.summary
    lines.append(f"`curate outliers` read {s.get('pairs_in', UNKNOWN)} pairs, removed "
                 f"{s.get('removed', UNKNOWN)} and kept {s.get('kept', UNKNOWN)}. Checks that "
                 f"remove: {', '.join(outliers.options.get('remove', [])) or UNKNOWN}.")
    flagged = s.get("flagged_by_check", {})
    if flagged:
        lines += ["", md_table(["check", "pairs flagged", "removes"],
                               [[k, v, "yes" if k in outliers.options.get("remove", []) else
                                 "no (report only)"] for k, v in flagged.items()])]
    lines += _person_lines(s, outliers.options)
    removed = removed_pairs(facts)
    lines.append("")
    if removed is None:
        lines.append("_Per-pair list of removed pairs: not available (reports/outliers.csv "
                     "of the outliers step was not found)._")
    elif len(removed):
        lines += [md_table(list(removed.columns), removed.values.tolist())]
    else:
        lines.append("No pair was removed.")
    lines += ["", _picture("outliers.png", "Outlier contact sheet: flagged pairs and reasons",
                           pictures, options)]
    return "\n".join(lines) + "\n"


def _person_lines(summary: dict, options: dict) -> list[str]:
    """What a person decided with `curate review` and which masks they corrected."""
    from curate.data.mask_fixes import fixes_phrase

    lines = []
    d = summary.get("decisions")
    if d:
        lines += ["", f"A person reviewed the flagged pairs (`curate review`, decisions "
                  f"`{options.get('decisions', UNKNOWN)}`): {d['by_person']} decided, "
                  f"{d['overrode_default']} of them overriding the checks' default "
                  f"({d['kept_against_default']} kept that the checks would remove, "
                  f"{d['removed_against_default']} removed that they would keep). The "
                  "manifest's decision and decision_source columns say which."]
    if summary.get("mask_fixes"):
        tools = summary.get("mask_fixes_by_tool") or {}
        by = f" ({fixes_phrase(tools)})" if tools else ""
        lines += ["", f"{summary['mask_fixes']} masks were replaced by corrected ones{by} from "
                  f"`{options.get('mask_fixes', UNKNOWN)}` (manifest column mask_fix names "
                  "each file; mask_fix_tool, mask_fix_task, mask_fix_annotator and "
                  "mask_fix_time where the tool's export has them)."]
    return lines


def section_splits(facts: Facts, options: CardOptions, pictures: dict) -> str:
    step = facts.step("split")
    lines = ["## Splits", ""]
    if step is None:
        lines.append("_How the splits were made: not recorded (no `split` step in the "
                     "history)._")
    else:
        o = step.options
        lines.append(f"Made by `curate split`: ratios {o.get('ratios', UNKNOWN)} "
                     f"(train, val, test), seed {o.get('seed', UNKNOWN)}, iterative "
                     "stratification on class presence and pixel-count bins; near duplicates "
                     f"(pHash distance ≤ {o.get('near_duplicate_distance', UNKNOWN)}), "
                     "identical images"
                     + (f" and equal `{o['group_column']}`" if o.get("group_column") else "")
                     + f" share a split. Groups kept together: "
                     f"{step.summary.get('groups_kept_together', UNKNOWN)}.")
    names, rows = split_table(facts)
    lines += ["", md_table(["split", "pairs", "of which augmented"]
                           + [f"{n} px %" for n in names], rows),
              "", _picture("split.png", "Class shares per split (curate split)", pictures,
                           options)]
    return "\n".join(lines) + "\n"


def section_augmentation(facts: Facts, options: CardOptions, pictures: dict) -> str:
    step = facts.step("augment")
    lines = ["## Augmentation", ""]
    if step is None:
        lines.append("_Augmentation: not recorded (no `augment` step in the history); every "
                     "pair is original._")
        return "\n".join(lines) + "\n"
    o, s = step.options, step.summary
    k = o.get("target_class", s.get("target_class"))
    name = facts.class_names[k] if isinstance(k, int) and 0 <= k < len(facts.class_names) else k
    if s.get("skipped"):
        lines.append(f"Class {k} ({name}) was to be grown, and was not: {s['skipped']} "
                     "Every pair is original.")
        return "\n".join(lines) + "\n"
    recipes = s.get("recipes", {})
    lines.append(
        f"`curate augment` grew class {k} ({name}) in the training split only (val and test "
        f"untouched): target {json.dumps(s.get('target', UNKNOWN))}, seed "
        f"{o.get('seed', UNKNOWN)}, {s.get('new_pairs', UNKNOWN)} new pairs made by "
        + (", ".join(f"{r} {n}" for r, n in recipes.items()) or UNKNOWN)
        + ". Each new pair records `parent_ids`, `recipe` and `aug_seed` in manifest.csv; "
        "every label in a new mask comes from a parent mask.")
    before, after = s.get("before", {}), s.get("after", {})
    if before and after:
        rows = [[c, n] + [f"{100 * d[key][c]:.2f}" for key in ("pixel_share", "image_share")
                          for d in (before, after)] for c, n in enumerate(facts.class_names)]
        lines += ["", md_table(["class", "name", "train pixel % before", "after",
                                "train images % before", "after"], rows)]
    lines += ["", _picture("augment_preview.png", "Augmentation preview: parents and new pairs",
                           pictures, options),
              "", _picture("augment_shares.png", "Train class shares before and after",
                           pictures, options)]
    return "\n".join(lines) + "\n"


def section_limitations(facts: Facts, options: CardOptions) -> str:
    lines = ["## Known limitations", ""] + [f"- {n}" for n in known_limitations(facts)]
    lines.append(f"- Biases of the source collection: {UNKNOWN}.")
    return "\n".join(lines) + "\n"


def section_license(facts: Facts, options: CardOptions) -> str:
    src = source_facts(facts, options)
    return (f"## License\n\n{src['license']}. This card was generated by `curate card`; it does "
            "not grant rights beyond those of the source data.\n")


SECTIONS = ("Dataset summary", "Sources", "Composition", "Curation", "Splits", "Augmentation",
            "Known limitations", "License")


def render_markdown(facts: Facts, options: CardOptions, pictures: dict) -> str:
    """The card: YAML front matter, then the fixed sections in SECTIONS order."""
    title = options.title or facts.name
    parts = [
        "---\n" + to_yaml(front_matter(facts, options)) + "---\n",
        f"# Data card: {title}\n",
        section_summary(facts, options),
        section_sources(facts, options),
        section_composition(facts, options, pictures),
        section_curation(facts, options, pictures),
        section_splits(facts, options, pictures),
        section_augmentation(facts, options, pictures),
        section_limitations(facts, options),
        section_license(facts, options),
    ]
    return "\n".join(parts)
