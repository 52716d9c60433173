"""Headless Chromium for the HTML-report tests: probe what rendered, and take a screenshot."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SKIP_REASON = ("chromium is not installed (Debian packages chromium, chromium-driver; "
               ".ci/run installs them)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", "--disable-component-update", "--disable-sync"]
# Appended to a copy of a page: writes each image's decoded size and each section's height
# into the DOM, where --dump-dom can read them.
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


def probe(html: str, workdir: Path) -> tuple[dict[str, tuple[int, float]], dict[str, float]]:
    """Render `html` and return ({image id: (natural width, shown height)},
    {section id: shown height})."""
    page = workdir / "probe.html"
    page.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    result = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={workdir / 'profile'}", "--window-size=1200,3000",
         "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="probe">(.*?)</pre>', result.stdout, re.S)
    assert found, f"no probe output; chromium stderr: {result.stderr[-2000:]}"
    lines = [line.split() for line in found.group(1).strip().splitlines()]
    images = {line[1]: (int(line[2]), float(line[3])) for line in lines if line[0] == "img"}
    sections = {line[1]: float(line[2]) for line in lines if line[0] == "section"}
    return images, sections


def screenshot(page: Path, shot: Path, workdir: Path) -> None:
    """A 1200x3000 screenshot of the page file, for a person to look at."""
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={workdir / 'profile-shot'}",
                    "--window-size=1200,3000", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120)
