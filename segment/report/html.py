"""A static, single-file HTML report of a training run folder (images embedded as data URIs).

The sections read what `segment train` and `segment evaluate` wrote into the run folder
(run_folder.py reads it, sections.py builds the sections, overlays.py predicts the overlay
sheet with DATA); the HTML building blocks are in html_page.
"""

from __future__ import annotations

from pathlib import Path

from curate.ui.html_page import RUN_CSS, page
from curate.io.outputs import guard_output, write_file
from segment import __version__
from segment.errors import ConfigError, InputError
from segment.report.overlays import prediction_sheet
from segment.report.run_folder import collect_run
from segment.report.sections import (
    confusion_section, config_section, learning_section, predictions_section,
    rare_errors_section, scores_section, summary_section,
)

# Section ids are stable: tests and links rely on them.
SECTION_IDS = ("summary", "config", "learning", "scores", "confusion", "rare-errors",
               "predictions")
REPORT_SUFFIXES = (".html", ".htm")


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
