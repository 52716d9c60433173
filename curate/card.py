"""Data cards: Markdown with YAML front matter and a Croissant JSON-LD, from a curated folder.

Everything comes from the folder itself (dataset.json's history, manifest.csv, reports/),
so the same folder gives the same bytes. Reports of earlier steps (outliers.png, the split
report) stay in the folder that step wrote; that folder is the next step's recorded `input`,
and it is read when it still exists and holds the same history. Whatever cannot be found is
written as "unknown" or "not recorded", never left out.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from curate import __version__
from curate.dataset import AI4MARS_CLASS_NAMES
from curate.errors import InputError
from curate.readers import read_manifest, read_meta

UNKNOWN = "unknown (not recorded)"
SPLITS = ("train", "val", "test")
# Report files a card or HTML report shows, in the order they are shown.
PICTURES = ("class_distribution.png", "outliers.png", "split.png", "augment_preview.png",
            "augment_shares.png")
AI4MARS_SOURCE = (
    "Derived from AI4Mars (NASA/JPL; Swan et al., \"AI4Mars: A Dataset for Terrain-Aware "
    "Autonomous Driving on Mars\", CVPR Workshops 2021): Curiosity (MSL) NAVCAM grayscale "
    "images with crowd-sourced terrain labels. Each 64x128 pair is the bottom half (rows "
    "128..255) of a 256x256 AI4Mars pair, downsampled 2x (box filter for images, nearest "
    "neighbour for masks), with labels remapped to 0 background (AI4Mars 'no label', 255), "
    "1 soil, 2 bedrock, 3 sand, 4 big rock."
)
AI4MARS_CITATION = ("Swan et al., \"AI4Mars: A Dataset for Terrain-Aware Autonomous Driving "
                    "on Mars\", CVPR Workshops 2021 (full author list: see the paper).")
AI4MARS_LICENSE = "unknown — check the AI4Mars release terms"
SAMPLE_NOTE = ("The bundled sample `mars300.npz` holds 300 pairs of this data, drawn with "
               "seed 0.")


@dataclass
class CardOptions:
    """What the folder cannot know: title, source description, license; and link layout."""

    title: str | None = None
    source_text: str | None = None
    license: str | None = None
    files_dir: str = "card_files"    # where the card's PNG links point, relative to the card


@dataclass
class Step:
    """One entry of the curation history and the report files its output folder holds."""

    index: int
    command: str
    options: dict
    tool_version: str
    input: str
    summary: dict
    reports: dict[str, Path] = field(default_factory=dict)


@dataclass
class Facts:
    """What a curated folder says about itself; shared by the card and the HTML report."""

    path: Path
    name: str
    meta: dict
    manifest: pd.DataFrame
    steps: list[Step]

    @property
    def class_names(self) -> list[str]:
        return list(self.meta["class_names"])

    @property
    def ignore_index(self) -> int | None:
        return self.meta.get("ignore_index")

    def step(self, command: str) -> Step | None:
        """The last step with this command, or None when the history has none."""
        found = [s for s in self.steps if s.command == command]
        return found[-1] if found else None

    def report(self, name: str) -> Path | None:
        """The newest report file of this name: the folder's own, then earlier steps'."""
        own = self.path / "reports" / name
        if own.is_file():
            return own
        for step in reversed(self.steps):
            if name in step.reports:
                return step.reports[name]
        return None


# --- gathering -------------------------------------------------------------------------------

def collect(dataset_path: str | Path) -> Facts:
    """Read dataset.json, manifest.csv and the reports of every recorded step."""
    path = Path(dataset_path)
    if not (path / "dataset.json").is_file():
        raise InputError(f"{path} is not a curated dataset folder (no dataset.json); run "
                         "`curate outliers DATA -o OUT` first and give OUT.")
    meta = read_meta(path)
    manifest = read_manifest(path)
    history = list(meta.get("history", []))
    steps = []
    for i, entry in enumerate(history):
        output = Path(history[i + 1].get("input", "")) if i + 1 < len(history) else path
        steps.append(Step(
            index=i + 1, command=str(entry.get("command", UNKNOWN)),
            options=dict(entry.get("options") or {}),
            tool_version=str(entry.get("tool_version", UNKNOWN)),
            input=str(entry.get("input", UNKNOWN)), summary=dict(entry.get("summary") or {}),
            reports=_step_reports(output, history[: i + 1]) if i + 1 < len(history) else {},
        ))
    return Facts(path, path.resolve().name, meta, manifest, steps)


def _step_reports(folder: Path, history: list[dict]) -> dict[str, Path]:
    """Report files of an earlier step's output folder, if it still holds that step's output."""
    if not folder.is_dir() or not (folder / "dataset.json").is_file():
        return {}
    try:
        if read_meta(folder).get("history", []) != history:
            return {}                        # the folder was re-written by another run
    except InputError:
        return {}
    reports = folder / "reports"
    return {f.name: f for f in sorted(reports.iterdir()) if f.is_file()} if reports.is_dir() else {}


def counts(facts: Facts) -> dict:
    """Pairs in total, per origin and per split ('unsplit' for an empty split)."""
    m = facts.manifest
    origin = m["origin"] if "origin" in m.columns else pd.Series(["original"] * len(m))
    split = m["split"] if "split" in m.columns else pd.Series([""] * len(m))
    return {
        "pairs": int(len(m)),
        "origin": {"original": int((origin != "augmented").sum()),
                   "augmented": int((origin == "augmented").sum())},
        "splits": {**{s: int((split == s).sum()) for s in SPLITS},
                   "unsplit": int((~split.isin(SPLITS)).sum())},
    }


def class_table(manifest: pd.DataFrame, class_names: list[str],
                ignore_index: int | None) -> pd.DataFrame:
    """Per class: pixels, share of all pixels, share of labelled pixels, images containing it."""
    k = len(class_names)
    missing = [f"px_{c}" for c in range(k) if f"px_{c}" not in manifest.columns]
    if missing:
        raise InputError(f"manifest.csv lacks the columns {missing}; re-create it with curate.")
    px = manifest[[f"px_{c}" for c in range(k)]].to_numpy(dtype=np.int64)     # (N, K)
    pixels = px.sum(axis=0)
    labelled = pixels.astype(np.float64)
    if ignore_index is not None:
        labelled[ignore_index] = np.nan          # not a labelled class: no share
    n = max(len(manifest), 1)
    return pd.DataFrame({
        "class": np.arange(k), "name": class_names, "pixels": pixels,
        "pixel_share_pct": np.round(100 * pixels / max(pixels.sum(), 1), 2),
        "labelled_share_pct": np.round(100 * labelled / max(np.nansum(labelled), 1), 2),
        "images": (px > 0).sum(axis=0),
        "image_share_pct": np.round(100 * (px > 0).sum(axis=0) / n, 2),
    })


def removed_pairs(facts: Facts) -> pd.DataFrame | None:
    """id, flags, reason of each pair `curate outliers` removed; None when not recorded."""
    path = facts.report("outliers.csv")
    if path is None:
        return None
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "removed" not in table.columns:
        return None
    removed = table[table["removed"].str.lower() == "true"]
    return removed[[c for c in ("id", "source", "flags", "reason") if c in removed.columns]]


def source_facts(facts: Facts, options: CardOptions) -> dict:
    """Source text, citation and license: the user's, else what the data shows, else unknown."""
    first = facts.steps[0].input if facts.steps else ""
    ai4mars = _looks_like_ai4mars(facts, first)
    source = options.source_text or (AI4MARS_SOURCE if ai4mars else UNKNOWN)
    if ai4mars and not options.source_text and Path(first).name == "mars300.npz":
        source += " " + SAMPLE_NOTE
    return {
        "source": source,
        "detected": "AI4Mars" if ai4mars and not options.source_text else None,
        "citation": AI4MARS_CITATION if ai4mars else UNKNOWN,
        "license": options.license or (AI4MARS_LICENSE if ai4mars else UNKNOWN),
        "original_input": first or UNKNOWN,
    }


def _looks_like_ai4mars(facts: Facts, first_input: str) -> bool:
    """An AN2DL npz of Curiosity NAVCAM ids (NLA_/NLB_..EDR) with the five AI4Mars classes."""
    if not first_input.endswith(".npz") or facts.class_names != AI4MARS_CLASS_NAMES:
        return False
    m = facts.manifest
    original = m[m["origin"] != "augmented"] if "origin" in m.columns else m
    if len(original) == 0 or "source" not in m.columns:
        return False
    ids_ok = original["id"].str.match(r"^NL[AB]_\d+EDR_").all()
    return bool(ids_ok and original["source"].str.contains(":training_set[", regex=False).all())


# --- pictures --------------------------------------------------------------------------------

def class_chart(facts: Facts) -> bytes:
    """PNG: labelled-pixel share per counted class, before augmentation and after it."""
    from curate.plots import bar_chart

    m = facts.manifest
    keep = [k for k in range(len(facts.class_names)) if k != facts.ignore_index]
    series = {}
    if "origin" in m.columns and (m["origin"] == "augmented").any():
        original = class_table(m[m["origin"] != "augmented"], facts.class_names,
                               facts.ignore_index)
        series["before augmentation"] = original["labelled_share_pct"].iloc[keep].tolist()
    table = class_table(m, facts.class_names, facts.ignore_index)
    series["after augmentation" if series else "all pairs"] = (
        table["labelled_share_pct"].iloc[keep].tolist())
    what = "labelled pixels" if facts.ignore_index is not None else "pixels"
    return bar_chart(series, [facts.class_names[k] for k in keep],
                     f"Share of {what} per class, after outlier removal", "percent")


def card_pictures(facts: Facts) -> dict[str, bytes]:
    """The PNGs a card shows: a class chart made here, and the steps' report pictures."""
    pictures = {"class_distribution.png": class_chart(facts)}
    for name in PICTURES[1:]:
        path = facts.report(name)
        if path is not None:
            pictures[name] = path.read_bytes()
    return pictures


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


def section_splits(facts: Facts, options: CardOptions, pictures: dict) -> str:
    c = counts(facts)
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
    m = facts.manifest
    rows = []
    for name in SPLITS + ("unsplit",):
        n = c["splits"][name]
        if name == "unsplit" and n == 0:
            continue
        part = m[m["split"] == name] if name != "unsplit" else m[~m["split"].isin(SPLITS)]
        aug = int((part.get("origin", pd.Series(dtype=str)) == "augmented").sum())
        shares = class_table(part, facts.class_names, facts.ignore_index)
        rows.append([name, n, aug] + [f"{v:.2f}" for v in shares["labelled_share_pct"].dropna()])
    lines += ["", md_table(["split", "pairs", "of which augmented"]
                           + [f"{n} px %" for k, n in enumerate(facts.class_names)
                              if k != facts.ignore_index], rows),
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


def known_limitations(facts: Facts) -> list[str]:
    """Facts a user of the data should know, derived from the numbers."""
    c = counts(facts)
    m = facts.manifest
    original = m[m["origin"] != "augmented"] if "origin" in m.columns else m
    table = class_table(original, facts.class_names, facts.ignore_index)
    counted = table[table["class"] != facts.ignore_index]
    notes = []
    if len(counted):
        rare = counted.sort_values("labelled_share_pct", kind="stable").iloc[0]
        notes.append(f"Class imbalance: in the {len(original)} original pairs the rarest "
                     f"class, {rare['name']}, holds {rare['labelled_share_pct']:.2f} % of "
                     f"labelled pixels and appears in {rare['images']} pairs.")
    if c["origin"]["augmented"]:
        notes.append(f"{c['origin']['augmented']} pairs are augmented copies of training "
                     "pairs, not new observations; evaluate on val/test, which hold none.")
    if c["splits"]["unsplit"]:
        notes.append(f"{c['splits']['unsplit']} pairs have no split.")
    if facts.ignore_index is not None:
        ignored = facts.class_names[facts.ignore_index]
        notes.append(f"Pixels of class {facts.ignore_index} ({ignored}) "
                     "are unlabelled and left out of losses and metrics.")
    if c["pairs"] < 1000:
        notes.append(f"Small: {c['pairs']} pairs; per-class metrics on val/test are noisy.")
    notes.append("Automatic checks find only what they look for; label noise inside masks "
                 "is not measured.")
    return notes


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


# --- Croissant JSON-LD -----------------------------------------------------------------------

CROISSANT_CONTEXT = {
    "@language": "en", "@vocab": "https://schema.org/", "sc": "https://schema.org/",
    "cr": "http://mlcommons.org/croissant/", "rai": "http://mlcommons.org/croissant/RAI/",
    "dct": "http://purl.org/dc/terms/", "citeAs": "cr:citeAs", "column": "cr:column",
    "conformsTo": "dct:conformsTo", "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"}, "extract": "cr:extract",
    "field": "cr:field", "fileObject": "cr:fileObject", "fileSet": "cr:fileSet",
    "includes": "cr:includes", "recordSet": "cr:recordSet", "source": "cr:source",
    "md5": "cr:md5", "sha256": "cr:sha256",
}


def render_jsonld(facts: Facts, options: CardOptions) -> dict:
    """Croissant 1.0 metadata with its responsible-AI (RAI 1.0) fields."""
    src = source_facts(facts, options)
    c = counts(facts)
    steps = "; ".join(f"{s.index}. curate {s.command} "
                      f"{json.dumps(s.options, ensure_ascii=False, sort_keys=True)}"
                      for s in facts.steps) or UNKNOWN
    augment = facts.step("augment")
    files = [_file_object(facts.path, name, fmt)
             for name, fmt in (("manifest.csv", "text/csv"), ("dataset.json", "application/json"))]
    files += [{"@type": "cr:FileSet", "@id": folder, "name": folder,
               "encodingFormat": "image/png", "includes": f"{folder}/*.png"}
              for folder in ("images", "masks")]
    fields = [_field(name, kind, desc) for name, kind, desc in (
        ("id", "sc:Text", "unique pair id, the file stem of the image and mask"),
        ("image", "sc:Text", "image path relative to the dataset folder"),
        ("mask", "sc:Text", "mask path relative to the dataset folder (labels 0..K-1)"),
        ("split", "sc:Text", "train, val, test, or empty"),
        ("origin", "sc:Text", "original or augmented"))]
    return {
        "@context": CROISSANT_CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": "http://mlcommons.org/croissant/1.0",
        "name": options.title or facts.name,
        "description": (f"{c['pairs']} image/mask pairs, {facts.meta['num_classes']} classes "
                        f"({', '.join(facts.class_names)}); splits: "
                        + ", ".join(f"{k} {v}" for k, v in c["splits"].items())
                        + f". Source: {src['source']}"),
        "license": src["license"],
        "citeAs": src["citation"],
        "version": f"curate {__version__}",
        "url": UNKNOWN,
        "distribution": files,
        "recordSet": [{"@type": "cr:RecordSet", "@id": "pairs", "name": "pairs",
                       "field": fields}],
        "rai:dataCollection": src["source"],
        "rai:dataCollectionType": ("Observational (rover camera images)" if src["detected"]
                                   else UNKNOWN),
        "rai:dataAnnotationProtocol": ("crowd-sourced labels; see the AI4Mars paper"
                                       if src["detected"] else UNKNOWN),
        "rai:dataAnnotationPlatform": UNKNOWN,
        "rai:annotationsPerItem": UNKNOWN,
        "rai:annotatorDemographics": UNKNOWN,
        "rai:dataPreprocessingProtocol": steps,
        "rai:dataManipulationProtocol": (
            f"{augment.summary.get('new_pairs', UNKNOWN)} training pairs added by curate "
            f"augment {json.dumps(augment.options, sort_keys=True)}; provenance per pair in "
            "manifest.csv (parent_ids, recipe, aug_seed)" if augment else "none recorded"),
        "rai:dataBiases": " ".join(known_limitations(facts)[:1]) or UNKNOWN,
        "rai:dataLimitations": " ".join(known_limitations(facts)),
        "rai:dataUseCases": "training and evaluating semantic segmentation models",
        "rai:personalSensitiveInformation": ("none expected (planetary surface images)"
                                             if src["detected"] else UNKNOWN),
        "rai:dataSocialImpact": UNKNOWN,
        "rai:dataReleaseMaintenancePlan": UNKNOWN,
    }


def _file_object(folder: Path, name: str, fmt: str) -> dict:
    digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    return {"@type": "cr:FileObject", "@id": name, "name": name, "contentUrl": name,
            "encodingFormat": fmt, "sha256": digest}


def _field(name: str, kind: str, description: str) -> dict:
    return {"@type": "cr:Field", "@id": f"pairs/{name}", "name": name,
            "description": description, "dataType": kind,
            "source": {"fileObject": {"@id": "manifest.csv"}, "extract": {"column": name}}}


# --- entry point -----------------------------------------------------------------------------

def render_card(dataset_path: str | Path,
                options: CardOptions | None = None) -> tuple[str, dict]:
    """(Markdown card, Croissant JSON-LD dict) for a curated folder; pure and deterministic.

    The card links its PNGs as `<options.files_dir>/<name>`; `card_pictures` gives their bytes.
    """
    options = options or CardOptions()
    facts = collect(dataset_path)
    pictures = {name: b"" for name in card_picture_names(facts)}
    return render_markdown(facts, options, pictures), render_jsonld(facts, options)


def card_picture_names(facts: Facts) -> list[str]:
    """Names of the PNGs the card links (class_distribution.png always, others if found)."""
    return ["class_distribution.png"] + [n for n in PICTURES[1:] if facts.report(n)]


def write_card(dataset_path: str | Path, card_path: str | Path, jsonld_path: str | Path | None,
               options: CardOptions | None = None, force: bool = False) -> list[Path]:
    """Write the card, its JSON-LD and its PNGs (in `<card stem>_files/`); return the paths.

    Outputs must lie outside the dataset folder (inputs stay untouched) and existing ones
    are replaced only with `force`.
    """
    from dataclasses import replace

    from curate.writers import atomic_dir, check_output, to_json, write_text_atomic

    card_path = Path(card_path)
    options = replace(options or CardOptions(), files_dir=f"{card_path.stem}_files")
    files_dir = card_path.parent / options.files_dir
    outputs = [card_path, files_dir] + ([Path(jsonld_path)] if jsonld_path else [])
    for out in outputs:
        check_output(out, force, [Path(dataset_path)])
    facts = collect(dataset_path)
    pictures = card_pictures(facts)
    markdown = render_markdown(facts, options, pictures)
    jsonld = render_jsonld(facts, options)
    with atomic_dir(files_dir, force=True) as tmp:
        for name, content in pictures.items():
            (tmp / name).write_bytes(content)
    write_text_atomic(card_path, markdown)
    if jsonld_path:
        write_text_atomic(Path(jsonld_path), to_json(jsonld))
    return outputs


def write_card_in_folder(folder: str | Path, options: CardOptions | None = None) -> list[Path]:
    """For a dataset folder being created (e.g. by `curate run`): card.md and card.jsonld at
    its top, the class chart in reports/, and the card's links pointing into reports/."""
    from dataclasses import replace

    from curate.writers import to_json

    folder = Path(folder)
    options = replace(options or CardOptions(), files_dir="reports")
    facts = collect(folder)
    pictures = card_pictures(facts)
    (folder / "reports").mkdir(exist_ok=True)
    (folder / "reports" / "class_distribution.png").write_bytes(pictures["class_distribution.png"])
    (folder / "card.md").write_text(render_markdown(facts, options, pictures), encoding="utf-8")
    (folder / "card.jsonld").write_text(to_json(render_jsonld(facts, options)), encoding="utf-8")
    return [folder / "card.md", folder / "card.jsonld",
            folder / "reports" / "class_distribution.png"]
