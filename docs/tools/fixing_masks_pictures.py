"""Draw the pictures of docs/fixing-masks.md from the bundled sample: the first pairs of the
review queue as Label Studio gets them (image, current mask), and one pair before and after a
correction brought back with --mask-fixes (a block repainted as bedrock, as an annotator
would in the tool).

    python docs/tools/fixing_masks_pictures.py   # writes docs/img/fixing_masks_*.png
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from curate.cli import app
from curate.export.labelstudio import brush_results
from curate.io.image_files import read_image, read_mask
from curate.ui.plots import class_legend, contact_sheet, pair_tile

ROOT = Path(__file__).resolve().parents[2]
IMG = ROOT / "docs" / "img"


def run(*args: str) -> None:
    result = CliRunner().invoke(app, list(args))
    if result.exit_code:
        raise SystemExit(result.output)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run("outliers", str(ROOT / "curate/samples/mars300.npz"), "-o", str(tmp / "curated"))
        run("export", str(tmp / "curated"), "-o", str(tmp / "ls"), "--to", "labelstudio")
        meta = json.loads((tmp / "curated/dataset.json").read_text())
        names, ignore, k = meta["class_names"], meta["ignore_index"], meta["num_classes"]
        tasks = json.loads((tmp / "ls/tasks.json").read_text())
        first = tasks[0]["data"]["pair_id"]
        image = read_image(tmp / "curated/images" / f"{first}.png")
        before = read_mask(tmp / "curated/masks" / f"{first}.png")
        after = before.copy()
        after[4:20, 8:40] = names.index("bedrock")
        tasks[0]["annotations"] = [{"id": 1, "completed_by": 1, "result": brush_results(
            after, names, ignore, "a"), "updated_at": "2026-01-02T03:04:05Z"}]
        (tmp / "export.json").write_text(json.dumps([dict(tasks[0], id=1)]))
        run("outliers", str(tmp / "curated"), "-o", str(tmp / "fixed"), "--mask-fixes",
            str(tmp / "export.json"))
        fixed = read_mask(tmp / "fixed/masks" / f"{first}.png")
        legend = class_legend(names, ignore)
        queue = [(pair_tile(read_image(tmp / "curated/images" / f"{t['data']['pair_id']}.png"),
                            read_mask(tmp / "curated/masks" / f"{t['data']['pair_id']}.png"),
                            k, ignore_index=ignore),
                  f"#{t['data']['rank']} {t['data']['flags']}") for t in tasks[:6]]
        (IMG / "fixing_masks_queue.png").write_bytes(contact_sheet(
            queue, "curate export --to labelstudio: the queue, strongest score first",
            legend=legend))
        (IMG / "fixing_masks_before_after.png").write_bytes(contact_sheet(
            [(pair_tile(image, before, k, ignore_index=ignore), f"{first}: before"),
             (pair_tile(image, fixed, k, ignore_index=ignore),
              f"after --mask-fixes: {int((fixed != before).sum())} pixels changed")],
            "A mask corrected in Label Studio, back in the curated folder", columns=2,
            legend=legend))


if __name__ == "__main__":
    main()
