"""`curate split` keeps video sequences named in the file names within one split."""

from __future__ import annotations

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from curate.cli.main import app
from curate.split.sequences import find_sequences
from planted import write_folder

runner = CliRunner()
CLIPS = ["0001TP", "0006R0", "0016E5", "Seq05VD", "seq06VD", "Seq07"]


def said(result) -> str:
    try:
        text = result.output + result.stderr
    except ValueError:  # older Click mixes stderr into output
        text = result.output
    return " ".join(text.split())


def video_folder(tmp_path, names: list[str]):
    """One pair per name: a noise picture (no two alike) and a mask of classes 0..2."""
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (24, 32), dtype=np.uint8) for _ in names]
    masks = []
    for k in range(len(names)):
        mask = np.zeros((24, 32), np.uint8)
        mask[8:] = 1
        mask[16:, : 4 + k % 20] = 2
        masks.append(mask)
    return write_folder(tmp_path / "video", images, masks, names)


def clip_names(fmt: str = "{clip}_{frame:06d}") -> list[str]:
    return [fmt.format(clip=c, frame=30 * f) for c in CLIPS for f in range(15)]


def split_of(out) -> pd.DataFrame:
    return pd.read_csv(out / "manifest.csv", dtype={"id": str})


def test_names_that_carry_clip_and_frame_are_found():
    found = find_sequences(["0001TP_006690", "0001TP_006720", "0001TP_006750",
                            "seq05VD_f00120", "seq05VD_f00150",
                            "Seq01_000123", "Seq01_000124"])
    assert found is not None and found.sizes == {"0001TP": 3, "seq05VD": 2, "Seq01": 2}
    assert find_sequences(["0001TP_006690", "Seq01_000123"]) is None  # a frame per clip
    assert find_sequences([f"Abyssinian_{k}" for k in range(10)]
                          + [f"Bengal_{k}" for k in range(10)]) is None
    assert find_sequences([f"pair_{k:05d}" for k in range(20)]) is None
    assert find_sequences([f"NLB_4577{k}EDR_F0380816NCAM00354M1" for k in range(20)]) is None


def test_split_keeps_each_sequence_in_one_split_and_says_so(tmp_path):
    data = video_folder(tmp_path, clip_names())
    out = tmp_path / "split"
    result = runner.invoke(app, ["split", str(data), "-o", str(out), "--num-classes", "3",
                                 "--ratios", "0.6,0.2,0.2"])
    assert result.exit_code == 0, said(result)
    assert "Grouped by sequence: 6 video sequences in the file names" in said(result)
    table = split_of(out)
    assert set(table["sequence"]) == set(CLIPS)
    per_clip = table.groupby("sequence")["split"].nunique()
    assert (per_clip == 1).all(), per_clip
    assert set(table["split"]) == {"train", "val", "test"}


def test_no_sequences_splits_frames_freely_and_warns(tmp_path):
    data = video_folder(tmp_path, clip_names("{clip}_f{frame:05d}"))
    out = tmp_path / "split"
    result = runner.invoke(app, ["split", str(data), "-o", str(out), "--num-classes", "3",
                                 "--no-sequences"])
    assert result.exit_code == 0, said(result)
    assert "Not grouped by sequence" in said(result) and "optimistic" in said(result)
    table = split_of(out)
    assert "sequence" not in table.columns
    clips = table["id"].str.split("_").str[0]
    assert (table.groupby(clips)["split"].nunique() > 1).any()


def test_names_without_clips_are_split_as_before(tmp_path):
    names = [f"frame{k:04d}" for k in range(40)]
    data = video_folder(tmp_path, names)
    out = tmp_path / "split"
    result = runner.invoke(app, ["split", str(data), "-o", str(out), "--num-classes", "3"])
    assert result.exit_code == 0, said(result)
    assert "sequence" not in said(result).lower()
    assert "sequence" not in split_of(out).columns
