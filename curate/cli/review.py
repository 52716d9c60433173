"""`curate review`: write the offline page to look at what `curate outliers` flagged."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from curate.cli.common import ForceOpt, user_errors


def review_command(
    data: Annotated[Path, typer.Argument(
        help="A folder `curate outliers` or `curate run` wrote (reports/outliers.csv).")],
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="The page to write (outside DATA, which stays untouched). "
        "Default: DATA-review.html beside DATA.")] = None,
    source: Annotated[Optional[Path], typer.Option(
        "--input", help="The input `curate outliers` read, for the pictures of the pairs it "
        "removed. Default: the input recorded in DATA/dataset.json.")] = None,
    thumb_width: Annotated[int, typer.Option(
        min=32, max=1024, help="Width in pixels of the embedded pictures.")] = 256,
    force: ForceOpt = False,
) -> None:
    """One offline HTML page of every flagged pair: look, decide remove or keep, export
    decisions.csv, and apply it with `curate outliers DATA --decisions decisions.csv`."""
    from curate.cli.show import console
    from curate.review import write_review
    from curate.io.outputs import guard_output

    with user_errors():
        out = out or data.parent / f"{data.name}-review.html"
        guard_output(out, [data, source], force, what="review page")
        found = write_review(data, out, data=source, thumb_width=thumb_width)
    console.print(f"Wrote {out}: {found['flagged']} flagged pairs "
                  f"({found['removed']} removed by default), {found['size'] / 1e6:.1f} MB. "
                  "Open it in a browser; export decisions.csv from the page and pass it to "
                  "`curate outliers DATA --decisions decisions.csv`.", soft_wrap=True)
