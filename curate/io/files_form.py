"""The --files choice (how a written folder stores images/ and masks/), apart from
curate.data.linking so that the CLI can declare the option without importing numpy and pandas."""

from __future__ import annotations

from enum import Enum


class FilesForm(str, Enum):
    """--files: how images/ and masks/ are stored."""

    auto = "auto"
    encode = "encode"
    link = "link"
