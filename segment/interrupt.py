"""Ctrl-C in `segment`: what each command leaves behind (the command group is curate.io's)."""

from __future__ import annotations

from pathlib import Path

from segment.renamed import RENAMED
from curate.ui.interrupt import MESSAGE as DEFAULT  # noqa: F401  (what other commands print)
from curate.ui.interrupt import InterruptibleGroup

# What each command leaves behind when interrupted; every file is written atomically
# (curate.io.outputs.write_file), so none is ever half-written.
MESSAGES = {
    "train": "Interrupted: the run folder keeps the checkpoints of the epochs that finished "
             "(last.pt, best.pt); continue with `segment train DATA -o RUN --resume`.",
    "predict": "Interrupted: the output folder may hold masks for some of the images (each file "
               "complete); run the command again with --force to write them all.",
}
# Before the first epoch's checkpoint there is nothing --resume could continue from.
BEFORE_FIRST_EPOCH = ("Interrupted before the first epoch finished: no checkpoint was saved, so "
                      "there is nothing to resume (the run folder is as it was before). Run the "
                      "same command again, without --resume.")


def train_message(out: Path) -> str:
    """What a Ctrl-C of `segment train -o OUT` leaves: a run to resume only once last.pt exists."""
    if not (Path(out) / "last.pt").is_file():
        return BEFORE_FIRST_EPOCH
    return MESSAGES["train"].replace("RUN", str(out))


class SegmentGroup(InterruptibleGroup):
    """The command group of the `segment` app: MESSAGES[command] (else DEFAULT) on Ctrl-C,
    and the flags of earlier releases (segment.renamed.RENAMED) still taken."""

    messages = MESSAGES
    renamed = RENAMED
