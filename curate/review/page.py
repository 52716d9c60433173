"""Render the review page's HTML: the shell (header data, controls, script and style inline),
with the cards' data inline (the single page) or loaded from data/ beside it (the folder)."""

from __future__ import annotations

import html
import json
from importlib import resources


def render(meta: dict, data: list[str] | None = None) -> str:
    """The page for `meta` (the review's header, its parts, chunk and page sizes); `data`,
    where given, holds the data scripts to inline. Works offline from file://."""
    assets = resources.files("curate.review") / "assets"
    script = (assets / "review.js").read_text(encoding="utf-8")
    style = (assets / "review.css").read_text(encoding="utf-8")
    # JSON inside <script>: "</" would end the element early, so it is escaped
    blob = json.dumps({**meta, "inline": data is not None},
                      separators=(",", ":")).replace("</", "<\\/")
    inline = "".join(f"<script>{d}</script>\n" for d in data or [])
    title = html.escape(meta["title"])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style></head>
<body>
<header id="bar">
  <h1>{title}</h1>
  <div id="counter" aria-live="polite"></div>
  <div class="controls">
    <label>check <select id="filter-check"><option value="">all</option></select></label>
    <label>decision <select id="filter-decision">
      <option value="">all</option><option value="open">not yet decided</option>
      <option value="remove">remove</option><option value="keep">keep</option>
      <option value="changed">changed from default</option></select></label>
    <label><input type="checkbox" id="show-mask" checked> mask</label>
    <label>opacity <input type="range" id="opacity" min="0" max="100" value="50"></label>
    <label>size <input type="range" id="zoom" min="96" max="640" step="32"></label>
    <button id="undo" title="u">undo</button>
    <button id="export">export decisions.csv</button>
    <a id="download" download="decisions.csv" hidden>decisions.csv</a>
    <button id="export-regions" hidden>export region_fixes.csv</button>
    <a id="download-regions" download="region_fixes.csv" hidden>region_fixes.csv</a>
  </div>
  <div id="legend"></div>
  <details id="help"><summary>keys</summary>
    j / &darr; / &rarr; next card &nbsp; k / &uarr; / &larr; previous &nbsp; x remove &nbsp;
    a keep (a group card: every flagged pair of the group; override one pair with the
    buttons under its picture) &nbsp; u undo &nbsp; m mask on/off &nbsp; PageDown / PageUp
    page &nbsp; g go to a page. A label issue's numbered regions: 1&ndash;9 pick region N
    of the current card (region 1 at first), then p accept the model's prediction there,
    o keep the original mask, s skip (the default). Decisions are saved in this browser
    (they survive a reload); export them and run
    <code>curate outliers DATA --decisions decisions.csv -o OUT</code>; export the regions
    and run <code>curate outliers DATA --mask-fixes region_fixes.csv -o OUT</code>.</details>
</header>
<section id="overview"><table id="checks"></table></section>
<nav id="pager-top" class="pager"></nav>
<main id="list"><p id="loading">Loading the flagged pairs&hellip;</p></main>
<nav id="pager" class="pager"></nav>
<script type="application/json" id="review-meta">{blob}</script>
<script>{script}</script>
{inline}</body></html>
"""
