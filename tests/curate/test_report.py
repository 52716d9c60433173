"""HTML report: sections and embedded images, checked as text and in headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from browser import CHROMIUM, SKIP_REASON, probe, screenshot
from curate.cli.main import app
from curate.report.html import SECTION_IDS, render_report
from test_card import REMOVED, build_curated



@pytest.fixture(scope="module")
def curated(tmp_path_factory) -> Path:
    return build_curated(tmp_path_factory.mktemp("report"))


def test_sections_and_images_present(curated):
    page = render_report(curated)
    for section_id in SECTION_IDS:
        assert f'<section id="{section_id}">' in page
    images = re.findall(r'<img id="([^"]+)" src="data:image/png;base64,', page)
    assert images == ["img-class-distribution", "img-outliers", "img-augment-preview",
                      "img-augment-shares"]
    assert "src=\"http" not in page and "href=\"http" not in page   # opens offline
    assert page.count("<tr><td class=text>NL") >= REMOVED              # removed-pairs rows
    assert render_report(curated) == page                              # deterministic


def test_split_options_read_as_words_not_json(curated):
    page = render_report(curated)
    made = re.search(r"Made by curate split with ([^<]*)", page).group(1)
    assert made.startswith("ratios train 0.7, val 0.15, test 0.15; seed 0; "), made
    assert "{" not in made and "&quot;" not in made and "null" not in made, made


def test_missing_steps_are_said(tmp_path):
    folder = build_curated(tmp_path, steps=())
    page = render_report(folder)
    assert "no split step" in page and "no augment step" in page
    assert 'id="img-class-distribution"' in page and 'id="img-outliers"' in page
    assert 'id="img-augment-preview"' not in page


def test_cli_report(curated, tmp_path):
    runner = CliRunner()
    out = tmp_path / "r.html"
    assert runner.invoke(app, ["report", str(curated), "-o", str(out)]).exit_code == 0
    again = runner.invoke(app, ["report", str(curated), "-o", str(out)])
    assert again.exit_code == 1 and "--force" in again.output
    inside = runner.invoke(app, ["report", str(curated), "-o", str(curated / "r.html")])
    assert inside.exit_code == 1


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)
def test_chromium_renders_sections_and_images(curated, tmp_path):
    images, sections = probe(render_report(curated), tmp_path)
    assert set(images) == {"img-class-distribution", "img-outliers", "img-augment-preview",
                           "img-augment-shares"}
    assert all(width > 100 and height > 50 for width, height in images.values()), images
    assert set(sections) == set(SECTION_IDS) and all(h > 20 for h in sections.values())
    page = tmp_path / "report.html"
    page.write_text(render_report(curated), encoding="utf-8")
    shot = tmp_path / "report.png"
    screenshot(page, shot, tmp_path)
    assert shot.is_file() and shot.stat().st_size > 10_000
