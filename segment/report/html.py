"""A static, single-file HTML report of a training run folder (images embedded as data URIs).

The sections read what `segment train` and `segment evaluate` wrote into the run folder; the
HTML building blocks are in html_page.
"""

from __future__ import annotations

import base64
import io
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from curate.io.html_page import RUN_CSS, esc, figure, numbers, page, paragraph, table
from curate.io.outputs import guard_output, write_file
from curate.io.palette import palette
from segment import __version__
from segment.model import checkpoints
from segment import plots
from segment.data.folder import SPLITS, load_dataset, read_image, read_mask, split_command, split_rows
from segment.errors import ConfigError, InputError
from segment.evaluation.predict import predict_masks

# Section ids are stable: tests and links rely on them.
SECTION_IDS = ("summary", "config", "learning", "scores", "confusion", "rare-errors",
               "predictions")
# Config fields shown in the summary; the config section lists every field.
KEY_FIELDS = ("data", "epochs", "batch_size", "lr", "scheduler", "loss", "class_weights",
              "depth", "base_width", "augment", "seed", "device", "amp", "threads")
SHEET_COUNT = 12  # images predicted for the overlay sheet with --data: enough to eyeball
REPORT_SUFFIXES = (".html", ".htm")

# --- what the run folder holds ---------------------------------------------------------------

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


def _read_json(path: Path) -> dict | None:
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
        data = _read_json(root / name)
        if data is not None:
            found.append((split, name, data))
    return found


def collect_run(run: str | Path) -> RunFacts:
    """Read a run folder written by `segment train` (and `segment evaluate`)."""
    root = Path(run)
    if not root.is_dir():
        raise InputError(f"run folder {root} does not exist")
    ckpt = next((root / n for n in ("best.pt", "last.pt") if (root / n).is_file()), None)
    config = _read_json(root / "config.json")
    history = _read_history(root / "metrics.csv")
    if ckpt is None and config is None and history is None:
        raise InputError(f"{root} is not a run folder: it has none of best.pt, last.pt, "
                         "config.json, metrics.csv; expected the --out folder of `segment train`")
    state = checkpoints.load_checkpoint(ckpt) if ckpt is not None else None
    # The checkpoint embeds config and history too; the files win, the checkpoint fills gaps.
    config = config or (state["config"] if state else None)
    history = history if history is not None else list(state["history"]) if state else []
    best = ({"epoch": state["epoch"], "best_metric": state["best_metric"], "file": ckpt.name}
            if state and ckpt.name == "best.pt" else None)
    scores = _scores(root)
    names = (list(state["class_names"]) if state
             else list(scores[0][2]["per_class"]) if scores else [])
    ignore = state.get("ignore_index") if state else (config or {}).get("ignore_index")
    return RunFacts(root, config, history, best, scores, names, ignore)


# --- sections --------------------------------------------------------------------------------

def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return str(value)


def _render_png(draw) -> bytes:
    """PNG bytes of draw(path), for the plot functions that write a file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "figure.png"
        draw(path)
        return path.read_bytes()


def _trim(png: bytes, margin: int) -> bytes:
    """Cut the white gap that contact_sheet leaves after the last column and row."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        out = io.BytesIO()
        im.crop((0, 0, im.width - margin, im.height - margin)).save(out, format="PNG")
    return out.getvalue()


def _config_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _settings_table(items: list[tuple[str, Any]], table_id: str, per_row: int = 3) -> str:
    """(name, value) pairs, `per_row` pairs side by side so long configs stay short."""
    rows = []
    for start in range(0, len(items), per_row):
        row = [cell for k, v in items[start:start + per_row] for cell in (k, _config_value(v))]
        rows.append(row + [""] * (2 * per_row - len(row)))
    return table(["setting", "value"] * per_row, rows, tuple(range(2 * per_row)), table_id)


def summary_section(facts: RunFacts) -> str:
    cfg, hist = facts.config or {}, facts.history
    best_epoch = facts.best["epoch"] if facts.best else "not available"
    best_miou = _fmt(facts.best["best_metric"]) if facts.best else "not available"
    wall = sum(float(r.get("seconds") or 0) for r in hist)
    boxes = [("best epoch", best_epoch), ("best val mean IoU", best_miou),
             ("epochs run", f"{len(hist)} of {cfg.get('epochs', '?')}"),
             ("epoch time", f"{wall:.{0 if wall >= 10 else 1}f} s" if hist else "not logged"),
             ("parameters", cfg.get("parameters", "not logged"))]
    items = [(k, cfg[k]) for k in KEY_FIELDS if k in cfg]
    notes = ("Epoch time is the sum of the per-epoch seconds in metrics.csv (training and "
             "validation; not data loading or the final plots). The stop reason and the device "
             "that --device auto resolved to are not logged by segment train.")
    return (numbers(boxes)
            # No run folder path here: the report must not change when the folder is moved.
            + _settings_table(items, "key-config")
            + paragraph(notes))


def config_section(facts: RunFacts) -> str:
    if facts.config is None:
        return paragraph("Configuration: not available (no config.json or checkpoint).",
                         "missing")
    return (paragraph("Every field of config.json (the TrainConfig of the run, plus the "
                      "parameter count); `segment train` flags map one to one onto them.")
            + _settings_table(list(facts.config.items()), "config-table"))


def _column_title(column: str, names: list[str]) -> str:
    if column.startswith("val_iou_") and column[8:].isdigit() and int(column[8:]) < len(names):
        return f"val IoU {names[int(column[8:])]}"
    return column.replace("_", " ")


def learning_section(facts: RunFacts) -> str:
    png, caption = facts.png("learning_curve.png"), "learning_curve.png, written by segment train"
    if png is None and facts.history:
        # learning_curve.png appears only when training finishes; draw a running one.
        png = _render_png(lambda path: plots.learning_curve(facts.history, path))
        caption = "drawn from metrics.csv (learning_curve.png is written when training finishes)"
    parts = [figure(png, "learning curves",
                    f"Training loss and validation mean IoU per epoch ({caption})",
                    "img-learning-curve")]
    if not facts.history:
        return "".join(parts) + paragraph("Per-epoch log: not available (no metrics.csv).",
                                          "missing")
    columns = list(facts.history[0])
    rows = [[_fmt(r.get(c), 6 if c != "seconds" else 2) for c in columns] for r in facts.history]
    best = frozenset(n for n, r in enumerate(facts.history)
                     if facts.best and r.get("epoch") == facts.best["epoch"])
    parts.append(table([_column_title(c, facts.class_names) for c in columns], rows,
                       table_id="epoch-table", highlight=best))
    return "".join(parts)


def _scores_table(split: str, scores: dict) -> str:
    rows = [[name, *(_fmt(s[m]) for m in ("precision", "recall", "f1", "iou")), s["support"],
             "yes" if s["scored"] else "no"] for name, s in scores["per_class"].items()]
    return table(["class", "precision", "recall", "F1", "IoU", "pixels", "in mean"], rows, (0,),
                 f"scores-{split}")


def scores_section(facts: RunFacts) -> str:
    if not facts.scores:
        return paragraph("Scores: not available (no val_scores.json or scores_<split>.json; "
                         "run `segment evaluate RUN/best.pt DATA --split test`).", "missing")
    parts = []
    for split, name, s in facts.scores:
        source = ("segment train, best checkpoint" if name == "val_scores.json"
                  else f"segment evaluate {Path(s.get('checkpoint', '?')).name}")
        parts.append(f"<h3>{esc(split)} split ({esc(name)})</h3>")
        parts.append(paragraph(f"Mean IoU {_fmt(s['mean_iou'])} over "
                               f"{', '.join(s['scored_classes'])}; epoch {s.get('epoch', '?')}; "
                               f"from {source}."))
        parts.append(_scores_table(split if name != "val_scores.json" else "val-train", s))
    return "".join(parts)


def confusion_section(facts: RunFacts) -> str:
    figures = [figure(facts.png(f"confusion_{s}.png"), f"confusion matrix, {s} split",
                      f"confusion_{s}.png (rows: true class, row-normalised)", f"img-confusion-{s}")
               for s in SPLITS if (facts.root / f"confusion_{s}.png").is_file()]
    if not figures:
        return paragraph("Confusion matrices: not available (no confusion_<split>.png).",
                         "missing")
    return f'<div class="figures">{"".join(figures)}</div>'


RARE_ROWS = 10  # rows of each rare_errors_<split>.csv shown in the report (the file has all)


def _csv_link(path: Path) -> str:
    """A download link that carries the CSV itself, so the report stays one file."""
    uri = "data:text/csv;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<a id="link-{esc(path.stem)}" download="{esc(path.name)}" href="{uri}">{esc(path.name)}</a>'


def _rare_split(facts: RunFacts, split: str) -> str:
    path = facts.root / f"rare_errors_{split}.csv"
    table_ = pd.read_csv(path, dtype={"id": str}, keep_default_na=False, na_values={"iou": [""]})
    scores = _read_json(facts.root / f"scores_{split}.json") or {}
    name = scores.get("rare_class_name", "the rare class")
    k = scores.get("rare_class", "?")
    holding = int((table_["true_pixels"] > 0).sum())
    wrong = int((table_["error_pixels"] > 0).sum())
    text = (f"Class {k} ({name}) on the {split} split: {holding} of {len(table_)} images hold it; "
            f"{wrong} images have errors: {int(table_['false_positive_pixels'].sum()):,} false-"
            f"positive pixels (predicted {name} on another labelled class) and "
            f"{int(table_['missed_pixels'].sum()):,} missed pixels of "
            f"{int(table_['true_pixels'].sum()):,}. Worst {min(RARE_ROWS, len(table_))} images "
            "below; the whole per-image table: ")
    rows = [[r[c] if c == "id" else _fmt(None if pd.isna(r[c]) else r[c]) for c in table_.columns]
            for r in table_.head(RARE_ROWS).to_dict("records")]
    sheet = facts.png(f"rare_errors_{split}.png")
    caption = (f"rare_errors_{split}.png: the worst images; per row the image, true mask, "
               f"predicted mask, and the errors of class {k} ({name}): hits bluish green, false "
               "positives vermillion, misses blue")
    shown = (figure(sheet, f"rare-class errors, {split} split", caption, f"img-rare-{split}",
                    "pixels") if sheet is not None and wrong else
             paragraph(f"No {split} image has an error of class {k}, so there is no sheet."))
    return (f"<h3>{esc(split)} split</h3><p>{esc(text)}{_csv_link(path)}.</p>"
            + table([c.replace("_", " ") for c in table_.columns], rows, (0,), f"rare-table-{split}")
            + shown)


def rare_errors_section(facts: RunFacts) -> str:
    splits = [s for s in (*SPLITS, "all") if (facts.root / f"rare_errors_{s}.csv").is_file()]
    if not splits:
        return paragraph("Rare-class errors: not available (no rare_errors_<split>.csv; run "
                         "`segment evaluate RUN/best.pt DATA --split test`, optionally with "
                         "--class K).", "missing", "rare-errors-missing")
    return "".join(_rare_split(facts, s) for s in splits)


def _legend(names: list[str], ignore_index: int | None = None) -> str:
    """Class colour swatches, in the palette of the overlays; the ignore class hatched grey."""
    colours = palette(len(names))

    def swatch(c: int) -> str:
        if c == ignore_index:
            return ('<span class="swatch" style="background: repeating-linear-gradient(45deg, '
                    '#808080 0 1px, #e0e0e0 1px 5px)"></span>')
        rgb = "".join(f"{v:02x}" for v in colours[c])
        return f'<span class="swatch" style="background:#{rgb}"></span>'
    items = "".join(f"{swatch(c)}{esc(c)} {esc(n)}" + (" (ignored)" if c == ignore_index else "")
                    for c, n in enumerate(names))
    return f'<p id="legend">Colours:{items}</p>'


def predictions_section(facts: RunFacts, sheet: tuple[bytes, str] | None) -> str:
    legend = _legend(facts.class_names, facts.ignore_index) if facts.class_names else ""
    if sheet is not None:
        png, caption = sheet
        return legend + figure(png, "prediction overlays", caption, "img-predictions", "pixels")
    found = sorted(facts.root.glob("contact_sheet.png")) + sorted(facts.root.glob("*/contact_sheet.png"))
    if found:
        rel = found[0].relative_to(facts.root).as_posix()
        return legend + figure(found[0].read_bytes(), "prediction overlays",
                               f"Overlay sheet found in the run folder ({rel}, written by "
                               "segment predict)", "img-predictions", "pixels")
    return paragraph("Prediction overlays: not available (pass --data DATASET to predict a few "
                     "val/test images, or run `segment predict RUN/best.pt DATA -o RUN/pred`).",
                     "missing", "predictions-missing")


# --- predictions with --data -----------------------------------------------------------------

def _pick_split(info, split: str | None) -> str:
    if split is not None:
        split_rows(info, split)  # raises with the fix when the split is empty
        return split
    present = set(info.manifest["split"]) if "split" in info.manifest.columns else set()
    for name in ("test", "val"):
        if name in present:
            return name
    raise InputError(f"{info.root} has no test or val rows to predict; pass --split or "
                     f"{split_command(info.root)}")


def prediction_sheet(checkpoint: Path, data: str | Path, split: str | None = None,
                     count: int = SHEET_COUNT, device: str = "cpu") -> tuple[bytes, str]:
    """PNG bytes of (truth overlay | prediction overlay) tiles for the first `count` images."""
    state = checkpoints.load_checkpoint(checkpoint)
    info = load_dataset(data)
    if info.num_classes != state["num_classes"]:
        raise InputError(f"{data} has {info.num_classes} classes but the checkpoint was trained "
                         f"on {state['num_classes']} ({', '.join(state['class_names'])})")
    split = _pick_split(info, split)
    rows = split_rows(info, split).head(count)
    mode = "L" if state["spec"]["in_channels"] == 1 else "RGB"
    images = [read_image(info.root / p, mode) for p in rows["image"]]
    truths = [read_mask(info.root / p) for p in rows["mask"]]
    preds = predict_masks(state, images, device)
    shape = images[0].shape  # the contact sheet needs one tile size
    tiles = []
    ignore = state.get("ignore_index")
    for img, truth, pred in zip(images, truths, preds):
        if img.shape == shape:
            gap = np.full((shape[1], 4, 3), 255, np.uint8)  # (H, 4, 3) white divider
            tiles.append(np.concatenate([plots.overlay(img, truth, ignore_index=ignore), gap,
                                         plots.overlay(img, pred, ignore_index=ignore)], 1))
    png = _trim(_render_png(lambda path: plots.contact_sheet(tiles, path, columns=2, gap=16)), 16)
    caption = (f"First {len(tiles)} {split} images of {info.root.name}, predicted with "
               f"{checkpoint.name} (epoch {state['epoch']}): ground truth left, prediction right")
    if state.get("ignore_index") is not None:
        caption += (f"; grey hatching marks the ignore class "
                    f"({state['class_names'][state['ignore_index']]})")
    return png, caption


# --- the report ------------------------------------------------------------------------------

def render_report(run: str | Path, data: str | Path | None = None, split: str | None = None,
                  device: str = "cpu", title: str | None = None) -> str:
    """The whole report as one HTML string; deterministic for the same run folder and data."""
    facts = collect_run(run)
    sheet = None
    if data is not None:
        ckpt = facts.checkpoint()
        if ckpt is None:
            raise InputError(f"{facts.root} has no best.pt or last.pt to predict with")
        sheet = prediction_sheet(ckpt, data, split, device=device)
    sections = [
        ("summary", "Summary", summary_section(facts)),
        ("config", "Configuration", config_section(facts)),
        ("learning", "Learning curves", learning_section(facts)),
        ("scores", "Scores", scores_section(facts)),
        ("confusion", "Confusion matrices", confusion_section(facts)),
        ("rare-errors", "Rare-class errors", rare_errors_section(facts)),
        ("predictions", "Predictions", predictions_section(facts, sheet)),
    ]
    name = facts.root.resolve().name
    return page(title or f"Training run {name} (segment {__version__})", sections, RUN_CSS)


def run_inputs(run: str | Path) -> list[Path]:
    """The files of a run folder the report reads: every file but the HTML reports, so a
    report may go into the run folder (an output) but never over its checkpoints or logs."""
    root = Path(run)
    if not root.is_dir():
        return [root]
    return [f for f in sorted(root.iterdir()) if f.suffix.lower() not in REPORT_SUFFIXES]


def check_report_path(out: Path, force: bool, data: str | Path | None,
                      run: str | Path | None = None) -> None:
    """The report may go inside the run folder (an output), never over, into or around an
    input: the dataset or the run's own files."""
    guard_output(out, [data, *(run_inputs(run) if run is not None else [])], force,
                 what="report")
    if out.suffix.lower() not in REPORT_SUFFIXES:
        raise ConfigError(f"report path {out} must end in .html or .htm (so it can never "
                          "replace a checkpoint or log); e.g. RUN/report.html")


def _write_readable(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o644)  # the temp file is 0600 (mkstemp); a report is meant to be shared


def write_report(run: str | Path, out: str | Path, data: str | Path | None = None,
                 split: str | None = None, device: str = "cpu", force: bool = False) -> Path:
    """Render the report and write it atomically to `out`; refuse to overwrite without force."""
    out = Path(out)
    check_report_path(out, force, data, run)
    text = render_report(run, data, split, device)
    write_file(out, lambda p: _write_readable(p, text))
    return out
