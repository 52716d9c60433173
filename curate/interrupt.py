"""Around every `curate` command: progress bars on stderr, and on Ctrl-C one line saying
what was (not) written, then exit 130 (128 + SIGINT)."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from typer.core import TyperGroup

from curate import progress

# Datasets go to a temporary sibling folder that is removed on any interruption
# (curate.io.outputs.atomic_dir); single files go through a temporary file. The one exception: a Ctrl-C
# in the instant between two of the small files of `stats` or `card` keeps the earlier ones.
MESSAGE = "Interrupted: nothing was written (outputs are only written at the end, atomically)."


class InterruptibleGroup(TyperGroup):
    """The command group of the `curate` app: shows progress, prints MESSAGE on Ctrl-C."""

    def invoke(self, ctx):
        try:
            with progress.shown(Console(stderr=True)):
                return super().invoke(ctx)
        except KeyboardInterrupt:
            print(f"\n{MESSAGE}", file=sys.stderr)
            raise typer.Exit(code=130) from None
