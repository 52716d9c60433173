"""Data cards: every section present, numbers equal to the manifest, unknowns said, same bytes."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from curate.augment import AugmentConfig, augment
from curate.cards import SECTIONS, UNKNOWN, CardOptions, render_card, to_yaml
from curate.cli.main import app
from curate.checks.outliers import OutlierConfig, clean, find_outliers
from curate.data.readers import load_dataset, read_manifest
from curate.split.stratify import SplitConfig, split_dataset
from curate.data.writers import write_dataset

SAMPLE = Path(__file__).resolve().parents[2] / "curate" / "samples" / "mars300.npz"
PAIRS = 60
# Planted: pair 0 appended again (an exact duplicate). Real: pairs 23 and 33 of the sample
# have masks with nothing labelled. Both kinds are removed by default: 3 pairs.
REMOVED = 3


def build_curated(root: Path, steps=("outliers", "split", "augment")) -> Path:
    """outliers -> split -> augment on 60 sample pairs plus one planted duplicate."""
    raw = load_dataset(SAMPLE)
    small = raw.subset(list(range(PAIRS)) + [0])
    # A new id for the copy: the manifest of the subset would name it by the original's id.
    small = replace(small, ids=small.ids[:-1] + [small.ids[0] + "_copy"],
                    origin_path="mars300.npz", manifest=None)
    config = OutlierConfig()
    kept = clean(find_outliers(small, config).dataset, config)
    folder = write_dataset(root / "out", kept.dataset, kept.reports)
    if "split" in steps:
        split = split_dataset(load_dataset(folder), SplitConfig())
        folder = write_dataset(root / "split", split.dataset,
                               {"split_report.csv": split.reports["split_report.csv"]})
    if "augment" in steps:
        result = augment(load_dataset(folder), AugmentConfig(target_class=4, count=8))
        folder = write_dataset(root / "aug", result.dataset, result.reports)
    return folder


@pytest.fixture(scope="module")
def curated(tmp_path_factory) -> Path:
    return build_curated(tmp_path_factory.mktemp("card"))


def front_matter_text(markdown: str) -> str:
    match = re.match(r"---\n(.*?)\n---\n", markdown, re.S)
    assert match, "card does not start with YAML front matter"
    return match.group(1)


def yaml_value(markdown: str, key: str) -> str:
    """A top-level scalar of the front matter, as written."""
    match = re.search(rf"^{key}: (.*)$", front_matter_text(markdown), re.M)
    assert match, f"front matter lacks {key}"
    return match.group(1)


def table_rows(markdown: str, header_start: str) -> list[list[str]]:
    """Cells of the Markdown table whose header row starts with `header_start`."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split(" | ")])
    return rows


def test_every_section_in_order(curated):
    markdown, _ = render_card(curated)
    positions = [markdown.index(f"\n## {name}\n") for name in SECTIONS]
    assert positions == sorted(positions)
    assert markdown.startswith("---\n")


def test_counts_match_manifest(curated):
    markdown, _ = render_card(curated)
    manifest = read_manifest(curated)
    assert yaml_value(markdown, "num_pairs") == str(len(manifest))
    assert yaml_value(markdown, "removed_by_curation") == str(REMOVED)
    fm = front_matter_text(markdown)
    for split in ("train", "val", "test"):
        assert f"\n  {split}: {int((manifest['split'] == split).sum())}\n" in fm
    augmented = int((manifest["origin"] == "augmented").sum())
    assert augmented == 8
    assert f"\n  augmented: {augmented}\n" in fm
    assert f"**Pairs:** {len(manifest)} ({len(manifest) - augmented} original, {augmented} " \
           "augmented)" in markdown
    assert f"removed {REMOVED} and kept {PAIRS + 1 - REMOVED}" in markdown
    removed = table_rows(markdown, "| id | source | flags | reason |")
    assert len(removed) == REMOVED
    assert {r[2] for r in removed} == {"unlabelled", "exact_duplicate"}


def test_class_shares_match_manifest(curated):
    markdown, _ = render_card(curated)
    manifest = read_manifest(curated)
    px = manifest[[f"px_{k}" for k in range(5)]].to_numpy(np.int64)
    pixel_share = 100 * px.sum(0) / px.sum()
    labelled = 100 * px.sum(0)[1:] / px.sum(0)[1:].sum()
    images = (px > 0).sum(0)
    rows = table_rows(markdown, "| class | name | pixels |")
    assert [r[1].split(" (")[0] for r in rows] == ["background", "soil", "bedrock", "sand",
                                                    "big rock"]
    for k, row in enumerate(rows):
        assert int(row[2]) == px[:, k].sum()
        assert float(row[3]) == pytest.approx(pixel_share[k], abs=0.006)
        assert int(row[5]) == images[k]
        if k == 0:
            assert row[4] == "n/a (ignored)"
        else:
            assert float(row[4]) == pytest.approx(labelled[k - 1], abs=0.006)
    split_rows = table_rows(markdown, "| split | pairs |")
    assert {r[0]: int(r[1]) for r in split_rows} == \
        manifest["split"].value_counts().to_dict()


def test_unknown_fields_say_so(tmp_path):
    folder = build_curated(tmp_path, steps=())           # outliers only, npz renamed
    meta = json.loads((folder / "dataset.json").read_text())
    meta["history"][0]["input"] = "elsewhere/data"       # not an npz: source unknowable
    del meta["history"][0]["tool_version"]
    (folder / "dataset.json").write_text(json.dumps(meta))
    markdown, jsonld = render_card(folder)
    assert yaml_value(markdown, "license") == json.dumps(UNKNOWN)
    assert f"**Source data:** {UNKNOWN}" in markdown
    assert "not recorded (no `split` step in the history)" in markdown
    assert "not recorded (no `augment` step in the history)" in markdown
    assert f"| 1 | `outliers` | {UNKNOWN} |" in markdown
    assert yaml_value(markdown, "source") == json.dumps(UNKNOWN)
    assert jsonld["license"] == UNKNOWN and jsonld["rai:dataSocialImpact"] == UNKNOWN


def test_user_source_and_license(curated):
    markdown, jsonld = render_card(curated, CardOptions(title="T", source_text="my rover",
                                                        license="CC-BY-4.0"))
    assert "**Source data:** my rover" in markdown
    assert yaml_value(markdown, "license") == '"CC-BY-4.0"'
    assert jsonld["license"] == "CC-BY-4.0" and jsonld["name"] == "T"


def test_ai4mars_detected_and_license_not_invented(curated):
    markdown, jsonld = render_card(curated)
    assert "Derived from AI4Mars" in markdown and "Swan" in markdown
    assert "unknown — check the AI4Mars release terms" in markdown
    assert jsonld["conformsTo"] == "http://mlcommons.org/croissant/1.0"
    assert {"rai:dataCollection", "rai:dataLimitations", "rai:dataBiases"} <= set(jsonld)


def test_deterministic(curated):
    assert render_card(curated) == render_card(curated)


def test_yaml_is_valid():
    yaml = pytest.importorskip("yaml", reason="PyYAML only checks the hand-written YAML")
    value = {"a": 1, "b": [1.0, 1e-05, "x: y"], "c": [{"d": None, "e": {"f": True}}],
             "g": {}, "h": "“quoted”\n", "i key": float("nan")}
    parsed = yaml.safe_load(to_yaml(value))
    assert parsed["b"] == [1.0, 1e-05, "x: y"] and parsed["c"] == [{"d": None,
                                                                   "e": {"f": True}}]
    assert parsed["h"] == value["h"] and parsed["g"] == {} and np.isnan(parsed["i key"])


def test_card_front_matter_parses(curated):
    yaml = pytest.importorskip("yaml", reason="PyYAML only checks the hand-written YAML")
    markdown, _ = render_card(curated)
    meta = yaml.safe_load(front_matter_text(markdown))
    manifest = read_manifest(curated)
    assert meta["num_pairs"] == len(manifest)
    assert [c["images"] for c in meta["classes"]] == \
        (manifest[[f"px_{k}" for k in range(5)]] > 0).sum().tolist()
    assert [h["command"] for h in meta["history"]] == ["outliers", "split", "augment"]


def test_cli_card_links_resolve_and_refuses_overwrite(curated, tmp_path):
    runner = CliRunner()
    card = tmp_path / "cards" / "mine.md"
    result = runner.invoke(app, ["card", str(curated), "-o", str(card)])
    assert result.exit_code == 0, result.output
    markdown = card.read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    assert len(links) == 4 and all((card.parent / link).is_file() for link in links)
    assert json.loads(card.with_suffix(".jsonld").read_text())["@type"] == "sc:Dataset"
    again = runner.invoke(app, ["card", str(curated), "-o", str(card)])
    assert again.exit_code == 1 and "--force" in again.output
    assert runner.invoke(app, ["card", str(curated), "-o", str(card), "--force"]).exit_code == 0
    assert card.read_text() == markdown
    inside = runner.invoke(app, ["card", str(curated), "-o", str(curated / "card.md")])
    assert inside.exit_code == 1 and "outside the input" in inside.output
    missing = runner.invoke(app, ["card", str(tmp_path / "nope")])
    assert missing.exit_code == 1 and "dataset.json" in missing.output


def test_the_shipped_card_is_what_its_regenerate_command_writes(tmp_path, monkeypatch):
    """data_cards/ holds the card of the bundled sample; a change to curate that changes the
    card must regenerate it (data_cards/README.md gives the commands run here, from the
    repository root: the card records the input path as given)."""
    shipped = SAMPLE.parents[2] / "data_cards"
    monkeypatch.chdir(SAMPLE.parents[2])
    runner = CliRunner()
    run = runner.invoke(app, ["run", "curate/samples/mars300.npz", "-o", str(tmp_path / "c"), "--num-classes", "5",
                              "--class", "4", "--count", "60"])
    assert run.exit_code == 0, run.output
    card = runner.invoke(app, ["card", str(tmp_path / "c"), "-o", str(tmp_path / "mars300.md"),
                               "--title", "mars300"])
    assert card.exit_code == 0, card.output
    for name in ["mars300.md", "mars300.jsonld"] + [
            f"mars300_files/{p.name}" for p in sorted((shipped / "mars300_files").iterdir())]:
        assert (tmp_path / name).read_bytes() == (shipped / name).read_bytes(), (
            f"data_cards/{name} is stale: regenerate it as data_cards/README.md says")
