"""Read a downloaded layout (VOC, Cityscapes, colour-coded, sibling folders, Hugging Face
tables; curate.io.layouts) through the same reading pass and checks as an images/ + masks/
folder: the layout finds the pairs and says what its values mean, the reader does the rest."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from curate.data.assemble import PixelFacts, build_dataset
from curate.errors import InputError
from curate.io.image_files import Problem, read_pairs, unique_ids, pixels_of
from curate.io.layouts import FoundPairs, LayoutOptions, choose, layouts
from curate.io.layouts.colours import UnknownColourError
from curate.io.pixels import lazy_budget


def read_layout(path: Path, options, scan_pairs=None):
    """The Dataset of the layout at `path` (detected, or named by options.layout);
    `scan_pairs`: the reading pass's scan of the pairs (read_pairs)."""
    found = choose(path, LayoutOptions(options.layout, options.colors, options.columns))
    if found is None:
        raise InputError(
            f"{path} is not a dataset layout curate recognises: not an .npz, not a folder "
            "with images/ and masks/ (paired by file stem), nor a dataset.json, nor one of "
            f"the downloaded layouts ({', '.join(layouts())}: see docs/your-data.md). Name "
            "one with --layout NAME if detection missed it.")
    decoded = read_pairs(found.files, lazy_budget(), found.decode_image, found.decode_mask,
                         scan_pairs)
    fatal = next((r for r in decoded if isinstance(r, UnknownColourError)), None)
    if fatal is not None:
        raise fatal
    keep = [i for i, r in enumerate(decoded) if not isinstance(r, InputError)]
    problems = list(found.problems) + [Problem(found.sources[i], str(r))
                                       for i, r in enumerate(decoded)
                                       if isinstance(r, InputError)]
    if not keep:
        details = "; ".join(f"{p.source}: {p.reason}" for p in problems[:5])
        raise InputError(f"{path}: no usable image/mask pair in the {found.name} layout. "
                         f"{details}")
    pairs = [decoded[i] for i in keep]
    images, masks = pixels_of(pairs, [found.files[i] for i in keep], found.decode_image,
                              found.decode_mask)
    facts = PixelFacts.of_pairs(pairs)
    merged = _with_layout_classes(options, found, facts.raw().present)
    dataset = build_dataset(path, images, masks, unique_ids([found.ids[i] for i in keep]),
                     [found.sources[i] for i in keep], problems, merged, facts, an2dl=False,
                     layout=found)
    return replace(dataset, notes=[found.note, *dataset.notes],
                   columns={k: [v[i] for i in keep] for k, v in found.columns.items()})


def _with_layout_classes(options, found: FoundPairs, present: list[int]):
    """The read options with the layout's label map, class count and names where the user
    gave none. A layout's void value (VOC's 255) becomes one more class after its named ones
    ('void'), which the reader then ignores in metrics."""
    names, label_map, k = found.class_names, found.label_map, found.num_classes
    if found.void is not None and options.label_map is None:
        others = [v for v in present if v != found.void]
        k = max(len(names or []), max(others, default=-1) + 1)
        names = (list(names or []) + [f"class {j}" for j in range(len(names or []), k)])[:k]
        if found.void in present:
            label_map, names, k = {found.void: k}, names + ["void"], k + 1
    if options.label_map is not None:
        label_map = options.label_map
    else:
        found.label_map = label_map   # so the reader says the map is the layout's
    num_classes = options.num_classes if options.num_classes is not None else k
    if options.class_names is not None:
        names = options.class_names
    elif names is not None and num_classes is not None and len(names) != num_classes:
        names = None   # the user's class count differs from the layout's: generic names
    return replace(options, label_map=label_map, num_classes=num_classes, class_names=names)
