"""Ctrl-C: one line saying what was (not) written, then exit 130 (128 + SIGINT)."""

from __future__ import annotations

import sys

import typer
from typer.core import TyperGroup

# What each command leaves behind when interrupted; every file is written atomically
# (curate.io.outputs.write_file), so none is ever half-written.
MESSAGES = {
    "train": "Interrupted: the run folder keeps the checkpoints of the epochs that finished "
             "(last.pt, best.pt, if any); continue with `segment train DATA -o RUN --resume`.",
    "predict": "Interrupted: the output folder may hold masks for some of the images (each file "
               "complete); run the command again with --force to write them all.",
}
DEFAULT = "Interrupted: nothing was written (outputs are only written at the end, atomically)."


class InterruptibleGroup(TyperGroup):
    """The command group of the `segment` app, printing what is left on Ctrl-C."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            print(f"\n{MESSAGES.get(ctx.invoked_subcommand, DEFAULT)}", file=sys.stderr)
            raise typer.Exit(code=130) from None
