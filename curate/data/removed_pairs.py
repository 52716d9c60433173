"""The pairs `curate outliers` removed are no longer in the folder it wrote; their pictures are
read back from the input it read (recorded in dataset.json's history, or given with --input),
with the folder's classes and label map. The review page and the review queue's export use it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from curate.errors import InputError


def removed_pairs(folder: Path, meta: dict, missing: list[str], given: Path | None = None,
                  what: str = "flagged pair(s)") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{id: (image, mask labels)} of the `missing` pairs, from `given` or the input the last
    outliers step of `meta` (the folder's dataset.json) recorded. InputError when that input
    is not found, or holds not every one of them; `what` names the pairs in the message."""
    from curate.data.readers import ReadOptions, read_dataset

    history = meta.get("history", [])
    steps = [s for s in history if s.get("command") == "outliers"]
    recorded = (steps[-1] if steps else {}).get("input", "")
    candidates = [Path(given)] if given else [Path(recorded), folder.parent / recorded]
    path = next((p for p in candidates if str(p) and p.exists()), None)
    if path is None:
        raise InputError(f"{len(missing)} {what} (e.g. {missing[0]}) were removed, so {folder} "
                         f"no longer holds their pictures, and the input "
                         f"{recorded or '(not recorded)'} is not found. Pass the input that "
                         "`curate outliers` read with --input.")
    label_map = next((s.get("options", {}).get("label_map") for s in history
                      if s.get("command") == "read"), None)
    dataset = read_dataset(path, ReadOptions(
        num_classes=int(meta["num_classes"]), class_names=list(meta["class_names"]),
        label_map={int(k): int(v) for k, v in label_map.items()} if label_map else None,
        ignore_index=meta.get("ignore_index")), only=missing)
    position = {k: n for n, k in enumerate(dataset.ids)}
    absent = [i for i in missing if i not in position]
    if absent:
        raise InputError(f"{len(absent)} {what} are neither in {folder} nor in its input "
                         f"{dataset.origin_path}: {', '.join(absent[:5])}. Pass the input that "
                         "`curate outliers` read with --input.")
    return {i: (np.asarray(dataset.images[position[i]]), np.asarray(dataset.masks[position[i]]))
            for i in missing}
