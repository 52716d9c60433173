"""Where outputs may go: never over, into or around an input; folders replaced in one rename.

The same rule as curate's (an output equal to, containing, or inside an input is refused),
written here again because segment never imports curate.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Iterable, Iterator

from segment.errors import OutputExistsError


def check_not_input(out: str | Path, inputs: Iterable[str | Path | None], what: str = "output") -> None:
    """Refuse an output path that is, contains or lies inside one of the inputs.

    Paths are resolved first, so symlinks and '..' cannot sneak an output into an input.
    """
    target = Path(out).resolve()
    for inp in inputs:
        if inp is None:
            continue
        source = Path(inp).resolve()
        if target == source or source.is_relative_to(target) or target.is_relative_to(source):
            relation = ("is" if target == source else
                        "contains" if source.is_relative_to(target) else "lies inside")
            raise OutputExistsError(
                f"the {what} {out} {relation} the input {inp}; inputs are never modified, "
                "not even with --force: choose an output path outside it"
            )


def check_free(out: Path, force: bool) -> None:
    """An output folder must be absent or empty, or --force given; a file is never a folder."""
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"output {out} is a file; give a folder path")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise OutputExistsError(f"output folder {out} is not empty; pass --force to replace it")


@contextlib.contextmanager
def atomic_dir(out: str | Path, force: bool) -> Iterator[Path]:
    """Yield a temporary sibling folder; on success it becomes `out` in one rename.

    An existing non-empty `out` is replaced only with `force`, and only `out` itself: the old
    folder is renamed aside, the new one renamed in, then the old one deleted. On any error
    the temporary folder is removed and `out` is left as it was.
    """
    out = Path(out)
    check_free(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def set_aside(out: str | Path, active: bool, keep: str) -> Iterator[None]:
    """For outputs written over a long time (a training run): when `active`, move the existing
    `out` to a hidden sibling and let the new one be written in a fresh folder.

    Afterwards the old folder is deleted, so the old run's files never mix with the new
    one's. If an error comes before the new folder holds `keep` (e.g. last.pt), the new
    folder is removed and the old one renamed back, exactly as it was.
    """
    out = Path(out)
    if not active or not out.is_dir() or not any(out.iterdir()):
        yield
        return
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    shutil.rmtree(old, ignore_errors=True)
    os.replace(out, old)
    out.mkdir()
    try:
        yield
    except BaseException:
        if not (out / keep).exists():
            shutil.rmtree(out, ignore_errors=True)
            os.replace(old, out)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)
