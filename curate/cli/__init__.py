"""The `curate` command line: thin Typer commands over the library."""

from curate.cli.main import app

__all__ = ["app"]
