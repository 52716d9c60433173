"""Dependencies declared exactly as used: every third-party module that curate/ or segment/
imports is a runtime dependency in pyproject.toml, and every runtime dependency is imported.
(scikit-learn once slipped into a check while declared only for tests.)"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# distribution name -> the module it is imported as, where the two differ
MODULE_OF = {"pillow": "PIL", "opencv-python-headless": "cv2", "dask[distributed]": "distributed",
             "scikit-learn": "sklearn"}


def imported_modules() -> dict[str, set[str]]:
    """Top-level module -> the files of curate/ and segment/ that import it."""
    found: dict[str, set[str]] = {}
    for package in ("curate", "segment"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], set()).add(
                        str(path.relative_to(ROOT)))
    return found


def declared_modules() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = set()
    # The formats extra holds the readers of downloaded layouts, imported only when one is read
    # (curate.io.layouts names the pip command when it is missing).
    for requirement in project["dependencies"] + project["optional-dependencies"]["formats"]:
        distribution = re.split(r"[<>=!~ ;]", requirement, maxsplit=1)[0].strip()
        names.add(MODULE_OF.get(distribution, distribution.split("[")[0]))
    return names


def test_runtime_imports_are_exactly_the_declared_dependencies():
    used = {name: files for name, files in imported_modules().items()
            if name not in sys.stdlib_module_names and name not in ("curate", "segment")}
    declared = declared_modules()
    undeclared = {name: sorted(files) for name, files in used.items()
                  if name not in declared and not (name == "dask" and "distributed" in declared)}
    assert not undeclared, f"imported at run time but not a dependency: {undeclared}"
    unused = declared - set(used)
    assert not unused, f"declared but never imported by curate/ or segment/: {sorted(unused)}"
