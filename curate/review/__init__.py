"""`curate review`: one offline HTML page to look at flagged pairs and decide, and the way
those decisions (and corrected masks) come back into `curate outliers` and `curate run`.

decisions: read and apply decisions.csv; mask_fixes: replace masks with corrected ones;
build: gather the flagged pairs of a curated folder; page: render the page.
"""

from __future__ import annotations

from pathlib import Path


def write_review(folder: str | Path, out: str | Path, data: str | Path | None = None,
                 thumb_width: int = 256) -> dict:
    """Gather the flagged pairs of `folder`, write the page to `out` atomically, and return
    {'flagged', 'removed', 'size'} (size of the page in bytes)."""
    from curate.review.build import gather
    from curate.review.page import render
    from curate.io.outputs import write_text

    found = gather(folder, data, thumb_width)
    html = render(found)
    write_text(Path(out), html)
    return {"flagged": len(found["items"]),
            "removed": sum(i["default"] == "remove" for i in found["items"]),
            "size": len(html.encode("utf-8"))}
