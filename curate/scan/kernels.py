"""The compiled per-image kernels of the scan (numba): pixel statistics and the picture-style
embedding, loaded when the first scan runs (importing curate never imports numba).

The numpy code in features.py and embedding.py stays the reference; the kernels give the same
features to float tolerance (tests/curate/test_kernels.py). Without numba, or with
CURATE_KERNELS=numpy, the scan uses that numpy code, and says so once (a KernelNote warning,
which the command line prints as a Note).

Compiled code is cached (numba's cache=True) in NUMBA_CACHE_DIR when it is set, else in a
per-user cache folder (`user_cache_dir`); when that folder cannot be written the kernels are
compiled afresh in each process. The cache never goes beside the installed package, so a
read-only site-packages never fails a run.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import warnings
from pathlib import Path

INSTALL = "pip install numba"


class KernelNote(UserWarning):
    """The scan runs on its numpy reference code (slower), and why."""


_lock = threading.Lock()
_state: dict = {}


def user_cache_dir() -> Path:
    """The per-user cache folder of compiled kernels (used when NUMBA_CACHE_DIR is not set)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "curate" / "numba"


def cache_dir() -> Path | None:
    """Where compiled kernels are cached: NUMBA_CACHE_DIR when set, else `user_cache_dir()`;
    None (no cache) when that folder cannot be created or written."""
    given = os.environ.get("NUMBA_CACHE_DIR")
    path = Path(given) if given else user_cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError:
        return None
    return path


def _numba():
    """The numba module set up with our cache folder, or None (reason in _state['why'])."""
    if "numba" not in _state:
        with _lock:
            if "numba" not in _state:
                _state.update(_import_numba())
    return _state["numba"]


def _import_numba() -> dict:
    if os.environ.get("CURATE_KERNELS", "").lower() == "numpy":
        return {"numba": None, "why": "CURATE_KERNELS=numpy"}
    try:
        import numba
    except Exception as exc:  # ImportError, or a numba built for another numpy
        return {"numba": None, "why": f"numba cannot be imported ({exc}); {INSTALL}"}
    folder = cache_dir()
    if folder is not None:
        numba.config.CACHE_DIR = str(folder)   # read by numba's cache locator when it compiles
    return {"numba": numba, "cache": folder}


# Float sums may be reordered (SIMD): twice as fast for the embedding, whose values then move
# by float rounding only. No nnan/ninf: NaN and inf keep their meaning.
REORDER = frozenset({"reassoc", "contract", "nsz", "arcp"})


def jit(function, fastmath: frozenset | bool = False):
    """numba.njit (nogil: the scan's threads run kernels side by side; cached when a cache
    folder is writable); the function itself when numba is missing."""
    numba = _numba()
    if numba is None:
        return function
    return numba.njit(cache=_state["cache"] is not None, nogil=True, error_model="numpy",
                      fastmath=set(fastmath) if fastmath else False)(function)


def jit_reordered(function):
    """`jit` with float sums that may be reordered (REORDER)."""
    return jit(function, REORDER)


def available() -> bool:
    """True when the compiled kernels are used; else warns once (KernelNote) and is False."""
    if _numba() is not None:
        return True
    if not _state.get("note"):
        _state["note"] = f"the scan uses its numpy code, several times slower: {_state['why']}"
        warnings.warn(_state["note"], KernelNote, stacklevel=2)
    return False


def give_up(reason: str) -> None:
    """Use the numpy code from now on in this process, because of `reason`."""
    _state.update(numba=None, why=reason)


def checked(now: bool = False) -> bool:
    """Whether the kernels were called once in this process (set with now=True)."""
    if now:
        _state["checked"] = True
    return bool(_state.get("checked"))


def fallback_note() -> str | None:
    """Why the scan ran on its numpy code, once it did (None: compiled, or no scan yet)."""
    return _state.get("note")
