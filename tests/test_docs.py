"""The docs stay true: links resolve, runnable blocks run, generated pages are current.

A fenced block runs when its info string carries the word `run`:
  ```python run        executed as a script
  ```console run       every `$ ` line executed by bash, in order (output lines are not compared)
The blocks of one page run in order in one fresh folder (a walk-through may build on its earlier
blocks), where `curate/samples` points at the bundled sample, so paths read as they do from the
repository root. Add `slow` (```console run slow) to a block of a page that takes more than a
few seconds; the fast lane (-m "not slow") then skips that page.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```", re.M | re.S)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HTML_SRC = re.compile(r"<img[^>]*\ssrc=\"([^\"]+)\"")


def _without_code(text: str) -> str:
    """The page with fenced blocks and inline code taken out (links there are examples)."""
    text = FENCE.sub("", text)
    return re.sub(r"`[^`\n]*`", "", text)


def _links(page: Path) -> list[str]:
    text = _without_code(page.read_text(encoding="utf-8"))
    return LINK.findall(text) + HTML_SRC.findall(text)


def _runnable() -> list:
    """One test per page with `run` blocks: its blocks run in order, in one folder."""
    pages = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        blocks, slow = [], False
        for match in FENCE.finditer(text):
            words = match.group(1).split()
            if "run" not in words[1:]:
                continue
            line = text[: match.start()].count("\n") + 1
            blocks.append((words[0], match.group(2), line))
            slow = slow or "slow" in words
        if blocks:
            marks = [pytest.mark.slow] if slow else []
            pages.append(pytest.param(blocks, id=str(page.relative_to(ROOT)), marks=marks))
    return pages


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["NO_ALBUMENTATIONS_UPDATE"] = "1"
    env.setdefault("COLUMNS", "100")
    return env


def _commands(console: str) -> str:
    """The `$ ` lines of a console block (with `\\` continuations) as one bash script."""
    lines, keep = [], False
    for line in console.splitlines():
        if line.startswith("$ "):
            lines.append(line[2:])
            keep = line.endswith("\\")
        elif keep:
            lines.append(line)
            keep = line.endswith("\\")
    # `curate` and `segment` are the console scripts; run them with this interpreter
    script = "\n".join(lines)
    prelude = (f'curate() {{ "{sys.executable}" -c "from curate.cli.main import app; app()" "$@"; }}\n'
               f'segment() {{ "{sys.executable}" -m segment "$@"; }}\n')
    return "set -euo pipefail\n" + prelude + script + "\n"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_and_images_resolve(page):
    missing = []
    for target in _links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue
        path = (page.parent / target.split("#", 1)[0]).resolve()
        if not path.exists():
            missing.append(target)
    assert not missing, f"{page.relative_to(ROOT)} links to files that do not exist: {missing}"


def test_docs_have_runnable_blocks():
    kinds = {kind for param in _runnable() for kind, _, _ in param.values[0]}
    assert {"python", "console"} <= kinds, "the API example and the README tour must be marked `run`"


@pytest.mark.parametrize("blocks", _runnable())
def test_runnable_blocks_exit_0(blocks, tmp_path):
    (tmp_path / "curate").mkdir()
    (tmp_path / "curate" / "samples").symlink_to(ROOT / "curate" / "samples")
    for kind, code, line in blocks:
        if kind == "python":
            command = [sys.executable, "-c", code]
        elif kind == "console":
            command = ["bash", "-c", _commands(code)]
        elif kind in ("sh", "bash"):
            command = ["bash", "-c", "set -euo pipefail\n" + code]
        else:
            pytest.fail(f"line {line}: a `run` block must be python, console, sh or bash, not {kind!r}")
        done = subprocess.run(command, cwd=tmp_path, env=_env(), capture_output=True, text=True,
                              timeout=900)
        assert done.returncode == 0, (f"the block at line {line} exited {done.returncode}\n"
                                      f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def _tool(name: str):
    sys.path.insert(0, str(ROOT / "docs" / "tools"))
    try:
        return __import__(name)
    finally:
        sys.path.pop(0)


def test_reference_is_current():
    tool = _tool("gen_reference")
    current = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    assert current == tool.render(), f"docs/reference.md is stale; regenerate it: {tool.REGENERATE}"


def test_architecture_graph_is_current():
    tool = _tool("import_graph")
    current = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert current == tool.updated(current), f"docs/architecture.md is stale; regenerate it: {tool.REGENERATE}"


def test_the_packages_have_no_import_cycles():
    tool = _tool("import_graph")
    nodes, edges = tool.build_graph()
    assert tool.find_cycles(nodes, edges) == []


def test_no_two_files_import_each_other():
    """The file-level graph: a circle inside one sub-package (advice -> stratify -> advice)
    is invisible between sub-packages."""
    tool = _tool("import_graph")
    modules, edges = tool.build_module_graph()
    assert tool.find_cycles(modules, edges) == []


def test_the_file_graph_sees_a_circle_inside_a_package(tmp_path, monkeypatch):
    tool = _tool("import_graph")
    package = tmp_path / "curate" / "inner"
    package.mkdir(parents=True)
    (tmp_path / "curate" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from curate.inner.b import f\n")
    (package / "b.py").write_text("def f():\n    from curate.inner import a\n")
    monkeypatch.setattr(tool, "ROOT", tmp_path)
    monkeypatch.setattr(tool, "PACKAGES", ("curate",))
    modules, edges = tool.build_module_graph()
    assert tool.find_cycles(modules, edges) == [["curate.inner.a", "curate.inner.b"]]
    nodes, package_edges = tool.build_graph()
    assert tool.find_cycles(nodes, package_edges) == []   # what the package graph misses


def test_curate_never_imports_segment():
    tool = _tool("import_graph")
    nodes, edges = tool.build_graph()
    upward = [(s, t) for s in nodes for t in edges.get(s, ()) if s.startswith("curate") and t.startswith("segment")]
    assert not upward, f"curate must never import segment: {upward}"


def test_import_graph_finds_a_planted_cycle(tmp_path, monkeypatch):
    tool = _tool("import_graph")
    nodes = ["curate.a", "curate.b", "curate.c"]
    edges = {"curate.a": {"curate.b"}, "curate.b": {"curate.a"}, "curate.c": {"curate.a"}}
    assert tool.find_cycles(nodes, edges) == [["curate.a", "curate.b"]]


def test_stale_reference_is_detected(tmp_path, monkeypatch):
    tool = _tool("gen_reference")
    stale = tmp_path / "reference.md"
    stale.write_text("# Command reference\n", encoding="utf-8")
    monkeypatch.setattr(tool, "TARGET", stale)
    assert tool.main(["--check"]) == 1


def test_write_table_writes_a_dated_page(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import results
    finally:
        sys.path.pop(0)
    monkeypatch.setattr(results, "RESULTS", tmp_path)
    page = results.write_table("demo", "Demo", ["what", "value"], [["a", 1], ["b|c", 2.5]], "python x.py")
    text = page.read_text(encoding="utf-8")
    assert page == tmp_path / "demo.md"
    assert text.startswith("# Demo\n")
    for field in ("- date: ", "- machine: ", "- commit: ", "- command: `python x.py`"):
        assert field in text
    assert "| b\\|c | 2.5 |" in text
    with pytest.raises(ValueError):
        results.write_table("demo", "Demo", ["one"], [["a", "b"]])
