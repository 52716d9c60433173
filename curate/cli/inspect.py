"""The `curate` commands that describe a dataset without changing it: stats, check-leakage,
card and report (registered on the app in cli.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from curate.ui.choices import Split
from curate.cli.common import (
    DataArg, ForceOpt, NearDistanceOpt, ReadArgs, load, refuse_read_options, user_errors,
)
from curate.ui.option_groups import grouped
from curate.cli.show import console, print_leakage, print_stats
from curate.errors import ConfigError


@grouped
def stats(
    data: DataArg,
    split: Annotated[Optional[Split], typer.Option(
        help="Only this split of a split dataset.")] = None,
    csv: Annotated[Optional[Path], typer.Option(
        help="Write the per-class table to this CSV (per-image table beside it).")] = None,
    json_path: Annotated[Optional[Path], typer.Option(
        "--json", help="Write per-class stats and co-occurrence to this JSON file.")] = None,
    png: Annotated[Optional[Path], typer.Option(
        help="Write a bar chart of pixel and image share per class to this PNG.")] = None,
    read: ReadArgs = ReadArgs(),
    force: ForceOpt = False,
) -> None:
    """Class distribution: pixel share, images containing each class, co-occurrence."""
    from curate.data.readers import read_manifest, read_meta
    from curate.stats.distribution import class_stats, stats_chart
    from curate.io.outputs import guard_output, write_bytes, write_text
    from curate.data.writers import to_json

    with user_errors():
        per_image = None if csv is None else csv.with_name(csv.stem + "_per_image.csv")
        for path in (csv, per_image, json_path, png):
            if path is not None:
                guard_output(path, [data, *read.inputs], force)
        refuse_read_options(data, read.num_classes, read.class_names, read.label_map,
                            read.ignore_index)
        if (data / "dataset.json").is_file():
            # A curated folder's manifest already counts every class: no pixel to decode.
            manifest, names = read_manifest(data), read_meta(data)["class_names"]
        else:
            dataset = load(data, read)
            manifest, names = dataset.manifest, dataset.class_names
        split = split.value if split else None
        if split:
            if "split" not in manifest or not (manifest["split"] == split).any():
                raise ConfigError(f"No pairs in split {split!r}; splits present: "
                                  f"{sorted(set(manifest.get('split', [])) - {''})}.")
            manifest = manifest[manifest["split"] == split]
        result = class_stats(manifest, names)
        print_stats(result, f"{data}" + (f" [{split}]" if split else ""))
        if csv is not None:
            write_text(csv, result.per_class.to_csv(index=False))
            write_text(per_image, result.per_image.to_csv(index=False))
            console.print(f"Wrote {csv} and {per_image}")
        if json_path is not None:
            write_text(json_path, to_json(result.to_dict()))
            console.print(f"Wrote {json_path}")
        if png is not None:
            chart = stats_chart(result, f"Class distribution of {data.name}")
            write_bytes(png, chart)
            console.print(f"Wrote {png}")


@grouped
def check_leakage_command(
    data: DataArg,
    distance: NearDistanceOpt = 6,
    split_file: Annotated[Optional[Path], typer.Option(
        help="CSV with id,split columns: the split to check, instead of the manifest's.")
    ] = None,
    read: ReadArgs = ReadArgs(),
) -> None:
    """Report identical or near-duplicate images in different splits; exit 1 if any."""
    from curate.split.leakage import dataset_leakage

    with user_errors():
        dataset = load(data, read)
        leaks = dataset_leakage(dataset, distance, split_file)
    if leaks.empty:
        console.print(f"No leakage: no identical or near-duplicate (distance <= {distance}) "
                      "images across splits.")
        return
    print_leakage(leaks)
    raise typer.Exit(code=1)


def card_command(
    data: Annotated[Path, typer.Argument(help="A curated dataset folder (with dataset.json).")],
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Markdown card to write; its PNGs go to <stem>_files/ beside it. "
        "Default: data_cards/<folder name>.md. Must lie outside the dataset folder.")] = None,
    jsonld: Annotated[Optional[Path], typer.Option(
        "--jsonld", help="Croissant JSON-LD to write. Default: the card's path with "
        ".jsonld.")] = None,
    title: Annotated[Optional[str], typer.Option(help="Dataset name. Default: the folder "
                                                      "name.")] = None,
    source_text: Annotated[Optional[str], typer.Option(
        help="Where the data comes from, in words. Default: detected for AI4Mars-derived "
        "npz data, else 'unknown (not recorded)'.")] = None,
    license_text: Annotated[Optional[str], typer.Option(
        "--license", help="License of the data. Default: unknown.")] = None,
    force: ForceOpt = False,
) -> None:
    """Data card (Markdown + YAML front matter) and Croissant JSON-LD from the curation log."""
    from curate.cards import CardOptions, write_card

    with user_errors():
        card_path = out or Path("data_cards") / f"{data.resolve().name}.md"
        jsonld_path = jsonld or card_path.with_suffix(".jsonld")
        written = write_card(data, card_path, jsonld_path,
                             CardOptions(title=title, source_text=source_text,
                                         license=license_text), force=force)
    console.print("Wrote " + ", ".join(str(p) for p in written))


def report_command(
    data: Annotated[Path, typer.Argument(help="A curated dataset folder (with dataset.json).")],
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="HTML file to write (one self-contained file, images embedded); "
        "must lie outside the dataset folder.")],
    title: Annotated[Optional[str], typer.Option(help="Page title.")] = None,
    force: ForceOpt = False,
) -> None:
    """Static HTML report: summary, classes, outliers, splits, augmentation, history."""
    from curate.report.html import write_report

    with user_errors():
        write_report(data, out, title=title, force=force)
    console.print(f"Wrote {out} (opens offline; sections #summary #classes #outliers "
                  "#splits #augmentation #history).")
