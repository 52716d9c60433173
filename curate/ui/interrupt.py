"""Around every command of both CLIs: progress bars on stderr (curate.ui.progress), and on
Ctrl-C one line saying what was (not) written, then exit 130 (128 + SIGINT)."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from curate.ui import progress
from curate.ui.cli_help import HelpGroup

# Outputs go to a temporary name that is removed on any interruption and renamed into place
# only when complete. The one exception: a Ctrl-C in the instant between two of the small
# files of `curate stats` or `curate card` keeps the earlier ones.
MESSAGE = "Interrupted: nothing was written (outputs are only written at the end, atomically)."


class InterruptibleGroup(HelpGroup):
    """A Typer command group that shows progress and, on Ctrl-C, prints `messages[command]`
    (MESSAGE for a command without its own) and exits with 130. An app whose commands leave
    something behind when interrupted subclasses it with its own `messages`."""

    messages: dict[str, str] = {}

    def invoke(self, ctx):
        try:
            with progress.shown(Console(stderr=True)):
                return super().invoke(ctx)
        except KeyboardInterrupt:
            print(f"\n{self.messages.get(ctx.invoked_subcommand, MESSAGE)}", file=sys.stderr)
            raise typer.Exit(code=130) from None
