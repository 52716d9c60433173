"""The layers: segment may import curate's I/O layer (curate.io) and nothing else of curate;
curate.io imports no other part of curate; curate never imports segment. Every module of
both packages is parsed, not a fixed list."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).parents[1]


def _imports(path: Path, top: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in a file under `top`, at any depth (inside functions
    too); a relative import is resolved against the file's package."""
    package = ".".join(path.relative_to(top).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from curate import io` names a module too: judge each imported name.
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def _violations(package: str, allowed, top: Path = REPO) -> list[str]:
    modules = sorted((top / package).rglob("*.py"))
    assert modules, f"no modules under {top / package}"
    return [f"{path.relative_to(top)}:{line} imports {name}"
            for path in modules for line, name in _imports(path, top) if not allowed(name)]


def _segment_may_import(name: str) -> bool:
    parts = name.split(".")
    return parts[0] != "curate" or parts[:2] in (["curate", "io"], ["curate", "ui"])


def _ui_may_import(name: str) -> bool:
    """curate.ui, the kit both command lines show a person with, knows no dataset."""
    parts = name.split(".")
    return parts[0] != "curate" or parts[:2] == ["curate", "ui"]


def _curate_may_import(name: str) -> bool:
    return name.split(".")[0] != "segment"


def test_segment_imports_only_curate_io_and_ui():
    assert len(list((REPO / "segment").rglob("*.py"))) > 20
    assert _violations("segment", _segment_may_import) == []


def test_the_io_layer_imports_only_itself_and_the_ui_kit():
    """curate.io stands under the rest of curate: none of its modules imports another part
    (it shows its progress and parses settings with curate.ui, the layer below it)."""
    assert _violations("curate/io", _segment_may_import) == []


def test_the_ui_kit_imports_nothing_else_of_curate():
    assert _violations("curate/ui", _ui_may_import) == []


def test_curate_never_imports_segment():
    assert _violations("curate", _curate_may_import) == []


def test_the_checks_catch_a_forbidden_import(tmp_path):
    """The rules themselves: the names they must refuse and the ones they must let pass."""
    assert not _segment_may_import("curate.data.readers.load_dataset")
    assert not _segment_may_import("curate.__version__")
    assert _segment_may_import("curate.io.raw.read_raw") and _segment_may_import("numpy.ndarray")
    assert not _curate_may_import("segment.data.folder.read_image")
    (tmp_path / "segment" / "sub").mkdir(parents=True)
    (tmp_path / "segment" / "sub" / "deep.py").write_text(
        "import numpy\nfrom curate.io import raw\n\ndef f():\n"
        "    from curate.data.readers import load_dataset\n    from ..sub import deep\n")
    (tmp_path / "curate").mkdir()
    (tmp_path / "curate" / "late.py").write_text("def g():\n    import segment.data.folder\n")
    assert _violations("segment", _segment_may_import, tmp_path) == [
        "segment/sub/deep.py:5 imports curate.data.readers.load_dataset"]
    assert _violations("curate", _curate_may_import, tmp_path) == [
        "curate/late.py:2 imports segment.data.folder"]


def _private_imports(package: str, top: Path = REPO) -> list[str]:
    """`from module import _name` in any module of `package`: a leading underscore says the name
    is its module's own business, so another module reaching for it is a hidden coupling."""
    found = []
    for path in sorted((top / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.ImportFrom):
                found += [f"{path.relative_to(top)}:{node.lineno} imports {alias.name} from "
                          f"{'.' * node.level}{node.module or ''}" for alias in node.names
                          if alias.name.startswith("_") and not alias.name.startswith("__")]
    return found


def test_no_module_imports_another_modules_private_names():
    assert _private_imports("curate") == [] and _private_imports("segment") == []


def test_the_private_import_check_catches_one(tmp_path):
    (tmp_path / "segment").mkdir()
    (tmp_path / "segment" / "user.py").write_text(
        "from curate import __version__\nfrom segment.training.loop import fit\n\n"
        "def f():\n    from .loop import _finish, fit\n")
    assert _private_imports("segment", tmp_path) == [
        "segment/user.py:5 imports _finish from .loop"]
