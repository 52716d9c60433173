"""The sections of the training-run report, each an HTML fragment built from a RunFacts (the
run folder's files): summary, configuration, learning curves, scores, confusion matrices,
rare-class errors and prediction overlays."""

from __future__ import annotations

import base64
import json
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from curate.ui.html_page import esc, figure, numbers, paragraph, table
from curate.ui.palette import palette
from segment import plots
from segment.data.folder import SPLITS
from segment.report.run_folder import RunFacts, read_json

# Config fields shown in the summary; the config section lists every field.
KEY_FIELDS = ("data", "epochs", "batch_size", "lr", "scheduler", "loss", "class_weights",
              "depth", "base_width", "augment", "seed", "device", "amp", "threads")


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return str(value)


def render_png(draw) -> bytes:
    """PNG bytes of draw(path), for the plot functions that write a file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "figure.png"
        draw(path)
        return path.read_bytes()


def _config_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _settings_table(items: list[tuple[str, Any]], table_id: str, per_row: int = 3) -> str:
    """(name, value) pairs, `per_row` pairs side by side so long configs stay short."""
    rows = []
    for start in range(0, len(items), per_row):
        row = [cell for k, v in items[start:start + per_row] for cell in (k, _config_value(v))]
        rows.append(row + [""] * (2 * per_row - len(row)))
    return table(["setting", "value"] * per_row, rows, tuple(range(2 * per_row)), table_id)


def _ran(cfg: dict[str, Any]) -> list[tuple[str, Any]]:
    """device and amp as they ran (config.json's device_used / amp_used), beside what was asked."""
    if "device_used" not in cfg:  # runs written before these were logged
        return [("device", f"{cfg.get('device', '?')} (the device it ran on is not logged)"),
                ("amp", f"{_on(cfg.get('amp'))} asked (whether it ran is not logged)")]
    device = cfg["device_used"] + (f" (--device {cfg['device']})" if cfg.get("device") == "auto"
                                   else "")
    amp = _on(cfg["amp_used"]) + (" (asked on; AMP runs on CUDA only)"
                                  if cfg.get("amp") and not cfg["amp_used"] else "")
    return [("device", device), ("amp", amp)]


def _on(value: Any) -> str:
    return "?" if value is None else "on" if value else "off"


def _seconds(value: float) -> str:
    return f"{value:.{0 if value >= 10 else 1}f} s"


def summary_section(facts: RunFacts) -> str:
    cfg, hist = facts.config or {}, facts.history
    best_epoch = facts.best["epoch"] if facts.best else "not available"
    best_miou = _fmt(facts.best["best_metric"]) if facts.best else "not available"
    wall = sum(float(r.get("seconds") or 0) for r in hist)
    boxes = [("best epoch", best_epoch), ("best val mean IoU", best_miou),
             ("epochs run", f"{len(hist)} of {cfg.get('epochs', '?')}"),
             ("time in epochs", f"{_seconds(wall)} total, {_seconds(wall / len(hist))} per epoch"
              if hist else "not logged"),
             ("parameters", cfg.get("parameters", "not logged"))]
    items = [(k, cfg[k]) for k in KEY_FIELDS if k in cfg and k not in ("device", "amp")]
    items += _ran(cfg) if cfg else []
    notes = ("Time in epochs is the sum of the per-epoch seconds in metrics.csv (training and "
             "validation; not data loading or the final plots), and its mean per epoch. The "
             "device and AMP are those the run used. The stop reason is not logged by segment "
             "train.")
    return (numbers(boxes)
            # No run folder path here: the report must not change when the folder is moved.
            + _settings_table(items, "key-config")
            + paragraph(notes))


def config_section(facts: RunFacts) -> str:
    if facts.config is None:
        return paragraph("Configuration: not available (no config.json or checkpoint).",
                         "missing")
    return (paragraph("Every field of config.json (the TrainConfig of the run, plus the "
                      "parameter count); `segment train` reaches each with --set KEY=VALUE, the everyday "
                      "ones with a flag of their own.")
            + _settings_table(list(facts.config.items()), "config-table"))


def _column_title(column: str, names: list[str]) -> str:
    if column.startswith("val_iou_") and column[8:].isdigit() and int(column[8:]) < len(names):
        return f"val IoU {names[int(column[8:])]}"
    return column.replace("_", " ")


def learning_section(facts: RunFacts) -> str:
    png, caption = facts.png("learning_curve.png"), "learning_curve.png, written by segment train"
    if png is None and facts.history:
        # learning_curve.png appears only when training finishes; draw a running one.
        png = render_png(lambda path: plots.learning_curve(facts.history, path))
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
    scores = read_json(facts.root / f"scores_{split}.json") or {}
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
    return paragraph("Prediction overlays: not available (pass DATA to predict a few "
                     "val/test images, or run `segment predict RUN/best.pt DATA -o RUN/pred`).",
                     "missing", "predictions-missing")
