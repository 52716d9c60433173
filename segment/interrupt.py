"""Ctrl-C: one line saying what was (not) written, then exit 130 (128 + SIGINT)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from typer.core import TyperGroup

# What each command leaves behind when interrupted; every file is written atomically
# (curate.io.outputs.write_file), so none is ever half-written.
MESSAGES = {
    "train": "Interrupted: the run folder keeps the checkpoints of the epochs that finished "
             "(last.pt, best.pt); continue with `segment train DATA -o RUN --resume`.",
    "predict": "Interrupted: the output folder may hold masks for some of the images (each file "
               "complete); run the command again with --force to write them all.",
}
DEFAULT = "Interrupted: nothing was written (outputs are only written at the end, atomically)."
# Before the first epoch's checkpoint there is nothing --resume could continue from.
BEFORE_FIRST_EPOCH = ("Interrupted before the first epoch finished: no checkpoint was saved, so "
                      "there is nothing to resume (the run folder is as it was before). Run the "
                      "same command again, without --resume.")


def train_message(out: Path) -> str:
    """What a Ctrl-C of `segment train -o OUT` leaves: a run to resume only once last.pt exists."""
    if not (Path(out) / "last.pt").is_file():
        return BEFORE_FIRST_EPOCH
    return MESSAGES["train"].replace("RUN", str(out))


class InterruptibleGroup(TyperGroup):
    """The command group of the `segment` app, printing what is left on Ctrl-C."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            print(f"\n{MESSAGES.get(ctx.invoked_subcommand, DEFAULT)}", file=sys.stderr)
            raise typer.Exit(code=130) from None
