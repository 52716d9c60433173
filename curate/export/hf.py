"""Hugging Face parquet: data/{train,validation,test}-00000-of-00001.parquet with `id`,
`image` and `annotation` columns, the images in Hugging Face's Image-feature storage (a struct
of the PNG's bytes and a path), plus README.md (the dataset card's YAML: features and the split
files) and id2label.json (class k's name, the file Hugging Face's segmentation models read).

The parquet schema carries the features too (its 'huggingface' metadata, as `datasets` writes
it), so `datasets.load_dataset("parquet", data_files=...)` decodes both columns as images.
Labels are written as they are: parquet has no void value. Rows are written a row group at a
time, so memory stays that of one group. Needs pyarrow (the `formats` extra).
"""

from __future__ import annotations

import json
from pathlib import Path

from curate.export import ExportPlan
from curate.export.source import Source, kept_ignore_note, image_png, labels, png_bytes
from curate.io.errors import InputError

UNSPLIT = "(in data/unsplit-00000-of-00001.parquet)"
SPLIT_FILES = {"train": "train", "val": "validation", "test": "test", "": "unsplit"}
ROWS_PER_GROUP = 64
FEATURES = {"id": {"dtype": "string", "_type": "Value"}, "image": {"_type": "Image"},
            "annotation": {"_type": "Image"}}
INSTALL = "pip install 'curate-segment[formats]' (or: pip install pyarrow)"


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(f"Writing Hugging Face parquet needs pyarrow, which is not installed: "
                         f"{INSTALL}.") from None
    return pa, pq


def plan(source: Source) -> ExportPlan:
    _pyarrow()
    notes = ["Class names go to id2label.json (curate's reader takes them from it)."]
    if source.ignore_index is not None:
        notes.append(kept_ignore_note(source, "parquet has no void value"))
    return ExportPlan(None, notes)


def schema():
    pa, _ = _pyarrow()
    image = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    return pa.schema([("id", pa.string()), ("image", image), ("annotation", image)],
                     metadata={"huggingface": json.dumps({"info": {"features": FEATURES}})})


def write(source: Source, plan: ExportPlan, folder: Path) -> None:
    pa, pq = _pyarrow()
    (folder / "data").mkdir()
    files = {}
    for split, name in SPLIT_FILES.items():
        pairs = [p for p in source.pairs if p.split == split]
        if not pairs:
            continue
        path = folder / "data" / f"{name}-00000-of-00001.parquet"
        with pq.ParquetWriter(str(path), schema()) as out:
            for start in range(0, len(pairs), ROWS_PER_GROUP):
                group = pairs[start:start + ROWS_PER_GROUP]
                out.write_table(pa.Table.from_pylist([
                    {"id": p.id, "image": {"bytes": image_png(p), "path": f"{p.id}.png"},
                     "annotation": {"bytes": png_bytes(labels(p)), "path": f"{p.id}.png"}}
                    for p in group], schema=schema()))
        files[name] = path.relative_to(folder).as_posix()
    names = {str(k): n for k, n in enumerate(source.class_names)}
    (folder / "id2label.json").write_text(json.dumps(names, indent=2) + "\n")
    (folder / "README.md").write_text(_card(source, files))


def _card(source: Source, files: dict[str, str]) -> str:
    """The dataset card's YAML front matter: the features and which file is which split."""
    lines = ["---", "dataset_info:", "  features:", "  - name: id", "    dtype: string",
             "  - name: image", "    dtype: image", "  - name: annotation", "    dtype: image",
             "configs:", "- config_name: default", "  data_files:"]
    lines += [f"  - split: {name}\n    path: {path}" for name, path in files.items()]
    lines += ["---", "", f"# {source.path.name}", "",
              f"Exported by `curate export --to hf` from a curated folder of "
              f"{len(source.pairs)} pairs and {source.num_classes} classes (names in "
              "id2label.json); `annotation` holds class labels as PNG.", ""]
    return "\n".join(lines)
