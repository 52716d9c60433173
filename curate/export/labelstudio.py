"""Label Studio: the review queue as a labelling config and a tasks file.

    label_config.xml  an Image, BrushLabels with one Label per class in our colours (the
                      ignore class has none: unpainted pixels are that class), and a
                      keep/remove Choices that comes back as a decision
    tasks.json        one task per pair, strongest score first: the image as a PNG data URL
                      (a stock server shows it without any storage set up), the pair id, rank,
                      flags and reason, the current mask as the pre-annotation 'current mask',
                      and with --predictions the model's mask as a second one
    queue.csv, README.md

The masks are brush results in Label Studio's run-length code (curate.io.brush_rle), one
result per class present.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from curate.export import ExportPlan
from curate.export.queue import Queue
from curate.export.source import png_bytes
from curate.export.writing import queue_csv, readme
from curate.io import brush_rle
from curate.ui.palette import palette

QUEUE = True
TOOL = "Label Studio"
IMAGE, BRUSH, DECISION = "image", "label", "decision"     # the config's tag names
CURRENT, PREDICTED = "current mask", "model prediction"  # the pre-annotations' model_version


def label_config(names: list[str], ignore_index: int | None) -> str:
    """The labelling config: the image, one brush label per class but the ignore class, and
    the keep/remove choice."""
    colours = palette(len(names))
    labels = "".join(
        f'    <Label value={quoteattr(n)} background="#{"".join(f"{v:02x}" for v in colours[k])}"/>\n'
        for k, n in enumerate(names) if k != ignore_index)
    return (
        "<View>\n"
        '  <Header value="#$rank $pair_id: $reason"/>\n'
        f'  <Image name="{IMAGE}" value="$image" zoom="true"/>\n'
        f'  <BrushLabels name="{BRUSH}" toName="{IMAGE}">\n{labels}  </BrushLabels>\n'
        f'  <Choices name="{DECISION}" toName="{IMAGE}" choice="single" showInline="true">\n'
        '    <Choice value="keep"/>\n    <Choice value="remove"/>\n  </Choices>\n'
        "</View>\n")


def brush_results(mask: np.ndarray, names: list[str], ignore_index: int | None,
                  prefix: str) -> list[dict]:
    """One brushlabels result per class present in the (H, W) mask (not the ignore class)."""
    height, width = mask.shape
    return [{"id": f"{prefix}{k}", "from_name": BRUSH, "to_name": IMAGE, "type": "brushlabels",
             "original_width": width, "original_height": height, "image_rotation": 0,
             "value": {"format": "rle", "rle": brush_rle.encode(mask == k),
                       "brushlabels": [names[k]]}}
            for k in np.unique(mask).tolist() if k != ignore_index and k < len(names)]


def plan(queue: Queue) -> ExportPlan:
    source = queue.source
    notes = ["Images travel inside tasks.json as PNG data URLs: import it into any Label "
             "Studio project, no storage to set up."]
    if source.ignore_index is not None:
        notes.append(f"The ignored {source.ignored()} has no brush: pixels nobody paints come "
                     "back as it.")
    else:
        notes.append("No class is ignored: every pixel needs a brush, and unpainted pixels are "
                     "refused when the masks come back.")
    return ExportPlan(None, notes)


def write(queue: Queue, plan: ExportPlan, folder: Path) -> None:
    source = queue.source
    names, ignore = source.class_names, source.ignore_index
    tasks = []
    for item in queue.items:
        predictions = [{"model_version": CURRENT, "score": item.score,
                        "result": brush_results(item.mask, names, ignore, "current-")}]
        if item.predicted is not None:
            predictions.append({"model_version": PREDICTED, "score": item.score,
                                "result": brush_results(item.predicted, names, ignore,
                                                        "predicted-")})
        uri = "data:image/png;base64," + base64.b64encode(png_bytes(item.image)).decode()
        tasks.append({"data": {IMAGE: uri, "pair_id": item.id, "rank": item.rank,
                               "flags": ";".join(item.flags), "reason": item.reason,
                               "removed": item.removed},
                      "predictions": predictions})
    (folder / "label_config.xml").write_text(label_config(names, ignore))
    (folder / "tasks.json").write_text(json.dumps(tasks))
    (folder / "queue.csv").write_text(queue_csv(queue))
    (folder / "README.md").write_text(readme(queue, "labelstudio"))
