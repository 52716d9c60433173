"""Fixtures: small dataset folders written per the README contract from real Mars pairs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

REPO = Path(__file__).parents[2]
MARS300 = REPO / "curate" / "samples" / "mars300.npz"
SHARED_DATA = REPO.parent / "shared" / "data"
CLASS_NAMES = ["background", "soil", "bedrock", "sand", "big rock"]


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """Tiny models gain nothing from threads, and on shared 2-core machines threads contend."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def mars_pairs() -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 64, 128) and masks (N, 64, 128) uint8 of the bundled 300-pair sample."""
    data = np.load(MARS300)["training_set"]
    return data[:, 0], data[:, 1]


def write_dataset(root: Path, images, masks, splits, ignore_index=0) -> Path:
    """Write a dataset folder per the contract: dataset.json, manifest.csv, images/, masks/."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rows = []
    for i, (image, mask, split) in enumerate(zip(images, masks, splits)):
        pid = f"pair{i:03d}"
        Image.fromarray(image).save(root / "images" / f"{pid}.png")
        Image.fromarray(mask).save(root / "masks" / f"{pid}.png")
        rows.append({"id": pid, "image": f"images/{pid}.png", "mask": f"masks/{pid}.png",
                     "split": split, "origin": "original", "extra": "ignored"})
    pd.DataFrame(rows).to_csv(root / "manifest.csv", index=False)
    meta = {"format": "curate-dataset", "format_version": 1, "num_classes": 5,
            "class_names": CLASS_NAMES, "ignore_index": ignore_index, "history": []}
    (root / "dataset.json").write_text(json.dumps(meta))
    return root


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory, mars_pairs) -> Path:
    """24 real pairs: 12 train, 6 val, 6 test."""
    images, masks = mars_pairs
    splits = ["train"] * 12 + ["val"] * 6 + ["test"] * 6
    return write_dataset(tmp_path_factory.mktemp("ds") / "mars24", images[:24], masks[:24], splits)


@pytest.fixture
def dataset_writer():
    """The write_dataset function, for tests that plant their own defects."""
    return write_dataset


@pytest.fixture
def tiny() -> dict:
    """TrainConfig overrides for a model small enough to train in a second on one thread."""
    return dict(TINY)


TINY = dict(base_width=4, depth=2, epochs=2, batch_size=4, threads=1, spatial_dropout=0.0,
            dropout=0.0, se=True, device="cpu")


@pytest.fixture(scope="session")
def tiny_run(small_dataset, tmp_path_factory) -> Path:
    """A 1-epoch tiny run on small_dataset (5 classes, gray 64x128); treat it as read-only."""
    from segment import TrainConfig, train
    out = tmp_path_factory.mktemp("tiny_run") / "run"
    train(TrainConfig.from_dict({"data": str(small_dataset), "out": str(out), **{**TINY, "epochs": 1}}))
    return out


def file_bytes(root: Path) -> dict[str, bytes]:
    """Every file under root by relative path: compare before/after to prove nothing changed."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
