"""Ctrl-C in `segment`: what each command leaves behind (the command group is curate.io's)."""

from __future__ import annotations

from curate.io.interrupt import MESSAGE as DEFAULT  # noqa: F401  (what other commands print)
from curate.io.interrupt import InterruptibleGroup

# What each command leaves behind when interrupted; every file is written atomically
# (atomic.atomic_write), so none is ever half-written.
MESSAGES = {
    "train": "Interrupted: the run folder keeps the checkpoints of the epochs that finished "
             "(last.pt, best.pt, if any); continue with `segment train DATA -o RUN --resume`.",
    "predict": "Interrupted: the output folder may hold masks for some of the images (each file "
               "complete); run the command again with --force to write them all.",
}


class SegmentGroup(InterruptibleGroup):
    """The command group of the `segment` app: MESSAGES[command] (else DEFAULT) on Ctrl-C."""

    messages = MESSAGES
