"""Every bad input from tests/bad_inputs/ through the commands: a clear message naming the
file, exit 1 only when nothing can proceed, the input tree byte-identical afterwards, and no
output (or half-written temporary folder) left behind by a failed run."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from curate.cli.main import app

CORPUS = Path(__file__).parent / "bad_inputs"
runner = CliRunner()

# case -> (exit code of `curate outliers`, words the output must contain)
CASES = {
    "bad_labels": (0, ["label_nine", "outside 0..4"]),
    "binary_0_255": (0, ["binary label map"]),
    "bomb": (0, ["huge.png", "decompression bomb"]),
    "corrupt_png": (0, ["broken.png", "cannot be decoded"]),
    "empty": (1, ["hold no image files"]),
    "extra_unpaired": (0, ["orphan_mask.png", "no image with the same file stem"]),
    "image_16bit": (0, []),
    "missing_masks": (0, ["no_mask_1.png", "no_mask_2.png", "no mask with the same"]),
    "palette_mask": (0, []),
    "rgb_mask": (0, ["colour.png", "colour (RGB) mask"]),
    "size_mismatch": (0, ["small_mask", "mask is 32x64"]),
    "truncated_jpeg": (0, ["cut.jpg", "truncated"]),
    "truncated_png": (0, ["cut.png", "truncated"]),
    "unicode names": (0, []),
    "truncated.npz": (1, ["truncated.npz", "cannot be read as an .npz"]),
    "wrong_keys.npz": (1, ["wrong_keys.npz", "holds the arrays labels, pictures", "training_set"]),
    "test_set_only.npz": (1, ["test_set_only.npz", "no masks to curate"]),
    "not_an_npz.npz": (1, ["not_an_npz.npz", "cannot be read as an .npz"]),
}


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    paths = [root] if root.is_file() else sorted(p for p in root.rglob("*"))
    for p in paths:
        h.update(str(p.relative_to(root.parent)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def case_copy(tmp_path):
    def copy(name: str) -> Path:
        source = CORPUS / name
        target = tmp_path / "in" / name
        target.parent.mkdir(exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
        return target
    return copy


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_corpus_covers_every_case():
    present = {p.name for p in CORPUS.iterdir() if p.name not in ("build.py", "__pycache__")}
    assert present == set(CASES)


# Commands that read a raw dataset and write a dataset folder: each meets every case alike.
WRITERS = {
    "outliers": ["outliers"],
    "split": ["split"],
    # 3 usable pairs cannot fill three splits and leave augment 2 training pairs: all train.
    "run": ["run", "--class", "1", "--count", "2", "--ratios", "1,0,0"],
    "augment": ["augment", "--allow-unsplit", "--class", "1", "--count", "2"],
}
# Words that only `outliers` (and `run`, which includes it) prints: the judged defects.
JUDGED = ("outside 0..4", "mask is 32x64", "label_nine", "small_mask")


@pytest.mark.parametrize("command", sorted(WRITERS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_writing_commands_on_bad_input(case, command, case_copy, tmp_path):
    expected_code, words = CASES[case]
    data = case_copy(case)
    before = tree_digest(data)
    out = tmp_path / "out"
    args = WRITERS[command]
    result = runner.invoke(app, [args[0], str(data), "-o", str(out), "--num-classes", "5",
                                 *args[1:]])
    if command in ("split", "augment"):
        words = [w for w in words if w not in JUDGED]  # read as they are; outliers judges
    text = " ".join(result.output.split())
    assert result.exit_code == expected_code, result.output
    for word in words:
        assert word in text, f"{word!r} not in: {text}"
    assert tree_digest(data) == before
    assert out.exists() == (expected_code == 0)
    assert leftovers(tmp_path) == []
    if expected_code == 1:
        assert text.startswith("Error:") or "Error:" in text


@pytest.mark.parametrize("case", sorted(CASES))
def test_stats_on_bad_input(case, case_copy):
    expected_code, words = CASES[case]
    data = case_copy(case)
    before = tree_digest(data)
    result = runner.invoke(app, ["stats", str(data), "--num-classes", "5"])
    assert result.exit_code == expected_code, result.output
    text = " ".join(result.output.split())
    for word in words:
        if word in JUDGED:
            continue  # stats counts these; only outliers judges them
        assert word in text
    assert tree_digest(data) == before


def test_skipped_files_are_listed_in_the_output(case_copy, tmp_path):
    data = case_copy("corrupt_png")
    out = tmp_path / "out"
    assert runner.invoke(app, ["outliers", str(data), "-o", str(out)]).exit_code == 0
    skipped = (out / "reports" / "skipped.csv").read_text()
    assert "images/broken.png" in skipped
    assert sorted(p.stem for p in (out / "images").iterdir()) == ["good_0", "good_1", "good_2"]


def test_16bit_image_is_scaled_to_8_bits(case_copy, tmp_path):
    data = case_copy("image_16bit")
    out = tmp_path / "out"
    assert runner.invoke(app, ["outliers", str(data), "-o", str(out)]).exit_code == 0
    sample = np.load(CORPUS.parents[1] / "curate" / "samples" / "mars300.npz")["training_set"]
    written = np.asarray(Image.open(out / "images" / "deep.png"))
    assert written.dtype == np.uint8
    assert np.array_equal(written, sample[3, 0])


def test_unicode_and_space_names_get_safe_ids(case_copy, tmp_path):
    data = case_copy("unicode names")
    out = tmp_path / "out"
    assert runner.invoke(app, ["outliers", str(data), "-o", str(out)]).exit_code == 0
    stems = sorted(p.stem for p in (out / "images").iterdir())
    assert "cratère_1" in stems and "火星_rock" in stems


def test_palette_mask_indices_are_labels(case_copy, tmp_path):
    data = case_copy("palette_mask")
    out = tmp_path / "out"
    assert runner.invoke(app, ["outliers", str(data), "-o", str(out), "--num-classes", "5",
                               "--keep", "blurry"]).exit_code == 0
    sample = np.load(CORPUS.parents[1] / "curate" / "samples" / "mars300.npz")["training_set"]
    assert np.array_equal(np.asarray(Image.open(out / "masks" / "palette.png")), sample[3, 1])


def test_failed_run_keeps_the_existing_output(case_copy, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    data = case_copy("truncated.npz")
    result = runner.invoke(app, ["outliers", str(data), "-o", str(out), "--force"])
    assert result.exit_code == 1
    assert (out / "precious.txt").read_text() == "keep me"
    assert leftovers(tmp_path) == []


def test_output_inside_input_is_refused(case_copy):
    data = case_copy("palette_mask")
    before = tree_digest(data)
    result = runner.invoke(app, ["outliers", str(data), "-o", str(data / "cleaned")])
    assert result.exit_code == 1
    assert "outside the input" in " ".join(result.output.split())
    assert tree_digest(data) == before


@pytest.mark.parametrize("case", ["corrupt_png", "truncated.npz", "empty", "bomb"])
def test_reading_commands_refuse_raw_or_broken_input(case, case_copy, tmp_path):
    data = case_copy(case)
    before = tree_digest(data)
    for args, words in (
        (["card", str(data), "-o", str(tmp_path / "card.md")], "not a curated dataset folder"),
        (["report", str(data), "-o", str(tmp_path / "r.html")], "not a curated dataset folder"),
        (["check-leakage", str(data)], "Error:"),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, result.output
        assert words in " ".join(result.output.split())
    assert tree_digest(data) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]
