"""`curate review`: write the offline page, or review folder, to look at what `curate outliers`
flagged."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from curate.cli.common import ForceOpt, user_errors


def review_command(
    data: Annotated[Path, typer.Argument(
        help="A folder `curate outliers` or `curate run` wrote (reports/outliers.csv).")],
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="The page, or review folder, to write (outside DATA, which stays "
        "untouched). Default: DATA-review.html, or the folder DATA-review, beside DATA.")] = None,
    source: Annotated[Optional[Path], typer.Option(
        "--input", help="The input `curate outliers` read, for the pictures of the pairs it "
        "removed. Default: the input recorded in DATA/dataset.json.")] = None,
    thumb_width: Annotated[int, typer.Option(
        min=32, max=1024, help="Width in pixels of the pictures.")] = 256,
    single_file: Annotated[bool, typer.Option(
        "--single-file", help="One self-contained HTML page with every picture inline, "
        "whatever the count. Default: one page while it stays small (up to 1,000 flagged pairs "
        "and an estimated 5 MB of pictures), a folder above.")
    ] = False,
    as_folder: Annotated[bool, typer.Option(
        "--folder", help="A folder (index.html, data/, thumbs/) that opens in a second "
        "however many pairs are flagged, whatever the count.")] = False,
    force: ForceOpt = False,
) -> None:
    """An offline review of every flagged pair: look, decide remove or keep (a duplicate group
    at once), export decisions.csv, and apply it with `curate outliers DATA --decisions
    decisions.csv`."""
    from curate.cli.show import console
    from curate.errors import InputError
    from curate.io.outputs import guard_output
    from curate.review import default_output, review_layout, write_review

    with user_errors():
        if single_file and as_folder:
            raise InputError("--single-file and --folder ask for opposite layouts; pass one "
                             "of them, or neither for the default (one page up to 1,000 "
                             "flagged pairs and about 5 MB, a folder above).")
        layout = review_layout(data, True if single_file else False if as_folder else None, out,
                               thumb_width)
        out = out or default_output(data, layout)
        guard_output(out, [data, source], force, kind=layout,
                     what="review page" if layout == "file" else "review folder")
        found = write_review(data, out, data=source, thumb_width=thumb_width, layout=layout,
                             force=force)
    page = out if layout == "file" else out / "index.html"
    groups = f", {found['groups']} of them groups" if found["groups"] else ""
    console.print(f"Wrote {out}: {found['flagged']} flagged pairs "
                  f"({found['removed']} removed by default) on {found['cards']} cards{groups}; "
                  f"{'page' if layout == 'file' else 'index.html'} "
                  f"{found['size'] / 1e6:.2f} MB. Open {page} in a browser; export "
                  "decisions.csv from the page and pass it to `curate outliers DATA "
                  "--decisions decisions.csv`.", soft_wrap=True)
