"""Progress of the long steps (reading, scanning, writing, augmenting).

The library only reports (`with step("scanning pixels", n) as advance: ... advance(k)`);
whether anything is shown is the CLI's choice: `shown(console)` draws transient rich bars
on that console (stderr) when it is a terminal, and nothing otherwise, so piped output and
stdout tables stay clean. Outside `shown` every step is a no-op.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import Callable, Iterator

_ACTIVE: ContextVar = ContextVar("curate_progress", default=None)


def _nothing(n: int = 1) -> None:
    return None


@contextlib.contextmanager
def step(description: str, total: int) -> Iterator[Callable[[int], None]]:
    """Yield advance(n) for a step of `total` units; thread-safe, a no-op when not shown."""
    progress = _ACTIVE.get()
    if progress is None or total <= 0:
        yield _nothing
        return
    if not progress.tasks:
        progress.start()               # draws at once: visible from the step's first second
    task = progress.add_task(description, total=total)
    try:
        yield lambda n=1: progress.advance(task, n)
    finally:
        progress.remove_task(task)
        if not progress.tasks:
            progress.stop()


@contextlib.contextmanager
def shown(console) -> Iterator[None]:
    """Show every step run inside this block as a transient bar on `console`, if a terminal."""
    if not console.is_terminal:
        yield
        return
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn)

    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, transient=True,
                        redirect_stdout=False, redirect_stderr=False)
    token = _ACTIVE.set(progress)
    try:
        yield
    finally:
        _ACTIVE.reset(token)
        progress.stop()


def track(items, description: str, total: int):
    """Yield from `items`, advancing a step of `total` units by one per item."""
    with step(description, total) as advance:
        for item in items:
            yield item
            advance(1)
