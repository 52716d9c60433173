"""Virtual environments of their own for the independent tools slow tests talk to (Datumaro,
Label Studio): they pin packages (pandas, pyarrow, Django, ...) this project's environment
does not have. Each is built once under the git-ignored .bench/ folder, keyed by version
(`.ci/setup` builds them ahead; a test builds one on first use where it is missing), or taken
from the environment variable that names it."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATUMARO = ("datumaro==1.13.12",)
# sentry-sdk 3 removed an option Label Studio 1.23.2 passes at start-up: pinned below it.
LABEL_STUDIO = ("label-studio==1.23.2", "sentry-sdk>=2.16,<3")


def venv_folder(requirements: tuple[str, ...]) -> Path:
    """.bench/venv-<first requirement, == as ->: datumaro-1.13.12>."""
    return ROOT / ".bench" / f"venv-{requirements[0].replace('==', '-')}"


@functools.lru_cache(maxsize=None)
def tool_python(requirements: tuple[str, ...], env_var: str) -> Path | str:
    """The Python of a virtual environment with `requirements`, built on first use, or why
    it cannot be built (no network, say)."""
    venv = Path(os.environ.get(env_var, venv_folder(requirements)))
    python = venv / "bin" / "python"
    if python.is_file():
        return python
    partial = venv.with_name(f"{venv.name}.partial-{os.getpid()}")
    steps = [[sys.executable, "-m", "venv", str(partial)],
             [str(partial / "bin" / "python"), "-m", "pip", "install", "--quiet",
              *requirements]]
    for step in steps:
        try:
            done = subprocess.run(step, capture_output=True, text=True, timeout=1800)
            failed = "" if done.returncode == 0 else " ".join(done.stderr.split()[-40:])
        except (OSError, subprocess.TimeoutExpired) as exc:
            failed = str(exc)
        if failed:
            shutil.rmtree(partial, ignore_errors=True)
            return (f"cannot build a virtual environment with {' '.join(requirements)} in "
                    f"{venv} ({' '.join(step[-3:])} failed; no network?): {failed}")
    try:
        partial.rename(venv)          # another worker may have finished first: use its venv
    except OSError:
        pass
    return python if python.is_file() else partial / "bin" / "python"


def datumaro_python() -> Path | str:
    return tool_python(DATUMARO, "CURATE_DATUMARO_VENV")


def label_studio_python() -> Path | str:
    return tool_python(LABEL_STUDIO, "CURATE_LABEL_STUDIO_VENV")


if __name__ == "__main__":
    # .ci/setup: build both (a no-op when present); a failure is printed, not fatal, as the
    # slow tests then skip with the same reason.
    for build in (datumaro_python, label_studio_python):
        print(f"{build.__name__}: {build()}")
