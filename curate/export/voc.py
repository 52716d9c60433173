"""Pascal VOC: JPEGImages/, SegmentationClass/ (palette PNGs, VOC's colour map, 255 void),
ImageSets/Segmentation/{train,val,test,trainval}.txt, and labelmap.txt naming the classes.

Images keep their curated encoding: PNG files stay PNG (in JPEGImages/, as VOC loaders take
an image suffix), JPEG files are copied as they are, so the pixels read back are the curated
ones. labelmap.txt is Datumaro's and CVAT's `name:r,g,b::` file, row k = class k; curate's VOC
reader takes the class names from it. VOC's void value 255 reads back as the class after the
named ones, so the ignore class is written as 255 when it is the last class; any other
ignore class keeps its label (the note says how to read it back).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from curate.export import ExportPlan
from curate.export.source import (
    Source, labels, png_bytes, put_image, refuse_label_255, with_void,
)
from curate.io.contract import SPLITS

UNSPLIT = "(in no ImageSets list)"


def colour_map() -> np.ndarray:
    """(256, 3) uint8: VOC's palette, built the devkit's way (the bits of the index spread
    over the high bits of r, g and b); index 255 is the void colour (224, 224, 192)."""
    palette = np.zeros((256, 3), np.uint8)
    for index in range(256):
        code, rgb = index, [0, 0, 0]
        for bit in range(8):
            for channel in range(3):
                rgb[channel] |= ((code >> channel) & 1) << (7 - bit)
            code >>= 3
        palette[index] = rgb
    return palette


def plan(source: Source) -> ExportPlan:
    refuse_label_255(source, "VOC")
    ignore, last = source.ignore_index, source.num_classes - 1
    if ignore is None:
        return ExportPlan(None, ["No class is ignored: every label is written as it is; no "
                                 "pixel is void (255)."])
    if ignore == last:
        renamed = source.class_names[ignore].lower() != "void"
        return ExportPlan(ignore, [
            f"The ignored {source.ignored()} is written as VOC's void value 255"
            + (", which readers (curate's too) name 'void'" if renamed else "") + "."])
    return ExportPlan(None, [
        f"The ignored {source.ignored()} keeps its label {ignore}: VOC's void value 255 reads "
        f"back as the class after the named ones, so only the last class ({last}) can be "
        f"written as 255. Read the export back with --ignore-index {ignore}."])


def write(source: Source, plan: ExportPlan, folder: Path) -> None:
    for sub in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (folder / sub).mkdir(parents=True)
    palette = colour_map()
    for pair in source.pairs:
        put_image(pair, folder / "JPEGImages" / pair.id, keep_jpeg=True)
        mask = with_void(labels(pair), plan.void_class)
        (folder / "SegmentationClass" / f"{pair.id}.png").write_bytes(png_bytes(mask, palette))
    lists = {s: [p.id for p in source.pairs if p.split == s] for s in SPLITS}
    if lists["train"] or lists["val"]:
        lists["trainval"] = lists["train"] + lists["val"]
    for name, ids in lists.items():
        if ids:
            (folder / "ImageSets/Segmentation" / f"{name}.txt").write_text(
                "".join(f"{i}\n" for i in ids))
    written = [k for k in range(source.num_classes) if k != plan.void_class]
    rows = [f"{source.class_names[k]}:{','.join(map(str, palette[k]))}::" for k in written]
    (folder / "labelmap.txt").write_text("# label:color_rgb:parts:actions\n"
                                         + "\n".join(rows) + "\n")
