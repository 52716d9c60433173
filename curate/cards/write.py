"""Render a data card from a curated folder and write it: beside the folder (`curate card`)
or inside a folder being created (`curate run`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from curate.cards.croissant import render_jsonld
from curate.cards.facts import CardOptions, card_picture_names, card_pictures, collect
from curate.cards.markdown import render_markdown

def render_card(dataset_path: str | Path,
                options: CardOptions | None = None) -> tuple[str, dict]:
    """(Markdown card, Croissant JSON-LD dict) for a curated folder; pure and deterministic.

    The card links its PNGs as `<options.files_dir>/<name>`; `card_pictures` gives their bytes.
    """
    options = options or CardOptions()
    facts = collect(dataset_path)
    pictures = {name: b"" for name in card_picture_names(facts)}
    return render_markdown(facts, options, pictures), render_jsonld(facts, options)


def write_card(dataset_path: str | Path, card_path: str | Path, jsonld_path: str | Path | None,
               options: CardOptions | None = None, force: bool = False) -> list[Path]:
    """Write the card, its JSON-LD and its PNGs (in `<card stem>_files/`); return the paths.

    Outputs must lie outside the dataset folder (inputs stay untouched) and existing ones
    are replaced only with `force`.
    """
    from curate.io.outputs import atomic_dir, guard_output, write_text
    from curate.data.writers import to_json

    card_path = Path(card_path)
    options = replace(options or CardOptions(), files_dir=f"{card_path.stem}_files")
    files_dir = card_path.parent / options.files_dir
    outputs = [card_path, files_dir] + ([Path(jsonld_path)] if jsonld_path else [])
    for out in outputs:
        guard_output(out, [dataset_path], force, "folder" if out == files_dir else "file",
                     what="card's picture folder" if out == files_dir else "card")
    facts = collect(dataset_path)
    pictures = card_pictures(facts)
    markdown = render_markdown(facts, options, pictures)
    jsonld = render_jsonld(facts, options)
    with atomic_dir(files_dir, force) as tmp:
        for name, content in pictures.items():
            (tmp / name).write_bytes(content)
    write_text(card_path, markdown)
    if jsonld_path:
        write_text(jsonld_path, to_json(jsonld))
    return outputs


def write_card_in_folder(folder: str | Path, options: CardOptions | None = None) -> list[Path]:
    """For a dataset folder being created (e.g. by `curate run`): card.md and card.jsonld at
    its top, the class chart in reports/, and the card's links pointing into reports/."""
    from curate.data.writers import to_json

    folder = Path(folder)
    options = replace(options or CardOptions(), files_dir="reports")
    facts = collect(folder)
    pictures = card_pictures(facts)
    (folder / "reports").mkdir(exist_ok=True)
    (folder / "reports" / "class_distribution.png").write_bytes(pictures["class_distribution.png"])
    (folder / "card.md").write_text(render_markdown(facts, options, pictures), encoding="utf-8")
    (folder / "card.jsonld").write_text(to_json(render_jsonld(facts, options)), encoding="utf-8")
    return [folder / "card.md", folder / "card.jsonld",
            folder / "reports" / "class_distribution.png"]
