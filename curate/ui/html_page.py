"""The HTML page shell both packages' reports are built from: escaping, data-URI figures,
tables, big numbers, sections and the page with its CSS. It knows nothing about datasets or
training: curate's dataset report and segment's run report fill it with their sections."""

from __future__ import annotations

import base64
import html
from typing import Any

CSS = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 1em;
       color: #222; }
h1 { border-bottom: 2px solid #444; padding-bottom: .2em; }
section { margin: 1.5em 0; }
table { border-collapse: collapse; margin: .5em 0; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; vertical-align: top; }
th { background: #f0f0f0; }
td.text, th.text { text-align: left; }
figure { margin: .8em 0; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: .85em; color: #555; }
.missing { color: #a33; font-style: italic; }
.numbers { display: flex; gap: 1em; flex-wrap: wrap; }
.numbers div { border: 1px solid #ccc; border-radius: 4px; padding: .4em .8em; }
.numbers b { display: block; font-size: 1.4em; }
nav a { margin-right: 1em; }
code { font-size: .85em; word-break: break-word; }
"""
# What the run report adds: the best epoch's row, pixel-exact tiles, figures side by side,
# colour swatches in the class legend.
RUN_CSS = """tr.best td { background: #eef7ee; font-weight: bold; }
figure img.pixels { image-rendering: pixelated; width: 100%; }
.figures { display: flex; gap: 1em; flex-wrap: wrap; align-items: flex-start; }
.figures figure { max-width: 48%; }
.swatch { display: inline-block; width: 1em; height: 1em; border: 1px solid #888;
          vertical-align: middle; margin: 0 .3em 0 1em; }
"""


# --- HTML helpers ----------------------------------------------------------------------------

def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def figure(png: bytes | None, alt: str, caption: str, fig_id: str, css_class: str = "") -> str:
    """An embedded PNG with a caption, or a visible 'not available' note."""
    if png is None:
        return f'<p class="missing" id="{esc(fig_id)}-missing">{esc(caption)}: not available.</p>'
    cls = f' class="{esc(css_class)}"' if css_class else ""
    return (f'<figure><img id="{esc(fig_id)}"{cls} src="{data_uri(png)}" alt="{esc(alt)}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>")


def table(columns: list[str], rows: list[list], text_columns: tuple[int, ...] = (),
          table_id: str | None = None, highlight: frozenset[int] = frozenset()) -> str:
    """An HTML table; cells are escaped; `text_columns` left-aligned; `highlight` rows bold."""
    def cells(tag: str, values) -> str:
        return "".join(f'<{tag}{" class=text" if i in text_columns else ""}>{esc(v)}</{tag}>'
                       for i, v in enumerate(values))
    ident = f' id="{esc(table_id)}"' if table_id else ""
    body = "".join(f"<tr{' class=best' if n in highlight else ''}>{cells('td', row)}</tr>"
                   for n, row in enumerate(rows))
    return (f"<table{ident}><thead><tr>{cells('th', columns)}</tr></thead>"
            f"<tbody>{body}</tbody></table>")


def paragraph(text: str, css_class: str | None = None, para_id: str | None = None) -> str:
    cls = f' class="{esc(css_class)}"' if css_class else ""
    ident = f' id="{esc(para_id)}"' if para_id else ""
    return f"<p{ident}{cls}>{esc(text)}</p>"


def numbers(boxes: list[tuple[str, Any]]) -> str:
    """Big numbers in boxes; each box has the id n-<label with dashes>."""
    return '<div class="numbers">' + "".join(
        f'<div id="n-{esc(k.replace(" ", "-"))}"><b>{esc(v)}</b>{esc(k)}</div>' for k, v in boxes
    ) + "</div>"


def section(section_id: str, title: str, body: str) -> str:
    return f'<section id="{esc(section_id)}"><h2>{esc(title)}</h2>{body}</section>'


def page(title: str, sections: list[tuple[str, str, str]], extra_css: str = "") -> str:
    """A whole HTML document: title, a nav bar, then (id, title, body) sections; `extra_css`
    follows the shared rules."""
    nav = "".join(f'<a href="#{esc(i)}">{esc(t)}</a>' for i, t, _ in sections)
    body = "\n".join(section(i, t, b) for i, t, b in sections)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{esc(title)}</title><style>{CSS}{extra_css}</style></head><body>"
            f"<h1>{esc(title)}</h1><nav>{nav}</nav>\n{body}\n</body></html>\n")
