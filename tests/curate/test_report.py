"""HTML report: sections and embedded images, checked as text and in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.report import SECTION_IDS, render_report
from test_card import REMOVED, build_curated

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--no-first-run",
                  "--disable-component-update", "--disable-sync"]
# Appended to a copy of the report: writes each image's decoded size and each section's
# height into the DOM, where --dump-dom can read them.
PROBE = """<script>
window.addEventListener('load', () => {
  const out = document.createElement('pre'); out.id = 'probe';
  for (const img of document.images)
    out.textContent += `img ${img.id} ${img.naturalWidth} ${img.getBoundingClientRect().height}\\n`;
  for (const s of document.querySelectorAll('section'))
    out.textContent += `section ${s.id} ${s.getBoundingClientRect().height}\\n`;
  document.body.appendChild(out);
});
</script>"""


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


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian packages "
                    "chromium, chromium-driver; .ci/run installs them)")
def test_chromium_renders_sections_and_images(curated, tmp_path):
    html = render_report(curated).replace("</body>", PROBE + "</body>")
    page = tmp_path / "probe.html"
    page.write_text(html, encoding="utf-8")
    result = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1200,3000", "--virtual-time-budget=5000", "--dump-dom",
         page.as_uri()], capture_output=True, text=True, timeout=120)
    probe = re.search(r'<pre id="probe">(.*?)</pre>', result.stdout, re.S)
    assert probe, f"no probe output; chromium stderr: {result.stderr[-2000:]}"
    lines = [line.split() for line in probe.group(1).strip().splitlines()]
    images = {line[1]: (int(line[2]), float(line[3])) for line in lines if line[0] == "img"}
    assert set(images) == {"img-class-distribution", "img-outliers", "img-augment-preview",
                           "img-augment-shares"}
    assert all(width > 100 and height > 50 for width, height in images.values()), images
    sections = {line[1]: float(line[2]) for line in lines if line[0] == "section"}
    assert set(sections) == set(SECTION_IDS) and all(h > 20 for h in sections.values())
    shot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile2'}",
                    "--window-size=1200,3000", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.is_file() and shot.stat().st_size > 10_000
