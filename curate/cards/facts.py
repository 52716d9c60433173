"""The read-model of a curated folder (`Facts`, from dataset.json, manifest.csv, reports/)
and the tables derived from it; shared by the data card and the HTML report.

Everything comes from the folder itself, so the same folder gives the same bytes. Every step
copies the earlier steps' reports forward, so the folder holds them all. Whatever cannot be
found is written as "unknown" or "not recorded", never left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from curate.io.dataset import AI4MARS_CLASS_NAMES, SPLITS
from curate.errors import InputError
from curate.data.readers import read_manifest, read_meta
from curate.stats.shares import class_shares, pixel_counts

UNKNOWN = "unknown (not recorded)"
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
    """One entry of the curation history."""

    index: int
    command: str
    options: dict
    tool_version: str
    input: str
    summary: dict


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
        """The folder's report file of this name (every step copies the earlier steps' reports
        forward, so the last folder holds them all), or None."""
        own = self.path / "reports" / name
        return own if own.is_file() else None


# --- gathering -------------------------------------------------------------------------------

def collect(dataset_path: str | Path) -> Facts:
    """Read dataset.json and manifest.csv of a curated folder."""
    path = Path(dataset_path)
    if not (path / "dataset.json").is_file():
        raise InputError(f"{path} is not a curated dataset folder (no dataset.json); run "
                         "`curate outliers DATA -o OUT` first and give OUT.")
    meta = read_meta(path)
    manifest = read_manifest(path)
    history = list(meta.get("history", []))
    steps = [Step(index=i + 1, command=str(entry.get("command", UNKNOWN)),
                  options=dict(entry.get("options") or {}),
                  tool_version=str(entry.get("tool_version", UNKNOWN)),
                  input=str(entry.get("input", UNKNOWN)),
                  summary=dict(entry.get("summary") or {}))
             for i, entry in enumerate(history)]
    return Facts(path, path.resolve().name, meta, manifest, steps)


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
    px = pixel_counts(manifest, k)                                              # (N, K)
    pixels = px.sum(axis=0)
    labelled = pixels.astype(np.float64)
    if ignore_index is not None:
        labelled[ignore_index] = np.nan          # not a labelled class: no share
    pixel_share, image_share = class_shares(px, empty=0.0)
    return pd.DataFrame({
        "class": np.arange(k), "name": class_names, "pixels": pixels,
        "pixel_share_pct": np.round(pixel_share, 2),
        "labelled_share_pct": np.round(100 * labelled / max(np.nansum(labelled), 1), 2),
        "images": (px > 0).sum(axis=0),
        "image_share_pct": np.round(image_share, 2),
    })


def split_table(facts: Facts) -> tuple[list[str], list[list]]:
    """The split table of the card and the report: (counted class names, rows of split,
    pairs, augmented pairs, labelled pixel share % of each counted class); 'unsplit' only
    when some pair has no split."""
    m = facts.manifest
    keep = [k for k in range(len(facts.class_names)) if k != facts.ignore_index]
    rows = []
    for name in SPLITS + ("unsplit",):
        part = m[m["split"] == name] if name != "unsplit" else m[~m["split"].isin(SPLITS)]
        if name == "unsplit" and len(part) == 0:
            continue
        shares = class_table(part, facts.class_names, facts.ignore_index)["labelled_share_pct"]
        augmented = int((part["origin"] == "augmented").sum()) if "origin" in part else 0
        rows.append([name, len(part), augmented] + [f"{shares.iat[k]:.2f}" for k in keep])
    return [facts.class_names[k] for k in keep], rows


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
    from curate.ui.plots import bar_chart

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


def card_picture_names(facts: Facts) -> list[str]:
    """Names of the PNGs the card links (class_distribution.png always, others if found)."""
    return ["class_distribution.png"] + [n for n in PICTURES[1:] if facts.report(n)]


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
