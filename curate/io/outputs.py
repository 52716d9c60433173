"""The one output guard and the atomic writers every command of curate and segment uses.

The guard refuses an output path that would touch what a command reads: a path that is an
input, lies inside an input folder, holds an input, or is the same file as an input through
a hard link (`--files link` makes curated folders whose pictures are the user's own files).
An existing output is replaced only with --force, and never by opening it for writing: a
file is written under a new temporary name in its folder and renamed over the old one; a
folder is built as a temporary sibling, the old one renamed aside, the new one renamed in,
then the old one deleted.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Literal

PathLike = str | os.PathLike
Kind = Literal["file", "folder"]


class OutputError(Exception):
    """An output path touches an input, has the wrong kind, or exists without --force.

    Both packages' command lines show it like their own errors (curate and segment catch it).
    """


def check_not_input(out: PathLike, inputs: Iterable[PathLike | None],
                    what: str = "output") -> None:
    """Refuse an output that is, lies inside, or contains an input, or shares a file with one.

    Paths are resolved first, so symbolic links and '..' cannot hide the relation; then an
    existing output file (or any file in an existing output folder that is not a curated
    dataset folder) that is the same file as an input file through a hard link is refused too.
    """
    target = Path(out).resolve()
    sources = [Path(i) for i in inputs if i is not None]
    for source in sources:
        inp = source.resolve()
        if target == inp or inp.is_relative_to(target) or target.is_relative_to(inp):
            relation = ("is" if target == inp else
                        "contains" if inp.is_relative_to(target) else "lies inside")
            raise OutputError(
                f"the {what} {out} {relation} the input {source}; inputs are never modified, "
                "not even with --force: choose an output path outside the input")
    shared = _shared_file(target, sources)
    if shared is not None:
        written, original = shared
        raise OutputError(
            f"the {what} {out} would replace {written}, which is the same file (a hard link) "
            f"as the input {original}; inputs are never modified, not even with --force: "
            "choose an output path outside the input")


def _file_ids(path: Path) -> dict[tuple[int, int], Path]:
    """(st_dev, st_ino) -> a path, for `path` itself or every file below a folder."""
    if path.is_file():
        st = path.stat()
        return {(st.st_dev, st.st_ino): path}
    ids: dict[tuple[int, int], Path] = {}
    if path.is_dir():
        for root, _, names in os.walk(path):
            for name in names:
                f = Path(root) / name
                with contextlib.suppress(OSError):
                    st = f.stat()
                    ids.setdefault((st.st_dev, st.st_ino), f)
    return ids


def _shared_file(target: Path, sources: list[Path]) -> tuple[Path, Path] | None:
    """(output file, input file) of the first output file that is also an input's file.

    A curated dataset folder (with dataset.json) being replaced is exempt: its linked
    pictures are links the tool made, and deleting a link leaves the input's bytes whole;
    a plain folder holding such a link is taken for the user's own source folder.
    """
    if not target.exists() or not sources:
        return None
    if target.is_dir() and (target / "dataset.json").is_file():
        return None
    written = _file_ids(target)
    if not written:
        return None
    for source in sources:
        for key, original in _file_ids(source).items():
            if key in written:
                return written[key], original
    return None


def check_free(out: PathLike, force: bool, kind: Kind = "file") -> None:
    """The --force rule: an existing file, or a non-empty folder, is replaced only with force;
    a file is never replaced by a folder nor a folder by a file."""
    out = Path(out)
    if kind == "folder" and out.exists() and not out.is_dir():
        raise OutputError(f"the output {out} is a file; give a folder path")
    if kind == "file" and out.is_dir():
        raise OutputError(f"the output {out} is a folder; give a file name")
    if force or not out.exists():
        return
    if kind == "folder" and not any(out.iterdir()):
        return
    what = "folder" if kind == "folder" else "file"
    raise OutputError(f"the output {what} {out} already exists"
                      + (" and is not empty" if kind == "folder" else "")
                      + "; choose another path, or pass --force to replace it")


def guard_output(out: PathLike, inputs: Iterable[PathLike | None], force: bool,
                 kind: Kind = "file", what: str = "output") -> Path:
    """The check every command runs on each path it will write, before any work: not an
    input (see check_not_input), then the --force rule (see check_free). Returns `out`."""
    check_not_input(out, list(inputs), what)
    check_free(out, force, kind)
    return Path(out)


def _readable(path: Path, mode: int = 0o666) -> None:
    """mkstemp makes files 0600 and mkdtemp folders 0700; give the result the permissions
    of any new file (0o666) or folder (0o777) under the user's umask, so that colleagues
    read an output as they read anything else this user makes."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, mode & ~umask)


def write_file(path: PathLike, write: Callable[[Path], None]) -> Path:
    """Call write(tmp) on a new temporary name in `path`'s folder, then rename it over `path`.

    An existing `path` is never opened: it is replaced whole, in one rename, so a reader
    sees the old file or the new one and a hard-linked old file keeps its bytes.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        _readable(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_bytes(path: PathLike, data: bytes) -> Path:
    return write_file(path, lambda p: p.write_bytes(data))


def write_text(path: PathLike, text: str) -> Path:
    return write_file(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_json(path: PathLike, data: Any) -> Path:
    return write_text(path, json.dumps(data, indent=2) + "\n")


@contextlib.contextmanager
def atomic_dir(out: PathLike, force: bool) -> Iterator[Path]:
    """Yield a new temporary sibling folder; on success it becomes `out` in one rename.

    An existing non-empty `out` is replaced only with `force`: it is renamed aside, the new
    folder renamed in, then the old one deleted. On any error the temporary folder is
    removed and `out` is left as it was.
    """
    out = Path(out)
    check_free(out, force, "folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
    _readable(tmp, 0o777)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    replace_folder(tmp, out)


def replace_folder(new: Path, out: Path) -> None:
    """Rename the finished folder `new` to `out`, setting an existing `out` aside first."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
        old.rmdir()
        os.replace(out, old)
    try:
        os.replace(new, out)
    except BaseException:
        if old is not None:
            os.replace(old, out)
        shutil.rmtree(new, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def set_aside(out: PathLike, active: bool, keep: str) -> Iterator[None]:
    """For a folder written over a long time (a training run): when `active`, rename the
    existing `out` aside and let the new one be written in a fresh folder.

    Afterwards the old folder is deleted, so an old run's files never mix with the new
    one's. If an error comes before the new folder holds `keep` (e.g. last.pt), the new
    folder is removed and the old one renamed back, exactly as it was.
    """
    out = Path(out)
    if not active or not out.is_dir() or not any(out.iterdir()):
        yield
        return
    old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
    old.rmdir()
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
