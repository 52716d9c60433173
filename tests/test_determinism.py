"""The same command with the same seed twice gives byte-identical outputs."""

from __future__ import annotations

import pytest

from pathlib import Path

from typer.testing import CliRunner

from curate.cli.main import app

SAMPLE = Path(__file__).parents[1] / "curate" / "samples" / "mars300.npz"
runner = CliRunner()


def folder_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.mark.slow
def test_curate_run_twice_is_byte_identical(tmp_path):
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name / "curated"  # the folder name goes into the card's title
        result = runner.invoke(app, ["run", str(SAMPLE), "-o", str(out), "--num-classes", "5",
                                     "--class", "4", "--count", "12", "--seed", "3"])
        assert result.exit_code == 0, result.output
        outs.append(folder_bytes(out))
    a, b = outs
    assert sorted(a) == sorted(b)
    differing = [name for name in a if a[name] != b[name]]
    assert differing == []
    for required in ("manifest.csv", "dataset.json", "card.md", "report.html",
                     "reports/outliers.png",
                     "reports/augment_preview.png", "reports/split_report.csv"):
        assert required in a
    assert sum(name.startswith("images/") for name in a) == sum(
        name.startswith("masks/") for name in a)


def test_another_seed_changes_the_split(tmp_path):
    manifests = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        result = runner.invoke(app, ["split", str(SAMPLE), "-o", str(out), "--num-classes", "5",
                                     "--seed", seed])
        assert result.exit_code == 0, result.output
        manifests.append((out / "manifest.csv").read_bytes())
    assert manifests[0] != manifests[1]
