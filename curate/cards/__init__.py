"""Data cards of curated folders: facts (read-model and derived tables), markdown (YAML front
matter and sections), croissant (JSON-LD), write (render and write the files)."""

from curate.cards.facts import UNKNOWN, CardOptions, Facts, collect
from curate.cards.markdown import SECTIONS, render_markdown, to_yaml
from curate.cards.croissant import render_jsonld
from curate.cards.write import render_card, write_card, write_card_in_folder

__all__ = ["UNKNOWN", "CardOptions", "Facts", "collect", "SECTIONS", "render_markdown",
           "to_yaml", "render_jsonld", "render_card", "write_card", "write_card_in_folder"]
