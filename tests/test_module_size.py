"""Small modules (issue 22): no .py file of curate or segment is over MAX_LINES lines. Every
file under both packages is counted, not a fixed list; a failure names each file too long."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]
MAX_LINES = 400


def _too_long(top: Path, packages=("curate", "segment"), limit: int = MAX_LINES) -> list[str]:
    """'path: N lines' for each .py file under top/package that has more than `limit` lines."""
    found = []
    for package in packages:
        modules = sorted((top / package).rglob("*.py"))
        assert modules, f"no modules under {top / package}"
        for path in modules:
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > limit:
                found.append(f"{path.relative_to(top)}: {lines} lines")
    return found


def test_no_module_is_over_the_limit():
    too_long = _too_long(REPO)
    assert not too_long, (f"modules over {MAX_LINES} lines (split each into modules whose names "
                          "say what they hold):\n" + "\n".join(too_long))


def test_a_planted_long_module_is_named(tmp_path):
    for package in ("curate", "segment"):
        (tmp_path / package / "sub").mkdir(parents=True)
        (tmp_path / package / "ok.py").write_text("x = 1\n" * MAX_LINES)
    (tmp_path / "segment" / "sub" / "long.py").write_text("x = 1\n" * (MAX_LINES + 1))
    assert _too_long(tmp_path) == [f"{Path('segment/sub/long.py')}: {MAX_LINES + 1} lines"]


def test_an_empty_package_is_an_error_not_a_pass(tmp_path):
    (tmp_path / "curate").mkdir()
    with pytest.raises(AssertionError, match="no modules"):
        _too_long(tmp_path)
