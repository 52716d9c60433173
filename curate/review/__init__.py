"""`curate review`: look at flagged pairs offline and decide, and the way those decisions (and
corrected masks) come back into `curate outliers` and `curate run`.

cards: the flagged pairs as cards (groups as one); build: gather them and where their
pictures are; thumbs: encode the pictures in parallel; page: the HTML; write: the single
page or the review folder (index.html, data/ parts, thumbs/).
"""

from __future__ import annotations

from pathlib import Path

# The default layout: one self-contained page while it stays small, a folder above. The page
# inlines every picture (base64) and the browser parses it whole before the first card, so
# its size is the flagged pairs times their pictures' bytes: the 457-flag real-image proxy of
# issue 37 (256x256 AI4Mars frames) makes an 11.9 MB page, which shows its first card later
# than its folder's 0.04 MB index.html does (docs/results/review-scale.md). The estimate
# reads one picture's size, not its pixels.
SINGLE_FILE_LIMIT = 1000        # flagged pairs up to which the review may be one page
PAGE_LIMIT = 5_000_000          # bytes: the estimated page size up to which it is one page
BYTES_PER_PIXEL = 0.4           # inline bytes per flagged pair and thumbnail pixel: 11.9 MB
                                # / 457 flags / 65,536 px on that proxy (group members' and
                                # similar images' pictures included; one AI4Mars JPEG and
                                # mask PNG alone: 18.7 KB)


def review_layout(folder: str | Path, single_file: bool | None = None,
                  out: str | Path | None = None, thumb_width: int = 256) -> str:
    """'file' (one page) or 'folder': as asked, else one page up to SINGLE_FILE_LIMIT flagged
    pairs whose page is estimated at PAGE_LIMIT bytes at most, and a folder above. Raises
    InputError when the folder has no outliers.csv, or when a folder would be written to
    `out` named like a page (.html)."""
    from curate.errors import InputError
    from curate.review.build import count_flagged, thumb_pixels

    flagged = count_flagged(folder)
    page = flagged * thumb_pixels(folder, thumb_width) * BYTES_PER_PIXEL
    if single_file is None:
        layout = "file" if flagged <= SINGLE_FILE_LIMIT and page <= PAGE_LIMIT else "folder"
    else:
        layout = "file" if single_file else "folder"
    if layout == "folder" and out is not None and Path(out).suffix.lower() in (".html", ".htm"):
        why = ("--folder" if single_file is False else
               f"{flagged} flagged pairs (more than {SINGLE_FILE_LIMIT:,})"
               if flagged > SINGLE_FILE_LIMIT else
               f"{flagged} flagged pairs (a page of about {page / 1e6:.0f} MB with their "
               f"pictures inline, more than {PAGE_LIMIT / 1e6:.0f} MB)")
        raise InputError(f"{why} make a review folder, and -o {out} names a page. Give a "
                         "folder path (it will hold index.html), or pass --single-file for "
                         "one page with every picture inline.")
    return layout


def default_output(folder: str | Path, layout: str) -> Path:
    """DATA-review.html, or the folder DATA-review, beside DATA."""
    folder = Path(folder)
    return folder.parent / (f"{folder.name}-review" + (".html" if layout == "file" else ""))


def write_review(folder: str | Path, out: str | Path, data: str | Path | None = None,
                 thumb_width: int = 256, layout: str = "file", force: bool = False,
                 workers: int | None = None) -> dict:
    """Gather the flagged pairs of `folder` and write the review to `out` atomically: one page
    (layout 'file') or a folder with index.html. Returns {'flagged', 'removed', 'cards',
    'groups', 'size'} (size: of the page, or of the folder's index.html, in bytes)."""
    from curate.review.build import collect
    from curate.review.write import write_folder, write_page

    review = collect(folder, data)
    if layout == "file":
        size = write_page(review, Path(out), thumb_width)
    else:
        size = write_folder(review, Path(out), thumb_width, force, workers=workers)
    return {"flagged": len(review.table), "cards": len(review.cards),
            "removed": int((review.table["default"] == "remove").sum()),
            "groups": sum(c["groups"] for c in review.header["checks"]), "size": size}
