"""`python -m segment ...` runs the `segment` command line; `torchrun ... -m segment train ...`
trains on several processes (see segment.training.distributed)."""

from segment.cli import app

app(prog_name="segment")
