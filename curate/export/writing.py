"""What both labelling-tool exports write beside their files: queue.csv (the order and the
reasons) and README.md (the steps to import the queue and to bring the corrections back)."""

from __future__ import annotations

import io

import pandas as pd

from curate.export.queue import ONLY, Queue

STEPS = {
    "cvat": """\
## Import into CVAT

1. Create a task (or a project) whose labels are the rows of `labelmap.txt`, same names and
   colours (Raw labels editor: one per row; `background` is CVAT's unlabelled black).
2. Upload the images of `JPEGImages/` to it.
3. Actions > Upload annotations > format **Segmentation mask 1.1** > `annotations.zip`.
   The masks appear as one polygon/mask per class; `ImageSets/Segmentation/default.txt` and
   `queue.csv` give the order, strongest score first.
4. Correct the masks. To drop a pair instead, note its id in a decisions.csv
   (`curate review`'s columns id,decision) and pass `--decisions`.

## Bring the corrections back

Export the task as **Segmentation mask 1.1** (a zip) and give that zip, or the folder it
unpacks to, to `--mask-fixes`:

    curate outliers {data} -o {data}-fixed --mask-fixes task_export.zip

Colours are read through the export's own labelmap.txt; a colour it does not name, or a label
name this dataset does not have, is refused and nothing is written.
""",
    "labelstudio": """\
## Import into Label Studio

1. Create a project; Settings > Labeling Interface > Code: paste `label_config.xml`.
2. Import `tasks.json` (the images are inside it as data URLs: no storage to set up).
3. Settings > Annotation: turn on "Use predictions to prelabel tasks" and choose
   `current mask`, so an annotator starts from the current mask (`model prediction` is the
   model's mask, where the export was given --predictions).
4. Correct the brushes, or choose **remove** to drop the pair, and submit.

## Bring the corrections back

Export the project as **JSON** (not JSON-MIN) and give the file to `--mask-fixes`:

    curate outliers {data} -o {data}-fixed --mask-fixes project-export.json

Each class's brush layers are merged into one mask; pixels painted with two classes are
refused (with their count), and so are a label name this dataset does not have and a brush of
another image size. A task whose choice is `remove` is removed, as a `--decisions` row would.
""",
}


def queue_csv(queue: Queue) -> str:
    """rank, id, removed, flags, score, reason: one row per pair, in the export's order."""
    table = pd.DataFrame([{"rank": i.rank, "id": i.id, "removed": i.removed,
                           "flags": ";".join(i.flags), "score": round(i.score, 4),
                           "reason": i.reason} for i in queue.items])
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    return buffer.getvalue()


def readme(queue: Queue, tool: str) -> str:
    """The README of an export for `tool` (cvat or labelstudio)."""
    source = queue.source
    name = "CVAT" if tool == "cvat" else "Label Studio"
    predicted = (f" The model's masks come from {queue.predictions}." if queue.predictions
                 else "")
    return (f"# Review queue of {source.path.name} for {name}\n\n"
            f"{len(queue.items)} pairs: {ONLY[queue.only]} (`--only {queue.only}`), strongest "
            f"score first, with the reason each was flagged (queue.csv).{predicted} Classes: "
            + ", ".join(f"{k} {n}" for k, n in enumerate(source.class_names)) + ".\n\n"
            + STEPS[tool].format(data=source.path.name)
            + "\nSee docs/fixing-masks.md of curate for the whole loop.\n")
