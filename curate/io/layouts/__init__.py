"""The layouts datasets are shipped in, read into (image, mask) file pairs: Pascal VOC,
Cityscapes, COCO JSON (panoptic, instances, stuff), colour-coded masks with a colour table (CamVid), sibling image and label folders,
and Hugging Face parquet. Each layout module has `detect(path)` (why it recognises the tree,
or None) and `find(path, options)` (a FoundPairs); `choose` runs detection in LAYOUTS order
or takes the one --layout names.

The pairs then go through the same reading pass as an images/ + masks/ folder
(curate.io.image_files), with the layout's mask decoder, label map, class names and ignore
class as defaults that the user's read options override.
"""

from __future__ import annotations

from pathlib import Path

from curate.io.errors import InputError
from curate.io.layouts.found import (
    FoundPairs, LayoutOptions, class_file_names, ignore_named_void, stem_id,
)

__all__ = ["FoundPairs", "LayoutOptions", "choose", "class_file_names", "ignore_named_void",
           "layouts", "stem_id"]


def layouts() -> dict[str, object]:
    """name -> module, in detection order (the most specific first)."""
    from curate.io.layouts import cityscapes, coco, parquet, sibling, voc

    # coco before sibling: a COCO tree's images/ + annotations/ look like sibling folders
    return {"voc": voc, "cityscapes": cityscapes, "coco": coco, "parquet": parquet,
            "sibling": sibling}


def choose(path: Path, options: LayoutOptions) -> FoundPairs | None:
    """The pairs of `path` in the layout --layout names, or in the first layout detected;
    None when no layout recognises it (and none was named)."""
    known = layouts()
    if options.layout:
        if options.layout not in known:
            raise InputError(f"--layout {options.layout!r} is not a layout curate reads; "
                             f"choose one of: {', '.join(known)} (or leave it out to detect).")
        found = known[options.layout].find(path, options, f"--layout {options.layout}")
        found.note = f"Layout {options.layout} (--layout): {found.note}"
        return found
    for name, module in known.items():
        why = module.detect(path)
        if why:
            found = module.find(path, options, why)
            found.note = (f"Layout {name}, recognised as {why} (--layout NAME to choose "
                          f"another): {found.note}")
            return found
    return None
