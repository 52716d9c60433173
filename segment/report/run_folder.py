"""What a training run folder holds, read once: config, per-epoch history, best epoch, scores
and class names from the files `segment train` and `segment evaluate` wrote (the checkpoint fills
gaps)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from segment.model import checkpoints
from segment.data.folder import SPLITS
from segment.errors import InputError


@dataclass
class RunFacts:
    """The files of one run folder, read once; None where a file is absent."""

    root: Path
    config: dict[str, Any] | None
    history: list[dict[str, Any]]
    best: dict[str, Any] | None  # epoch and best_metric of best.pt
    scores: list[tuple[str, str, dict]] = field(default_factory=list)  # (split, file, scores)
    class_names: list[str] = field(default_factory=list)
    ignore_index: int | None = None

    def png(self, name: str) -> bytes | None:
        path = self.root / name
        return path.read_bytes() if path.is_file() else None

    def checkpoint(self) -> Path | None:
        return next((self.root / n for n in ("best.pt", "last.pt") if (self.root / n).is_file()),
                    None)


def read_json(path: Path) -> dict | None:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not valid JSON: {exc}") from exc


def _read_history(path: Path) -> list[dict[str, Any]] | None:
    if not path.is_file():
        return None
    frame = pd.read_csv(path)
    return [{k: (None if pd.isna(v) else v) for k, v in row.items()}
            for row in frame.to_dict("records")]


def _scores(root: Path) -> list[tuple[str, str, dict]]:
    """val_scores.json (train, best epoch) first, then scores_<split>.json (evaluate)."""
    found = []
    for split, name in [("val", "val_scores.json")] + [(s, f"scores_{s}.json") for s in SPLITS]:
        data = read_json(root / name)
        if data is not None:
            found.append((split, name, data))
    return found


def collect_run(run: str | Path) -> RunFacts:
    """Read a run folder written by `segment train` (and `segment evaluate`)."""
    root = Path(run)
    if not root.is_dir():
        raise InputError(f"run folder {root} does not exist")
    ckpt = next((root / n for n in ("best.pt", "last.pt") if (root / n).is_file()), None)
    config = read_json(root / "config.json")
    history = _read_history(root / "metrics.csv")
    if ckpt is None and config is None and history is None:
        raise InputError(f"{root} is not a run folder: it has none of best.pt, last.pt, "
                         "config.json, metrics.csv; expected the --out folder of `segment train`")
    saved = checkpoints.load_checkpoint(ckpt) if ckpt is not None else None
    # The checkpoint embeds config and history too; the files win, the checkpoint fills gaps.
    config = config or (saved.config if saved else None)
    history = history if history is not None else list(saved.history) if saved else []
    best = ({"epoch": saved.epoch, "best_metric": saved.best_metric, "file": ckpt.name}
            if saved and ckpt.name == "best.pt" else None)
    scores = _scores(root)
    names = (list(saved.meta.class_names) if saved
             else list(scores[0][2]["per_class"]) if scores else [])
    ignore = saved.meta.ignore_index if saved else (config or {}).get("ignore_index")
    return RunFacts(root, config, history, best, scores, names, ignore)
