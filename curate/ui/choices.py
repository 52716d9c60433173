"""The words both command lines take as a choice, declared once so that an option means the
same in every command (tests/test_vocabulary.py checks it)."""

from __future__ import annotations

from enum import Enum


class Split(str, Enum):
    """--split: one of the three splits a curated folder's manifest names."""

    train = "train"
    val = "val"
    test = "test"
