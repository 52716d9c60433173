"""Write a benchmark's current table into docs/results/<name>.md.

Each page holds only the latest measurement: the date, the machine, the commit and the exact
command, then the table. Git keeps the older pages.
    from results import write_table
    write_table("split", "Stratified split", ["", "curate split"], rows, command)
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results"


def machine() -> str:
    """CPU model and core count, GPU if torch sees one, and the load at the time."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    parts = [f"{cpu}, {os.cpu_count()} cores"]
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        if torch.cuda.is_available():
            parts.append(torch.cuda.get_device_name(0))
    if hasattr(os, "getloadavg"):
        parts.append(f"load {os.getloadavg()[0]:.1f}")
    return "; ".join(parts)


def commit() -> str:
    """The short commit hash, with `+changes` when the work tree differs from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=False).stdout.strip()
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def _cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A markdown table of `rows` under `header` (for a second table in a page's notes)."""
    return "\n".join(["| " + " | ".join(map(_cell, header)) + " |",
                      "| " + " | ".join("---" for _ in header) + " |",
                      *("| " + " | ".join(map(_cell, row)) + " |" for row in rows)])


def write_table(name: str, title: str, header: list[str], rows: list[list], command: str | None = None,
                notes: str = "") -> Path:
    """Write docs/results/<name>.md with the table and how it was measured; return the path.

    `command` defaults to the command line this process was started with. The page is
    written to a temporary name and renamed, so a reader never sees half a page.
    """
    if not rows or any(len(row) != len(header) for row in rows):
        raise ValueError(f"every row needs {len(header)} cells, one per header column")
    command = command or " ".join(["python", *map(shlex.quote, sys.argv)])
    lines = [
        f"# {title}",
        "",
        f"- date: {_dt.date.today().isoformat()}",
        f"- machine: {machine()}",
        f"- commit: {commit()}",
        f"- command: `{command}`",
        "",
        markdown_table(header, rows),
        "",
    ]
    if notes:
        lines += [notes.strip(), ""]
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.md"
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text("\n".join(lines), encoding="utf-8")
    temp.replace(path)
    return path
